/**
 * How fast can one token refresh changed entities? Refreshes 10,000 changed products and
 * 10,000 changed orders from the simulator over HTTP, under a per-token limit, one request
 * per entity versus the bulk paths (searches by 100 ids, batches of 500 GETs).
 *
 *   pnpm exec tsx bench/fetch.bench.ts
 *
 * The limit defaults to Ecwid's 600/min (FETCH_BENCH_LIMIT to change it). Both paths run at
 * steady state: the limiter enforces the per-minute rate over a 6 s window (60 per 6 s), so
 * a run spans several windows instead of measuring one window's burst. The one-by-one path
 * is sampled (FETCH_BENCH_SAMPLE_S, default 30 s) and its rate extrapolated per minute.
 * At much higher limits the bulk path stops being limit bound and measures the simulator's
 * CPU instead (it renders ~470 KB per 100 orders in this same process).
 */
import { createEcwidClient, createRateLimiterRegistry, type EcwidClient } from '@mirror/ecwid';
import { createSimulator } from '@mirror/ecwid-sim';

const perMinute = Number(process.env['FETCH_BENCH_LIMIT'] ?? 600);
const windowMs = 6_000;
const changedProducts = 10_000;
const changedOrders = 10_000;
const callers = 50;
const sampleMs = Number(process.env['FETCH_BENCH_SAMPLE_S'] ?? 30) * 1_000;
const store = { storeId: 4242, token: 'secret_bench' };

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const sim = createSimulator({
    stores: [{ ...store, size: { products: changedProducts, orders: changedOrders } }],
    rateLimitPerMinute: perMinute,
    batchDelayMs: 0,
  });
  const server = await sim.listen();
  const data = sim.store(store.storeId);
  const productIds = data.products.values().map((p) => p.id);
  const orderIds = data.orders.values().map((o) => o.id);

  // One budget for the token across every path, as in the mirror; each path starts once the
  // previous one's requests have left the window, so it is measured from an idle token.
  const limiters = createRateLimiterRegistry({
    perMinute: (perMinute * windowMs) / 60_000,
    windowMs,
  });
  const client = createEcwidClient({ baseUrl: server.url, ...store, limiter: limiters });
  const idle = () => new Promise((resolve) => setTimeout(resolve, windowMs * 1.1));
  const perToken = () => sim.stats.requests(store.token);
  let peakPerMinute = 0;
  const endPhase = () => {
    peakPerMinute = Math.max(peakPerMinute, sim.stats.maxInAnyWindow(store.token));
    sim.stats.reset();
  };

  console.log(
    `fetch benchmark: ${fmt(changedProducts)} changed products + ${fmt(changedOrders)} changed orders, ` +
      `limit ${fmt(perMinute)} requests/min per token`,
  );

  const single = await oneByOne(client, productIds, orderIds);
  const singleRequests = perToken();
  endPhase();
  const singleRate = single.entities / (single.ms / 60_000);
  console.log(
    `one-by-one (${callers} callers, sampled ${(single.ms / 1000).toFixed(1)} s of ` +
      `${fmt(changedProducts + changedOrders)}): ${fmt(single.entities)} entities in ${fmt(singleRequests)} requests ` +
      `→ ${fmt(singleRate)} entities/min/token (extrapolated from the sample)`,
  );

  await idle();
  let started = performance.now();
  const [products, orders] = await Promise.all([client.fetchProductsByIds(productIds), client.fetchOrdersByIds(orderIds)]);
  const bulkMs = performance.now() - started;
  const bulkEntities = products.found.length + orders.found.length;
  const bulkRate = bulkEntities / (bulkMs / 60_000);
  console.log(
    `bulk search by ids (100 per request): ${fmt(bulkEntities)} entities in ${fmt(perToken())} requests, ` +
      `${(bulkMs / 1000).toFixed(2)} s → ${fmt(bulkRate)} entities/min/token` +
      ` (missing: ${products.missing.length + orders.missing.length})`,
  );

  endPhase();
  await idle();
  started = performance.now();
  const batched = await client.fetchByBatch('order', orderIds, { concurrency: 2 });
  const batchMs = performance.now() - started;
  console.log(
    `batch API (500 GETs per batch, orders only): ${fmt(batched.found.length)} entities in ` +
      `${fmt(perToken())} requests, ${(batchMs / 1000).toFixed(2)} s → ` +
      `${fmt(batched.found.length / (batchMs / 60_000))} entities/min/token`,
  );

  endPhase();
  console.log(`ratio bulk / one-by-one: ${(bulkRate / singleRate).toFixed(0)}× (target ≥ 30×)`);
  console.log(`peak requests of one path in any 60 s window (simulator's count): ${fmt(peakPerMinute)}`);
  const pauses = Object.values(limiters.stats()).reduce((sum, s) => sum + s.pauses, 0);
  console.log(`429 answers from the simulator: ${pauses}`);
  await server.close();
}

/** Refreshes products and orders one request each from a shared queue until the sample ends. */
async function oneByOne(client: EcwidClient, productIds: number[], orderIds: string[]) {
  const work: (() => Promise<unknown>)[] = [];
  for (let i = 0; i < Math.max(productIds.length, orderIds.length); i++) {
    const productId = productIds[i];
    const orderId = orderIds[i];
    if (productId !== undefined) work.push(() => client.getProduct(productId));
    if (orderId !== undefined) work.push(() => client.getOrder(orderId));
  }
  const started = performance.now();
  const deadline = started + sampleMs;
  let next = 0;
  let entities = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < work.length && performance.now() < deadline) {
        const result = (await work[next++]!()) as { status: string };
        // Only refreshes that finished inside the sample count.
        if (result.status === 'ok' && performance.now() <= deadline) entities++;
      }
    }),
  );
  return { entities, ms: Math.min(performance.now(), deadline) - started };
}

await main();
