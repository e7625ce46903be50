import { describe, expect, it } from 'vitest';
import { createEcwidClient } from './create-ecwid-client.ts';
import { createFakeClock, createFakeFetch } from './testing/fake-fetch.ts';
import { createFakeStore, makeOrders, makeProducts } from './testing/fake-store.ts';

function setup(data: Parameters<typeof createFakeStore>[0]) {
  const store = createFakeStore(data);
  const fake = createFakeFetch(store.handle);
  const clock = createFakeClock();
  const client = createEcwidClient({
    baseUrl: 'https://ecwid.test/api/v3',
    storeId: 1,
    token: 't',
    fetch: fake.fetch,
    sleep: clock.sleep,
    now: clock.now,
  });
  return { client, calls: fake.calls, clock };
}

describe('bulk reads by id', () => {
  it('fetches orders by id 100 per request and names the ids not found', async () => {
    const { client, calls } = setup({ orders: makeOrders(300) });
    const wanted = [...Array.from({ length: 250 }, (_, i) => `ORD${i}`), 'GONE1', '1299', 'ORD3'];
    const { found, missing } = await client.fetchOrdersByIds(wanted);

    expect(found.map((o) => o.id).sort()).toEqual([...Array.from({ length: 250 }, (_, i) => `ORD${i}`), 'ORD299'].sort());
    expect(missing).toEqual(['GONE1']);
    expect(calls).toHaveLength(3);
    expect(calls[0]!.url.searchParams.get('ids')!.split(',')).toHaveLength(100);
  });

  it('fetches products by id through the productId list', async () => {
    const { client, calls } = setup({ products: makeProducts(150) });
    const { found, missing } = await client.fetchProductsByIds([1, 2, 150, 151, 2]);
    expect(found.map((p) => p.id)).toEqual([1, 2, 150]);
    expect(missing).toEqual([151]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url.searchParams.get('productId')).toBe('1,2,150,151');
  });
});
