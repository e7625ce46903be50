// The REST client against the simulator over real HTTP: lives beside the simulator because
// it depends on the client package (the reverse dependency would make a cycle).
import { afterEach, describe, expect, it } from 'vitest';
import {
  createEcwidClient,
  createRateLimiter,
  createRateLimiterRegistry,
  EcwidStoreError,
  paginate,
  type EcwidClientOptions,
} from '@mirror/ecwid';
import { createSimulator, type Simulator } from './create-simulator.ts';

// Time runs `scale`× faster for the simulator and the client alike: a 60 s rate window lasts
// 3 s of wall time, so minute-scale limits and Retry-After are tested in seconds.
const scale = 20;
const startedAt = Date.now();
const now = () => startedAt + (Date.now() - startedAt) * scale;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms / scale));

const storeA = { storeId: 1001, token: 'secret_store_a' };
const storeB = { storeId: 1002, token: 'secret_store_b' };

let closeServer: (() => Promise<void>) | undefined;
afterEach(async () => {
  await closeServer?.();
  closeServer = undefined;
});

async function start(options: Partial<Parameters<typeof createSimulator>[0]> = {}) {
  const sim = createSimulator({ stores: [storeA, storeB], now, batchDelayMs: 20, ...options });
  const server = await sim.listen();
  closeServer = server.close;
  const client = (store: typeof storeA, extra: Partial<EcwidClientOptions> = {}) =>
    createEcwidClient({ baseUrl: server.url, ...store, sleep, now, ...extra });
  return { sim, client };
}

function maxWindowOf(sim: Simulator, token: string) {
  return sim.stats.maxInAnyWindow(token, 60_000);
}

describe('Ecwid client against the simulator', () => {
  it('keeps 50 concurrent callers of one token under the limit, without slowing another token', async () => {
    const { sim, client } = await start({ rateLimitPerMinute: 120 });
    const limiters = createRateLimiterRegistry({ perMinute: 120, now, sleep });
    const productIds = sim
      .store(storeA.storeId)
      .products.values()
      .map((p) => p.id);

    const busy = Promise.all(
      Array.from({ length: 50 }, async (_, caller) => {
        const api = client(storeA, { limiter: limiters });
        for (let i = 0; i < 5; i++) {
          const result = await api.getProduct(productIds[(caller * 5 + i) % productIds.length]!);
          expect(result.status).toBe('ok');
        }
      }),
    );
    // Once token A is queueing, token B must still go straight through.
    while ((limiters.stats()[Object.keys(limiters.stats())[0]!]?.queued ?? 0) === 0) await sleep(50);
    const other = client(storeB, { limiter: limiters });
    const bStarted = Date.now();
    for (let i = 0; i < 10; i++) await other.getProfile();
    const bWallMs = Date.now() - bStarted;
    await busy;

    expect(sim.stats.requests(storeA.token)).toBe(250);
    expect(maxWindowOf(sim, storeA.token)).toBeLessThanOrEqual(120);
    expect(maxWindowOf(sim, storeA.token)).toBeGreaterThanOrEqual(100);
    expect(sim.stats.requests(storeB.token)).toBe(10);
    expect(bWallMs).toBeLessThan(1_000);
  });

  it('honours Retry-After when the simulator refuses requests, then succeeds', async () => {
    const { sim, client } = await start({ rateLimitPerMinute: 30 });
    // A limiter far above the simulator's limit, so the simulator answers 429.
    const limiter = createRateLimiter({ perMinute: 10_000, now, sleep });
    const api = client(storeA, { limiter });
    const ids = sim
      .store(storeA.storeId)
      .products.values()
      .map((p) => p.id)
      .slice(0, 40);

    const results = await Promise.all(ids.map((id) => api.getProduct(id)));

    expect(results.every((r) => r.status === 'ok')).toBe(true);
    expect(limiter.stats().pauses).toBeGreaterThan(0);
    expect(sim.stats.requests(storeA.token)).toBeGreaterThan(40);
    expect(maxWindowOf(sim, storeA.token)).toBeGreaterThan(30);
  });

  it('waits out a blocked token for the Retry-After it was given', async () => {
    const { sim, client } = await start();
    const api = client(storeA);
    sim.setFaults({ rateLimitBurst: true });
    const from = now();
    const pending = api.getProfile();
    await sleep(2_000);
    sim.setFaults({ rateLimitBurst: false });

    await expect(pending).resolves.toMatchObject({ generalInfo: { storeId: storeA.storeId } });
    // The simulator's burst answers Retry-After: 10.
    expect(now() - from).toBeGreaterThanOrEqual(10_000);
    expect(sim.stats.requests(storeA.token)).toBe(2);
  });

  it('types a missing entity as gone and a wrong token as a store error', async () => {
    const { client } = await start();
    const api = client(storeA);
    expect(await api.getProduct(987_654_321)).toEqual({
      status: 'gone',
      errorCode: 'PRODUCT_NOT_FOUND',
    });
    expect(await api.getOrder('NOSUCH')).toEqual({ status: 'gone', errorCode: 'ORDER_NOT_FOUND' });
    const wrongToken = client({ storeId: storeA.storeId, token: 'secret_wrong' });
    await expect(wrongToken.getProfile()).rejects.toBeInstanceOf(EcwidStoreError);
    await expect(wrongToken.getProfile()).rejects.toMatchObject({ code: 'TOKEN' });
  });

  it('pages through every order exactly once', async () => {
    const { sim, client } = await start();
    const expected = sim
      .store(storeA.storeId)
      .orders.values()
      .map((o) => o.id)
      .sort();
    const seen: string[] = [];
    for await (const order of paginate(client(storeA).searchOrders, {})) seen.push(order.id);
    expect(seen.sort()).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('refreshes orders and products in bulk, naming the ids that are gone', async () => {
    const { sim, client } = await start();
    const api = client(storeA);
    const store = sim.store(storeA.storeId);
    const orderIds = store.orders.values().map((o) => o.id);
    const productIds = store.products.values().map((p) => p.id);

    const orders = await api.fetchOrdersByIds([...orderIds, 'GONE1']);
    expect(orders.found.map((o) => o.id).sort()).toEqual([...orderIds].sort());
    expect(orders.missing).toEqual(['GONE1']);

    const products = await api.fetchProductsByIds([...productIds, 999_999_999]);
    expect(products.found.map((p) => p.id).sort()).toEqual([...productIds].sort());
    expect(products.missing).toEqual([999_999_999]);
    // One search per 100 ids, not one request per entity.
    expect(sim.stats.requests(storeA.token)).toBe(Math.ceil((orderIds.length + 1) / 100) + Math.ceil((productIds.length + 1) / 100));
  });

  it('reads entities without an id filter through a batch, polled to completion', async () => {
    const { sim, client } = await start();
    const customerIds = sim
      .store(storeA.storeId)
      .customers.values()
      .map((c) => c.id);
    const result = await client(storeA).fetchByBatch('customer', [...customerIds, 987_654_321]);
    expect(result.found.map((f) => f.value.id).sort()).toEqual([...customerIds].sort());
    expect(result.missing).toEqual([987_654_321]);
    expect(result.failed).toEqual([]);
    expect(sim.stats.byPath()['POST /batch']).toBe(1);
  });

  it('validates every entity family the simulator serves', async () => {
    const { sim, client } = await start();
    const api = client(storeA);
    const store = sim.store(storeA.storeId);
    const count = async <T>(items: AsyncIterable<T>) => {
      let n = 0;
      for await (const _ of items) n++;
      return n;
    };
    expect(await count(paginate(api.searchProducts, { sortBy: 'UPDATED_TIME_ASC' }))).toBe(store.products.values().length);
    expect(await count(paginate(api.searchCategories, {}))).toBe(store.categories.values().length);
    expect(await count(paginate(api.searchCustomers, {}))).toBe(store.customers.values().length);
    expect(await count(paginate(api.searchCustomerGroups, {}))).toBeGreaterThan(0);
    expect(await count(paginate(api.searchDiscountCoupons, {}))).toBe(store.coupons.values().length);
    expect(await count(paginate(api.searchReviews, {}))).toBe(store.reviews.values().length);
    expect(await count(paginate(api.searchCarts, { showHidden: true }))).toBe(store.carts.values().length);
    expect((await api.searchPromotions()).items).toHaveLength(store.promotions.values().length);
    expect(await api.listProductTypes()).toHaveLength(store.productTypes.values().length);
    const firstOrder = store.orders.values()[0]!;
    expect(await api.getOrderInvoices(firstOrder.id)).toMatchObject({ status: 'ok' });
    await expect(api.getApplication()).resolves.toBeDefined();
    await expect(api.getStorage()).resolves.toBeInstanceOf(Array);
    await expect(api.getLatestStats()).resolves.toBeDefined();
    await expect(api.getDeleted('orders')).resolves.toMatchObject({ offset: 0 });
    await expect(api.getDeleted('coupons')).resolves.toMatchObject({ offset: 0 });
  });

  it('reads every promotion of a store with more than one page of them', async () => {
    const { sim, client } = await start({ stores: [{ ...storeA, size: { promotions: 150 } }] });
    const page = await client(storeA).searchPromotions();
    const ids = sim
      .store(storeA.storeId)
      .promotions.values()
      .map((p) => p.id);
    expect(ids).toHaveLength(150);
    expect(page.items.map((p) => p.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
  });
});
