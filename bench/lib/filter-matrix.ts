/**
 * Every filter and sort of the orders list, one client at a time: how long a dashboard waits for
 * a page of each, on the bench's 1M orders (issue 18, point 4: "indexes for the filters
 * dashboards use … measure each"). Load runs measure one list under 32 clients; this finds the
 * combination without a fitting index, which a load run of another list never touches.
 *
 * Each combination is walked from its first page through `pages` pages by `nextCursor`, twice
 * (the first walk reads what the second finds cached); the second walk's pages are the figures.
 */
import { formatMs, formatTable } from './report.ts';

export type FilterCase = { name: string; query: string };

/** The bench's orders (api.bench.ts loadOrders): one status mix, 50,000 customers, 5% with coupon SPRING, none hidden. */
export function orderFilterCases(options: { firstCreatedMs: number; orderCount: number }): FilterCase[] {
  const at = (n: number) => new Date(options.firstCreatedMs + n * 90_000).toISOString();
  const middle = Math.floor(options.orderCount / 2);
  // A day of orders (960 at 90 s apart) and a month, from the middle of the store's history.
  const day = `createdFrom=${at(middle)}&createdTo=${at(middle + 960)}`;
  const month = `createdFrom=${at(middle)}&createdTo=${at(middle + 28_800)}`;
  const sorts = ['-createdAt', 'createdAt', '-updatedAt', '-total', 'total', 'orderId'];
  const cases: FilterCase[] = [];
  const each = (name: string, filter: string, sortList = sorts) => {
    for (const sort of sortList) cases.push({ name: `${name} ${sort}`, query: `${filter ? `${filter}&` : ''}sort=${sort}` });
  };
  each('all', '');
  each('PAID', 'paymentStatus=PAID');
  each('REFUNDED', 'paymentStatus=REFUNDED');
  each('PAID,AWAITING_PAYMENT', 'paymentStatus=PAID,AWAITING_PAYMENT', ['-createdAt', '-updatedAt']);
  each('SHIPPED', 'fulfillmentStatus=SHIPPED', ['-createdAt', '-updatedAt', '-total']);
  each('PAID+SHIPPED', 'paymentStatus=PAID&fulfillmentStatus=SHIPPED', ['-createdAt', '-updatedAt']);
  each('a day', day, ['-createdAt', '-total', '-updatedAt']);
  each('a month', month, ['-createdAt', '-total']);
  each('PAID, a month', `paymentStatus=PAID&${month}`, ['-createdAt', '-total', '-updatedAt']);
  each('updated since', `updatedFrom=${at(options.orderCount - 2_000)}`, ['-updatedAt', '-createdAt']);
  each('email', 'email=customer777@example.com', ['-createdAt', '-total']);
  each('customerId', 'customerId=10000777', ['-createdAt', '-updatedAt']);
  each('coupon SPRING', 'couponCode=SPRING', ['-createdAt', '-total']);
  each('coupon SPRING, a month', `couponCode=SPRING&${month}`, ['-createdAt']);
  each('hidden', 'hidden=true', ['-createdAt']);
  return cases;
}

export type FilterTiming = { name: string; pages: number; rows: number; firstMs: number; p50Ms: number; maxMs: number };

export async function measureFilters(options: {
  baseUrl: string;
  key: string;
  cases: FilterCase[];
  pages: number;
  limit: number;
}): Promise<FilterTiming[]> {
  const headers = { authorization: `Bearer ${options.key}` };
  const walk = async (query: string) => {
    const times: number[] = [];
    let rows = 0;
    let cursor: string | undefined;
    for (let page = 0; page < options.pages; page++) {
      const url = `${options.baseUrl}?${query}&limit=${options.limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const started = performance.now();
      const res = await fetch(url, { headers });
      const body = (await res.json()) as { data?: unknown[]; nextCursor?: string | null };
      times.push(performance.now() - started);
      if (res.status !== 200) throw new Error(`${query}: answered ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      rows += body.data?.length ?? 0;
      if (!body.nextCursor) break;
      cursor = body.nextCursor;
    }
    return { times, rows };
  };
  const timings: FilterTiming[] = [];
  for (const { name, query } of options.cases) {
    await walk(query);
    const { times, rows } = await walk(query);
    const sorted = [...times].sort((a, b) => a - b);
    timings.push({
      name,
      pages: times.length,
      rows,
      firstMs: times[0]!,
      p50Ms: sorted[sorted.length >> 1]!,
      maxMs: sorted.at(-1)!,
    });
  }
  return timings;
}

export function formatFilterTimings(timings: FilterTiming[], slowMs: number): string {
  return formatTable(
    ['orders list (one client)', 'pages', 'rows', 'first ms', 'p50 ms', 'max ms', ''],
    timings.map((t) => [
      t.name,
      String(t.pages),
      String(t.rows),
      formatMs(t.firstMs),
      formatMs(t.p50Ms),
      formatMs(t.maxMs),
      t.maxMs > slowMs ? 'SLOW' : '',
    ]),
  );
}
