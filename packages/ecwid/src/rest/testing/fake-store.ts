import { loadFixture } from './fixtures.ts';
import { json, type RecordedRequest } from './fake-fetch.ts';

type Doc = Record<string, unknown>;

/** Documents built from the documented examples, with ids changed. */
export function makeOrders(count: number): Doc[] {
  return Array.from({ length: count }, (_, i) => ({
    ...(loadFixture('order.json') as Doc),
    id: `ORD${i}`,
    internalId: 1_000 + i,
    orderNumber: 1_000 + i,
  }));
}

/** Products with ids 1…count. */
export function makeProducts(count: number): Doc[] {
  return Array.from({ length: count }, (_, i) => ({
    ...(loadFixture('product.json') as Doc),
    id: i + 1,
  }));
}

function page(items: Doc[], url: URL): Response {
  const offset = Number(url.searchParams.get('offset') ?? 0);
  const limit = Math.min(100, Number(url.searchParams.get('limit') ?? 100));
  const slice = items.slice(offset, offset + limit);
  return json({ total: items.length, count: slice.length, offset, limit, items: slice });
}

/**
 * Just enough of Ecwid's search and batch behaviour for unit tests of paging and bulk reads:
 * `ids` / `productId` filters, offset paging, and batches that complete on the second poll.
 */
export function createFakeStore(data: { orders?: Doc[]; products?: Doc[]; customers?: Doc[] }) {
  const { orders = [], products = [], customers = [] } = data;
  const batches = new Map<string, { requests: { id: string; path: string }[]; polls: number }>();

  function get(path: string, url: URL): Response {
    if (path === '/orders') {
      const ids = url.searchParams.get('ids')?.split(',');
      const matches = ids ? orders.filter((o) => ids.includes(String(o['id'])) || ids.includes(String(o['internalId']))) : orders;
      return page(matches, url);
    }
    if (path === '/products') {
      const ids = url.searchParams.get('productId')?.split(',').map(Number);
      return page(ids ? products.filter((p) => ids.includes(p['id'] as number)) : products, url);
    }
    const customer = /^\/customers\/(\d+)$/.exec(path);
    if (customer) {
      const found = customers.find((c) => String(c['id']) === customer[1]);
      return found ? json(found) : json({ errorCode: 'CUSTOMER_NOT_FOUND' }, 404);
    }
    return json({ errorCode: 'NOT_FOUND_IN_FAKE' }, 404);
  }

  async function handle(request: RecordedRequest): Promise<Response> {
    const path = request.url.pathname.replace(/^\/api\/v3\/\d+/, '');
    if (path === '/batch' && request.method === 'POST') {
      const ticket = `ticket-${batches.size + 1}`;
      batches.set(ticket, { requests: request.body as { id: string; path: string }[], polls: 0 });
      return json({ ticket });
    }
    if (path === '/batch') {
      const batch = batches.get(request.url.searchParams.get('ticket') ?? '');
      if (!batch) return json({ errorCode: 'BATCH_NOT_FOUND' }, 404);
      batch.polls += 1;
      if (batch.polls < 2)
        return json({
          status: 'IN_PROGRESS',
          totalRequests: batch.requests.length,
          completedRequests: 0,
        });
      const responses = await Promise.all(
        batch.requests.map(async (sub) => {
          const response = get(sub.path.split('?')[0]!, new URL(`https://x${sub.path}`));
          return {
            id: sub.id,
            status: response.ok ? 'COMPLETED' : 'FAILED',
            httpStatusCode: response.status,
            escapedHttpBody: await response.text(),
          };
        }),
      );
      return json({
        status: 'COMPLETED',
        totalRequests: responses.length,
        completedRequests: responses.length,
        responses,
      });
    }
    return get(path, request.url);
  }

  return { handle, batches };
}
