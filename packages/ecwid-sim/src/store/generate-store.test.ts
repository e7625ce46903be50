import { expect, it } from 'vitest';
import { createSimulator } from '../create-simulator.ts';
import { get, storeId, testSimulator, token } from '../test-helpers.ts';

it('generates the same store for the same seed, and another for another seed', async () => {
  const [a, b] = [testSimulator(), testSimulator()];
  for (const path of ['/orders?limit=100&offset=100', '/products', '/customers', '/carts', '/reviews', '/profile']) {
    expect((await get(a, path)).body).toEqual((await get(b, path)).body);
  }
  const other = createSimulator({ stores: [{ storeId, token, seed: 8 }] });
  expect((await get(other, '/products')).body).not.toEqual((await get(a, '/products')).body);
});

it('keeps two stores of one simulator apart', async () => {
  const sim = createSimulator({
    stores: [
      { storeId: 1, token: 'one' },
      { storeId: 2, token: 'two', size: { products: 3 } },
    ],
  });
  expect(sim.store(1).products.size).toBe(50);
  expect(sim.store(2).products.size).toBe(3);
  expect(sim.store(1).orders.at(0)!.id).not.toBe(sim.store(2).orders.at(0)!.id);
});

it('generates 100k orders in seconds and serves the last page', async () => {
  const started = performance.now();
  const sim = createSimulator({ stores: [{ storeId, token, size: { orders: 100_000 } }] });
  expect(performance.now() - started).toBeLessThan(10_000);

  const { body } = await get(sim, '/orders?offset=99950&limit=100');
  expect(body).toMatchObject({ total: 100_000, count: 50, offset: 99_950 });
  const ids = new Set(
    sim
      .store(storeId)
      .orders.byUpdate()
      .map((order) => order.id),
  );
  expect(ids.size).toBe(100_000);
  const last = body.items.at(-1);
  const newest = await get(sim, `/orders?updatedFrom=${last.updateTimestamp}`);
  expect(newest.body.items.map((order: { id: string }) => order.id)).toContain(last.id);
}, 30_000);
