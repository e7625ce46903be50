import { createLogger, createSecretBox, generateSecretKey, parseSecretKey } from '@mirror/core';
import { listen } from '@mirror/core/http';
import { backfillStateTable, execRows, reconcileRunsTable } from '@mirror/db';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { createRateLimiterRegistry } from '@mirror/ecwid';
import { createActivity, createSimulator, type GroundTruth, type SimServer, type Simulator } from '@mirror/ecwid-sim';
import { createIngest, ingestSection } from '@mirror/ingest';
import {
  saveSealedToken,
  backfill,
  createClientFactory,
  readStatus,
  runEnrichment,
  runProjection,
  runReconcileSchedule,
  type KindReport,
} from '@mirror/projector';
import { fetchedKinds, kindName } from '@mirror/catalog';
import { parseEnv } from '@mirror/core';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../commands/test-process.ts';

/*
 * The judgement of issue 13, as a test: a simulated day on two stores with webhooks lost for
 * good, changes that send none, duplicates and late ones, and a delete of every kind made
 * behind the mirror's back. The
 * mirror takes what arrives; then one scheduled reconcile runs, and afterwards `mirror verify`
 * exits 0 on both stores and the counts in reconcile_runs equal, kind by kind, what the
 * simulator says the mirror had wrong. LOSSY_DAY_CHANGES sets the changes per store (the
 * closing note's run: 5000, so ≥10k in all).
 */

const changesPerStore = Number(process.env.LOSSY_DAY_CHANGES ?? 1500);
const stores = [
  { storeId: 3101, token: 'secret_lossy_day_a', seed: 31 },
  { storeId: 3102, token: 'secret_lossy_day_b', seed: 32 },
];
const lossy = { dropRate: 0.02, silentRate: 0.01, duplicateRate: 0.02, reorderRate: 0.05, reorderWindow: 5 };
const log = createLogger({ level: 'silent' });

let database: TestDatabase;
let sim: Simulator;
let simServer: SimServer;
const skip = concurrencySkipReason('the lossy day (the CLI in a child process beside the test database)');

// The tokens are sealed with this key; the CLI in the child process opens them with it.
const secretKey = generateSecretKey();
const box = createSecretBox(parseSecretKey(secretKey));
const verify = (storeId: number) =>
  runCli(['verify', '--store', String(storeId)], {
    DATABASE_URL: database.url,
    ECWID_API_BASE_URL: simServer.url,
    MIRROR_SECRET_KEY: secretKey,
    LOG_LEVEL: 'silent',
  });

/** Enrichment and projection until every store's webhooks and the log are handled. */
async function catchUp(clientFor: ReturnType<typeof createClientFactory>): Promise<void> {
  const controller = new AbortController();
  const workers = Promise.all([
    runEnrichment({ db: database.db, log, clientFor, box, signal: controller.signal, pollIntervalMs: 20 }),
    runProjection({ db: database.db, log, signal: controller.signal, idleMs: 20 }),
  ]);
  const deadline = Date.now() + 300_000;
  for (;;) {
    const status = await readStatus(database.db);
    const caughtUp = status.projection.lagRecords === 0 && status.stores.every((s) => s.lagRecords === 0);
    if (caughtUp) break;
    if (Date.now() > deadline) throw new Error(`not caught up: ${JSON.stringify(status.stores)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  controller.abort();
  await workers;
}

/** reconcile_runs' counts per kind for one store, as the simulator's ground truth counts them. */
async function runCounts(storeId: number) {
  const rows = await execRows<{ kind: string; missing: number; stale: number; missed_deletes: number; healed: number }>(
    database.db,
    sql`select kind, sum(missing)::int as missing, sum(stale)::int as stale, sum(missed_deletes)::int as missed_deletes,
          sum(healed_tombstones)::int as healed
        from ${reconcileRunsTable} where store_id = ${storeId} and trigger = 'schedule' group by kind`,
  );
  return Object.fromEntries(
    rows.map((r) => [r.kind, { missing: r.missing, stale: r.stale, missedDeletes: r.missed_deletes, healedTombstones: r.healed }]),
  );
}

const truthCounts = (truth: GroundTruth) =>
  Object.fromEntries(
    fetchedKinds.map((kind) => {
      const t = (truth.byKind as Partial<Record<string, GroundTruth['byKind'][keyof GroundTruth['byKind']]>>)[kind];
      return [kind, { missing: t?.missing ?? 0, stale: t?.stale ?? 0, missedDeletes: t?.missedDeletes ?? 0, healedTombstones: 0 }];
    }),
  );

describe.skipIf(skip)('a lossy day on two stores', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    sim = createSimulator({ stores, rateLimitPerMinute: 10_000_000, batchDelayMs: 0 });
    simServer = await sim.listen(0);
  });
  afterAll(async () => {
    await simServer?.close();
    await database?.close();
  });

  it('one scheduled reconcile finds exactly what was lost, and verify then exits 0 on both stores', async () => {
    const clientFor = createClientFactory({ baseUrl: simServer.url, log });
    for (const { storeId, token } of stores) {
      await saveSealedToken(database.db, box, { storeId, token, source: 'cli' });
      await backfill({ db: database.db, storeId, client: clientFor(storeId, token) });
    }
    await catchUp(clientFor);

    // The day: webhooks go to a real ingest over HTTP; the workers catch up after it.
    const ingest = createIngest(database, parseEnv(ingestSection, { ECWID_CLIENT_SECRET: sim.clientSecret }), log);
    const { server, port } = await listen(ingest.app, 0, '127.0.0.1');
    const days = stores.map(({ storeId, seed }) =>
      createActivity(sim, { storeId, seed, target: `http://127.0.0.1:${port}/webhooks/ecwid`, lossy }),
    );
    const started = Date.now();
    const summaries = await Promise.all(days.map((day) => day.runChanges(changesPerStore, { concurrency: 4 })));
    // And behind the mirror's back at the end of the day: one delete of every kind, no webhook,
    // each of an entity the day did not touch (so the mirror has it from the backfill).
    for (const [i, { storeId }] of stores.entries()) {
      const store = sim.store(storeId);
      const touched = new Set(days[i]!.groundTruth().changes.map((c) => `${c.kind}:${c.entityId}`));
      const untouched = <T>(kind: string, docs: T[], key: (doc: T) => string) => docs.find((d) => !touched.has(`${kind}:${key(d)}`));
      const byId = [
        ['products', 'product'],
        ['categories', 'category'],
        ['customers', 'customer'],
        ['customerGroups', 'customer_group'],
        ['coupons', 'discount_coupon'],
        ['promotions', 'promotion'],
        ['productTypes', 'product_type'],
        ['reviews', 'review'],
      ] as const;
      for (const [table, kind] of byId) {
        const doc = untouched(kind, store[table].values() as { id: number }[], (d) => String(d.id));
        if (doc) store.remove(table, doc.id);
      }
      const order = untouched('order', store.orders.values(), (o) => o.id);
      if (order) store.remove('orders', order.internalId);
      const cart = untouched('abandoned_cart', store.carts.values(), (c) => c.cartId);
      if (cart) store.remove('carts', cart.cartId);
      const key = [...store.storage.keys()].at(0);
      if (key) store.deleteStorage(key);
    }
    await ingest.drain();
    server.close();
    await catchUp(clientFor);
    const truths = days.map((day) => day.groundTruth({ reads: 'atEnd' }));
    console.log(
      `lossy day: ${summaries.reduce((n, s) => n + s.steps, 0)} changes on 2 stores in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        summaries
          .map(
            (s, i) =>
              `store ${stores[i]!.storeId}: ${s.webhooks} webhooks, ${s.dropped} dropped for good, ${s.silent} never sent, ${s.duplicated} duplicated, ${s.reordered} late`,
          )
          .join('; '),
    );
    for (const truth of truths) expect(truth.webhooks.dropped + truth.webhooks.silent).toBeGreaterThan(0);
    // Deletes of every kind that has them were among the losses.
    const lostDeletes = new Set(
      truths.flatMap((t) =>
        t.changes.filter((c) => c.action === 'deleted' && (c.fate === 'dropped' || c.fate === 'silent')).map((c) => c.kind),
      ),
    );
    console.log(`deletes lost: ${[...lostDeletes].sort().join(', ')}`);

    const before = await Promise.all(stores.map(({ storeId }) => verify(storeId)));
    for (const [i, run] of before.entries()) {
      console.log(`mirror verify --store ${stores[i]!.storeId} (before)\n${run.stdout}`);
      expect(run.code).toBe(1);
    }

    // A day has passed since the backfill: the schedule's next run of each store is a full one.
    await database.db.update(backfillStateTable).set({ completedAt: sql`${backfillStateTable.completedAt} - interval '25 hours'` });
    const controller = new AbortController();
    const reports = new Map<number, KindReport[]>();
    const sweep = runReconcileSchedule({
      db: database.db,
      box,
      log,
      signal: controller.signal,
      baseUrl: simServer.url,
      limiter: createRateLimiterRegistry({ perMinute: 10_000_000 }),
      ratePerMinute: 10_000_000,
      maxShare: 0.2,
      intervalMs: 3_600_000,
      fullIntervalMs: 86_400_000,
      pollMs: 50,
      onReport: (storeId, report) => {
        reports.set(storeId, [...(reports.get(storeId) ?? []), report]);
        if (stores.every((s) => (reports.get(s.storeId)?.length ?? 0) === fetchedKinds.length)) controller.abort();
      },
    });
    // (Bounded: a store the schedule never took would show as missing reports below.)
    const bound = setTimeout(() => controller.abort(), 600_000);
    await sweep;
    clearTimeout(bound);
    for (const { storeId } of stores) {
      expect(reports.get(storeId)?.map((r) => [r.kind, r.mode, r.status])).toEqual(fetchedKinds.map((k) => [k, 'full', 'done']));
    }
    await catchUp(clientFor);

    const after = await Promise.all(stores.map(({ storeId }) => verify(storeId)));
    for (const [i, run] of after.entries()) {
      console.log(`mirror verify --store ${stores[i]!.storeId} (after)\n${run.stdout}`);
      expect(run.code).toBe(0);
    }
    for (const [i, { storeId }] of stores.entries()) {
      const counted = await runCounts(storeId);
      const expected = truthCounts(truths[i]!);
      const lines = fetchedKinds.map(
        (k) => `${kindName(k).padEnd(18)} reconcile ${JSON.stringify(counted[k] ?? {})}  simulator ${JSON.stringify(expected[k])}`,
      );
      console.log(`store ${storeId}: what reconcile found, and what the simulator lost\n${lines.join('\n')}`);
      expect(counted).toEqual(expected);
    }
  }, 900_000);
});
