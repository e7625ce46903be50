import { describe, expect, it } from 'vitest';
import { createEcwidClient } from './create-ecwid-client.ts';
import { paginate, paginatePages } from './paginate.ts';
import { createFakeFetch, json } from './testing/fake-fetch.ts';
import { createFakeStore, makeOrders } from './testing/fake-store.ts';

function clientFor(orderCount: number) {
  const store = createFakeStore({ orders: makeOrders(orderCount) });
  const fake = createFakeFetch(store.handle);
  const client = createEcwidClient({
    baseUrl: 'https://ecwid.test/api/v3',
    storeId: 1,
    token: 't',
    fetch: fake.fetch,
  });
  return { client, calls: fake.calls };
}

describe('paginate', () => {
  it('returns every item of a many-page search exactly once', async () => {
    const { client, calls } = clientFor(1_234);
    const ids: string[] = [];
    for await (const order of paginate(client.searchOrders, { updatedFrom: 1_700_000_000 })) ids.push(order.id);

    expect(ids).toHaveLength(1_234);
    expect(new Set(ids).size).toBe(1_234);
    expect(calls).toHaveLength(13);
    expect(calls.map((c) => c.url.searchParams.get('offset'))).toEqual(Array.from({ length: 13 }, (_, i) => String(i * 100)));
    expect(calls.every((c) => c.url.searchParams.get('limit') === '100')).toBe(true);
    expect(calls.every((c) => c.url.searchParams.get('updatedFrom') === '1700000000')).toBe(true);
  });

  it('stops after one request when the store is empty', async () => {
    const { client, calls } = clientFor(0);
    const pages = [];
    for await (const p of paginatePages(client.searchOrders, {})) pages.push(p);
    expect(pages).toHaveLength(0);
    expect(calls).toHaveLength(1);
  });

  it('does not ask for a page past the total', async () => {
    const { client, calls } = clientFor(200);
    let count = 0;
    for await (const _ of paginate(client.searchOrders, {})) count++;
    expect(count).toBe(200);
    expect(calls).toHaveLength(2);
  });
});

describe('searchPromotions', () => {
  // Ecwid documents no paging for promotions, but answers with the paged envelope.
  const promotion = (id: number) => ({
    id,
    name: `Promotion ${id}`,
    enabled: true,
    discountBase: 'SUBTOTAL',
    discountType: 'PERCENT',
    amount: 5,
  });
  const all = Array.from({ length: 150 }, (_, i) => promotion(i + 1));
  const envelope = (items: unknown[], offset: number) => ({ total: all.length, count: items.length, offset, limit: 100, items });

  it('reads the rest by offset when the first answer holds fewer than its total', async () => {
    const fake = createFakeFetch(({ url }) => {
      const offset = Number(url.searchParams.get('offset') ?? 0);
      return json(envelope(all.slice(offset, offset + 100), offset));
    });
    const client = createEcwidClient({ baseUrl: 'https://ecwid.test/api/v3', storeId: 1, token: 't', fetch: fake.fetch });
    const page = await client.searchPromotions();
    expect(page.items.map((p) => p.id)).toEqual(all.map((p) => p.id));
    expect(page).toMatchObject({ total: 150, count: 150, offset: 0 });
    expect(fake.calls.map((c) => c.url.search)).toEqual(['', '?offset=100&limit=100']);
  });

  it('stops when a further page adds nothing new (offset ignored), keeping what it read', async () => {
    const fake = createFakeFetch(() => json(envelope(all.slice(0, 100), 0)));
    const client = createEcwidClient({ baseUrl: 'https://ecwid.test/api/v3', storeId: 1, token: 't', fetch: fake.fetch });
    const page = await client.searchPromotions();
    expect(page.items).toHaveLength(100);
    expect(page.total).toBe(150);
    expect(fake.calls).toHaveLength(2);
  });
});
