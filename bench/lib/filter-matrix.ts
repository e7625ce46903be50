/**
 * Every filter and sort of the orders, products and customers lists, one client at a time: how
 * long a dashboard waits for a page of each, on the bench's 1M orders, 100,000 products and
 * 200,000 customers (issue 18, point 4: "indexes for the filters dashboards use … measure each";
 * decision 0025). Load runs measure one list under 32 clients; this finds the combination without
 * a fitting index, which a load run of another list never touches.
 *
 * Each combination is walked from its first page through `pages` pages by `nextCursor`, twice
 * (the first walk reads what the second finds cached); the second walk's pages are the figures.
 */
import { renderStatementText } from '@mirror/catalog';
import { execRows } from '@mirror/db';
import { sql } from 'drizzle-orm';
import type { BenchDatabase } from './bench-database.ts';
import { formatMs, formatTable } from './report.ts';

export type FilterCase = { name: string; collection: string; query: string };

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
    for (const sort of sortList)
      cases.push({ name: `${name} ${sort}`, collection: 'orders', query: `${filter ? `${filter}&` : ''}sort=${sort}` });
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

/** A big catalogue and customer base beside the orders: 100,000 products, 200,000 customers. */
export const catalogueSize = { products: 100_000, customers: 200_000 };

/**
 * Loads the products and customers of `--filters` into the store once (a reused database keeps
 * them): product types 1–20, 5% disabled, 10% out of stock, prices 1–1,000, five years of
 * creation times; customers in groups 1–6 (about 16.5% each) and 7 (1%).
 */
export async function loadCatalogue(database: BenchDatabase, storeId: number): Promise<boolean> {
  const [found] = await execRows<{ n: number }>(database.db, sql`select count(*)::int as n from products where store_id = ${storeId}`);
  if (found?.n === catalogueSize.products) return false;
  await database.db.transaction(async (tx) => {
    await tx.execute(sql`set local synchronous_commit = off`);
    await tx.execute(sql`delete from products_rendered where store_id = ${storeId}`);
    await tx.execute(sql`delete from products where store_id = ${storeId}`);
    await tx.execute(sql`delete from customers where store_id = ${storeId}`);
    await tx.execute(sql`
      insert into products (store_id, product_id, sku, name, price, quantity, unlimited, in_stock, enabled, product_type_id,
        created_at, updated_at, doc, source_position, synced_at)
      select ${storeId}, 800000000 + g, 'P-' || g, 'Product ' || md5(g::text), round((1 + (g * 7919) % 99900 / 100.0)::numeric, 2),
        case when g % 10 = 0 then 0 else 5 end, false, g % 10 <> 0, g % 20 <> 0, 1 + g % 20,
        timestamptz '2021-01-01 00:00:00+00' + g * interval '26 minutes', timestamptz '2021-01-01 00:00:00+00' + g * interval '26 minutes' + interval '1 day',
        jsonb_build_object('id', 800000000 + g, 'sku', 'P-' || g, 'name', 'Product ' || md5(g::text), 'description', repeat('A fine product. ', 20)),
        g, now()
      from generate_series(1, ${catalogueSize.products}::int) g`);
    await tx.execute(sql`
      insert into customers (store_id, customer_id, email, name, customer_group_id, created_at, updated_at, doc, source_position, synced_at)
      select ${storeId}, 20000000 + g, 'person' || g || '@example.com', 'Person ' || g,
        case when g % 100 = 0 then 7 else 1 + g % 6 end,
        timestamptz '2021-01-01 00:00:00+00' + g * interval '13 minutes', timestamptz '2021-01-01 00:00:00+00' + g * interval '13 minutes' + interval '1 hour',
        jsonb_build_object('id', 20000000 + g, 'email', 'person' || g || '@example.com', 'name', 'Person ' || g),
        g, now()
      from generate_series(1, ${catalogueSize.customers}::int) g`);
    await tx.execute(sql.raw(renderStatementText('product', 'public', `products.store_id = ${Number(storeId)}`)));
  });
  await database.db.execute(sql`vacuum (analyze) products`);
  await database.db.execute(sql`vacuum (analyze) products_rendered`);
  await database.db.execute(sql`vacuum (analyze) customers`);
  return true;
}

/** The products' and customers' lists, each filter with the sorts a catalogue or CRM screen uses. */
export function catalogueFilterCases(): FilterCase[] {
  const cases: FilterCase[] = [];
  const at = (minutes: number) => new Date(Date.UTC(2021, 0, 1) + minutes * 60_000).toISOString();
  const productSorts = ['-updatedAt', '-createdAt', 'price', '-price', 'name', 'productId'];
  const customerSorts = ['-createdAt', '-updatedAt', 'customerId'];
  const each = (collection: string, name: string, filter: string, sorts: string[]) => {
    for (const sort of sorts)
      cases.push({ name: `${collection}: ${name} ${sort}`, collection, query: `${filter ? `${filter}&` : ''}sort=${sort}` });
  };
  each('products', 'all', '', productSorts);
  each('products', 'disabled', 'enabled=false', productSorts);
  each('products', 'out of stock', 'inStock=false', ['-updatedAt', 'name', 'price']);
  each('products', 'a type', 'productTypeId=7', ['-updatedAt', 'name', 'price']);
  each('products', 'a sku', 'sku=P-77777', ['-updatedAt']);
  each('products', 'a month', `createdFrom=${at(26 * 50_000)}&createdTo=${at(26 * 51_660)}`, ['-createdAt', 'name', 'price']);
  each('products', 'updated since', `updatedFrom=${at(26 * 99_000)}`, ['-updatedAt', 'name']);
  each('customers', 'all', '', customerSorts);
  each('customers', 'an email', 'email=person777@example.com', ['-createdAt']);
  each('customers', 'a small group', 'customerGroupId=7', customerSorts);
  each('customers', 'a large group', 'customerGroupId=3', customerSorts);
  each('customers', 'a month', `createdFrom=${at(13 * 100_000)}&createdTo=${at(13 * 103_320)}`, customerSorts);
  return cases;
}

export type FilterTiming = { name: string; pages: number; rows: number; firstMs: number; p50Ms: number; maxMs: number };

export async function measureFilters(options: {
  /** `…/v1/stores/<id>`: each case's collection is added. */
  baseUrl: string;
  key: string;
  cases: FilterCase[];
  pages: number;
  limit: number;
}): Promise<FilterTiming[]> {
  const headers = { authorization: `Bearer ${options.key}` };
  const walk = async (collection: string, query: string) => {
    const times: number[] = [];
    let rows = 0;
    let cursor: string | undefined;
    for (let page = 0; page < options.pages; page++) {
      const url = `${options.baseUrl}/${collection}?${query}&limit=${options.limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
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
  for (const { name, collection, query } of options.cases) {
    await walk(collection, query);
    const { times, rows } = await walk(collection, query);
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
    ['list (one client)', 'pages', 'rows', 'first ms', 'p50 ms', 'max ms', ''],
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
