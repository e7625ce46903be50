/**
 * How many requests does reconcile spend, against the fewest the listings need for the same
 * work? A simulated store of ≥100k entities across every kind is backfilled into a fresh
 * database; then 1% of its entities change and 0.2% are deleted without a webhook. An
 * incremental reconcile and then a full one repair it (each is checked: mirror verify finds
 * nothing afterwards). For each it prints the requests used, the minimum pages the listings need
 * (their pages at 100 items: changed or deleted items for an incremental run, every item for a
 * full one, plus the small kinds and the store's documents), the ratio, and the wall time the
 * requests would take at Ecwid's 600 requests a minute. Targets: requests ≤ 1.5× the minimum;
 * the incremental run ≤ 5% of the full one's requests.
 *
 *   pnpm bench:reconcile [--scale 1] [--keep]
 *
 * `--scale 0.1` runs a tenth of the store (a quick look; the targets are judged at 1). Postgres
 * from BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test;
 * the database `mirror_bench_reconcile_<random>` is created there and dropped at the end.
 */
import { kindName } from '@mirror/catalog';
import { createEcwidClient, createRateLimiter } from '@mirror/ecwid';
import { createRandom, createSimulator } from '@mirror/ecwid-sim';
import { backfill, createClientFactory, projectBatch, reconcile, type KindReport } from '@mirror/projector';
import { createBenchDatabase } from './lib/bench-database.ts';
import { benchAdminUrl, benchLifecycle } from './lib/lifecycle.ts';
import { benchArgs, usageError } from './lib/args.ts';

const { values: args } = benchArgs({ options: { scale: { type: 'string', default: '1' }, keep: { type: 'boolean', default: false } } });
const scale = Number(args.scale);
if (!(scale > 0)) usageError(`--scale must be a positive number, got ${args.scale}`);

const storeId = 4401;
const token = 'secret_bench_reconcile';
const size = (n: number) => Math.max(1, Math.round(n * scale));
// ≥100k entities at scale 1, mostly orders, products and customers, as in a real shop.
const storeSize = {
  orders: size(42_000),
  products: size(20_000),
  customers: size(20_000),
  carts: size(10_500),
  reviews: size(5_000),
  coupons: size(2_000),
  categories: size(500),
  promotions: size(200),
  customerGroups: size(50),
  productTypes: size(50),
};

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const pages = (n: number) => Math.ceil(n / 100);

const bench = benchLifecycle('reconcile benchmark');

async function main(): Promise<number> {
  const sim = createSimulator({ stores: [{ storeId, token, seed: 44, size: storeSize }], rateLimitPerMinute: 10_000_000, batchDelayMs: 0 });
  const server = await sim.listen(0);
  bench.onCleanup(() => server.close());
  const database = await createBenchDatabase(benchAdminUrl, { prefix: 'mirror_bench_reconcile', maxConnections: 4 });
  bench.onCleanup(() => (args.keep ? database.close() : database.drop()));
  const db = database.db;
  const store = sim.store(storeId);
  const counts = {
    order: store.orders.size,
    product: store.products.size,
    customer: store.customers.size,
    abandoned_cart: store.carts.size,
    review: store.reviews.size,
    discount_coupon: store.coupons.size,
    category: store.categories.size,
    promotion: store.promotions.size,
    customer_group: store.customerGroups.size,
    product_type: store.productTypes.size,
  };
  const entities = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log(`reconcile benchmark — a store of ${fmt(entities)} entities (scale ${scale}); database ${database.name}`);

  const loadStarted = Date.now();
  await backfill({ db, storeId, client: createClientFactory({ baseUrl: server.url, ratePerMinute: 10_000_000 })(storeId, token) });
  while ((await projectBatch(db, { limit: 20_000 })) > 0);
  console.log(`mirror loaded (backfill and projection) in ${((Date.now() - loadStarted) / 1000).toFixed(1)} s`);

  // 1% changed and 0.2% deleted, without a webhook, spread over the kinds in proportion.
  // Seeded, so every run changes the same entities.
  const random = createRandom(7);
  const pick = <T>(values: readonly T[], n: number) => [...values].sort(() => random() - 0.5).slice(0, n);
  const changed = new Map<string, number>();
  const deleted = new Map<string, number>();
  const tables = [
    ['order', 'orders', (o: { internalId: number }) => o.internalId],
    ['product', 'products', (p: { id: number }) => p.id],
    ['customer', 'customers', (c: { id: number }) => c.id],
    ['abandoned_cart', 'carts', (c: { cartId: string }) => c.cartId],
    ['review', 'reviews', (r: { id: number }) => r.id],
    ['discount_coupon', 'coupons', (c: { id: number }) => c.id],
    ['category', 'categories', (c: { id: number }) => c.id],
    ['promotion', 'promotions', (p: { id: number }) => p.id],
  ] as const;
  for (const [kind, table, key] of tables) {
    const values = (store.table(table) as { values(): unknown[] }).values();
    const toDelete = pick(values, Math.round(values.length * 0.002));
    const toChange = pick(
      values.filter((v) => !toDelete.includes(v)),
      Math.round(values.length * 0.01),
    );
    for (const doc of toChange) {
      store.update(table, (key as (d: unknown) => never)(doc), (d: Record<string, unknown>) => void (d['benchMark'] = 'changed'));
    }
    for (const doc of toDelete) store.remove(table, (key as (d: unknown) => never)(doc));
    changed.set(kind, toChange.length);
    deleted.set(kind, toDelete.length);
  }
  const changedTotal = [...changed.values()].reduce((a, b) => a + b, 0);
  const deletedTotal = [...deleted.values()].reduce((a, b) => a + b, 0);
  console.log(`changed ${fmt(changedTotal)} entities and deleted ${fmt(deletedTotal)} without a webhook`);

  /** A client of the store that counts its requests (the figure judged), never held back by a limit. */
  const countingClient = () => {
    let requests = 0;
    const client = createEcwidClient({
      baseUrl: server.url,
      storeId,
      token,
      limiter: createRateLimiter({ perMinute: 10_000_000 }),
      onAttempt: () => void requests++,
    });
    return { client, requestCount: () => requests };
  };
  const run = async (mode: 'incremental' | 'full') => {
    const counting = countingClient();
    const started = Date.now();
    const reports = await reconcile({ db, storeId, ...counting, mode, trigger: 'cli' });
    const requests = counting.requestCount();
    const seconds = (Date.now() - started) / 1000;
    while ((await projectBatch(db, { limit: 20_000 })) > 0);
    return { reports, requests, seconds };
  };
  const verifyClean = async () => {
    const reports = await reconcile({ db, storeId, ...countingClient(), mode: 'full', dryRun: true });
    return reports.filter((r) => r.missing + r.stale + r.missedDeletes + r.healedTombstones > 0).map((r) => kindName(r.kind));
  };

  // The fewest pages the listings need: changed (or all) documents of each kind with update
  // times, Ecwid's deleted-items listings, every document of the small kinds, the orders'
  // invoices, and the store's three documents.
  const timed = ['order', 'product', 'customer', 'abandoned_cart', 'review', 'discount_coupon'] as const;
  const small = ['category', 'promotion', 'customer_group', 'product_type'] as const;
  const withDeletedListing = ['order', 'product', 'customer', 'review', 'discount_coupon'] as const;
  const live = (kind: keyof typeof counts) => counts[kind] - (deleted.get(kind) ?? 0);
  const minimumIncremental =
    timed.reduce((n, k) => n + pages(changed.get(k) ?? 0), 0) +
    withDeletedListing.reduce((n, k) => n + pages(deleted.get(k) ?? 0), 0) +
    small.reduce((n, k) => n + Math.max(1, pages(live(k))), 0) +
    pages(changed.get('order') ?? 0) +
    3;
  const minimumFull = [...timed, ...small].reduce((n, k) => n + Math.max(1, pages(live(k))), 0) + pages(live('order')) + 3;

  const incremental = await run('incremental');
  const full = await run('full');
  const leftAfter = await verifyClean();

  const summarise = (label: string, r: { reports: KindReport[]; requests: number; seconds: number }, minimum: number) => {
    const found = r.reports.reduce((n, x) => n + x.missing + x.stale + x.missedDeletes + x.healedTombstones, 0);
    console.log(
      `${label.padEnd(12)} requests ${fmt(r.requests).padStart(7)}   minimum pages ${fmt(minimum).padStart(7)}   ratio ${(r.requests / minimum).toFixed(2)}   ` +
        `found ${fmt(found).padStart(6)}   ${r.seconds.toFixed(1)} s here, ${((r.requests / 600) * 60).toFixed(0)} s at 600 requests/min`,
    );
  };
  summarise('incremental', incremental, minimumIncremental);
  summarise('full', full, minimumFull);
  for (const r of incremental.reports) {
    if (r.requests > 0)
      console.log(
        `  incremental ${kindName(r.kind).padEnd(16)} ${fmt(r.requests).padStart(6)} requests, found ${r.missing} missing, ${r.stale} stale, ${r.missedDeletes} deleted`,
      );
  }
  const incrementalShare = incremental.requests / full.requests;
  console.log(`incremental / full: ${(incrementalShare * 100).toFixed(1)}% of the requests (target ≤ 5%)`);
  console.log(`verify after: ${leftAfter.length === 0 ? 'nothing differs' : `differs in ${leftAfter.join(', ')}`}`);
  const ok =
    incremental.requests <= 1.5 * minimumIncremental &&
    full.requests <= 1.5 * minimumFull &&
    incrementalShare <= 0.05 &&
    leftAfter.length === 0;
  console.log(
    `target requests ≤ 1.5× minimum: ${incremental.requests <= 1.5 * minimumIncremental ? 'met' : 'MISSED'} (incremental), ${full.requests <= 1.5 * minimumFull ? 'met' : 'MISSED'} (full)`,
  );
  console.log(`target incremental ≤ 5% of full: ${incrementalShare <= 0.05 ? 'met' : 'MISSED'}`);
  return ok ? 0 : 1;
}

await bench.run(main);
