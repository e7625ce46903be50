import { describe, expect, it } from 'vitest';
import { createEcwidClient } from './create-ecwid-client.ts';
import { paginate, paginatePages } from './paginate.ts';
import { createFakeFetch } from './testing/fake-fetch.ts';
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
