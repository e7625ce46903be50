/**
 * What does the global commit-order lock cost once many stores write at once, and what would a
 * per-store position with a per-store lock give instead (docs/decisions/0013-past-one-machine.md)?
 *
 * Concurrent writers commit groups of webhooks, each group for one store picked at random among
 * S stores, for S = 1, 8, 64, 256 by default. Two logs in the same database, measured in the same
 * run, one after the other for each S (alternating which goes first):
 *
 * - **global lock**: today's `event_log` with its statement trigger (one advisory lock for every
 *   appender, docs/decisions/0001-commit-ordered-log.md), written by the production
 *   `appendWebhooks`;
 * - **one head**: the prototype's statement (bench/lib/per-store-log.ts) with one counter row for
 *   every store: the global lock again, in the prototype's SQL, to tell the lock from the rest;
 * - **per-store lock**: the prototype, a position per store handed out by a counter row whose lock
 *   is held to commit.
 *
 * While the writers run, a tailing reader checkpoints as a consumer would (on the global position,
 * or on each store's position) and the bench fails if any committed record turns up below a
 * checkpoint it had passed: both logs must stay gap-safe. Prints each run and the medians of
 * `--runs` runs: committed webhooks/s, commit latency p99 (and p50 for the per-store log), and the
 * machine's CPU busy share (the lowest of the three) and the bench's own CPU (the highest, in
 * cores: 100% is one core), so a generator that takes the machine from Postgres shows.
 *
 *   pnpm bench:stores [--stores 1,8,64,256] [--writers 16] [--batch 10] [--seconds 3] [--runs 3] [--doc-bytes 0]
 *
 * `--doc-bytes 4000` gives each record a document of that size, as the snapshots enrichment appends
 * carry: the per-record cost of the projector's writes to the log.
 *
 * Postgres from BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test;
 * the database `mirror_bench_stores_<random>` is created there and dropped at the end.
 */
import { randomUUID } from 'node:crypto';
import { appendWebhooks, execRows, type Db, type WebhookAppend } from '@mirror/db';
import { sql } from 'drizzle-orm';
import { benchArgs, positive } from './lib/args.ts';
import { createBenchDatabase } from './lib/bench-database.ts';
import { systemCpuBusyMs } from './lib/cpu.ts';
import { createLatencyRecorder } from './lib/latency.ts';
import { benchAdminUrl, benchLifecycle } from './lib/lifecycle.ts';
import { appendPerStore, createPerStoreLog, perStoreSchema, readPerStore } from './lib/per-store-log.ts';
import { describeMachine, formatInt, formatMs, formatTable } from './lib/report.ts';
import { availableParallelism } from 'node:os';

const { values: args } = benchArgs({
  options: {
    stores: { type: 'string', default: '1,8,64,256' },
    writers: { type: 'string', default: '16' },
    batch: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '3' },
    'doc-bytes': { type: 'string', default: '0' },
    runs: { type: 'string', default: '3' },
  },
});
const storeCounts = args.stores.split(',').map((s) => positive('stores', s.trim()));
const writers = positive('writers', args.writers);
const batch = positive('batch', args.batch);
const seconds = positive('seconds', args.seconds);
// 0: webhooks as Ecwid sends them (~300 bytes). Otherwise each record also carries a document of
// about this size, like the snapshots enrichment appends (an order from GET /orders/{id} is 3–6 KB).
const docBytes = args['doc-bytes'] === '0' ? 0 : positive('doc-bytes', args['doc-bytes']);
const runs = positive('runs', args.runs);

type Variant = 'global' | 'oneHead' | 'perStore';
const variants: Variant[] = ['global', 'oneHead', 'perStore'];
/** `cpu`: the machine's busy share; `benchCpu`: this process's (the load generator), in cores. */
type Cell = { webhooksPerSecond: number; p50: number; p99: number; cpu: number; benchCpu: number };

const bench = benchLifecycle('stores benchmark');

async function main(): Promise<number> {
  const database = await createBenchDatabase(benchAdminUrl, { prefix: 'mirror_bench_stores', maxConnections: writers + 1 });
  bench.onCleanup(() => database.drop());
  const db = database.db;
  await createPerStoreLog(db);
  console.log(`stores bench: ${describeMachine()}; database ${database.name}`);
  console.log(
    `${writers} concurrent writers, each committing groups of ${batch} ${docBytes ? `records with ~${docBytes}-byte documents` : 'webhooks'} of one store picked at random, ${seconds} s per cell; ${runs} runs`,
  );

  const results: Record<Variant, Cell[][]> = { global: [], oneHead: [], perStore: [] };
  let storeBase = 1_000_000;
  for (let run = 0; run < runs; run++) {
    const rows: string[][] = [];
    for (const variant of variants) results[variant].push([]);
    for (const [i, count] of storeCounts.entries()) {
      // A different order in each cell, so drift on a shared machine favours none of them.
      const shift = (run + i) % variants.length;
      const order = [...variants.slice(shift), ...variants.slice(0, shift)];
      const cells = {} as Record<Variant, Cell>;
      for (const variant of order) {
        if (bench.signal.aborted) return 130;
        // Fresh store ids for each cell and log, so the heads start at zero and each reader's
        // check counts only its own log's records.
        const stores = Array.from({ length: count }, (_, k) => storeBase + k);
        storeBase += count;
        cells[variant] = await measure(db, variant, stores);
        await db.execute(sql.raw(`vacuum (analyze) ${variant === 'global' ? 'public' : perStoreSchema}.event_log`));
      }
      for (const variant of variants) results[variant][run]!.push(cells[variant]);
      rows.push(row(count, cells));
    }
    console.log(`\nrun ${run + 1}/${runs}`);
    console.log(formatTable(header, rows));
  }

  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const medianCell = (variant: Variant, i: number): Cell => {
    const cells = results[variant].map((r) => r[i]!);
    return {
      webhooksPerSecond: median(cells.map((c) => c.webhooksPerSecond)),
      p50: median(cells.map((c) => c.p50)),
      p99: median(cells.map((c) => c.p99)),
      cpu: median(cells.map((c) => c.cpu)),
      benchCpu: median(cells.map((c) => c.benchCpu)),
    };
  };
  console.log(`\nmedians of ${runs} runs`);
  console.log(
    formatTable(
      header,
      storeCounts.map((count, i) =>
        row(count, { global: medianCell('global', i), oneHead: medianCell('oneHead', i), perStore: medianCell('perStore', i) }),
      ),
    ),
  );
  return 0;
}

const header = [
  'stores',
  'global lock webhooks/s',
  'p99 ms',
  'one head webhooks/s',
  'p99 ms',
  'per-store webhooks/s',
  'p50 ms',
  'p99 ms',
  'cpu',
  'bench cpu',
  'per-store/global',
  'per-store/one head',
];
const row = (count: number, c: Record<Variant, Cell>) => [
  String(count),
  formatInt(c.global.webhooksPerSecond),
  formatMs(c.global.p99),
  formatInt(c.oneHead.webhooksPerSecond),
  formatMs(c.oneHead.p99),
  formatInt(c.perStore.webhooksPerSecond),
  formatMs(c.perStore.p50),
  formatMs(c.perStore.p99),
  `${Math.round(Math.min(...variants.map((v) => c[v].cpu)) * 100)}%`,
  `${Math.round(Math.max(...variants.map((v) => c[v].benchCpu)) * 100)}%`,
  `${(c.perStore.webhooksPerSecond / c.global.webhooksPerSecond).toFixed(2)}×`,
  `${(c.perStore.webhooksPerSecond / c.oneHead.webhooksPerSecond).toFixed(2)}×`,
];

/** One cell: the writers for `seconds` on one log, a tailing reader beside them, then the reader's check. */
async function measure(db: Db, variant: Variant, stores: number[]): Promise<Cell> {
  const latency = createLatencyRecorder();
  let committed = 0;
  const [head] = await execRows<{ head: string | number | null }>(db, sql`select max(position) as head from event_log`);
  const reader = tailReader(db, variant, stores, Number(head?.head ?? 0));
  const cpuBefore = systemCpuBusyMs();
  const ownBefore = process.cpuUsage();
  const started = performance.now();
  const end = started + seconds * 1000;
  const append =
    variant === 'global'
      ? (rows: WebhookAppend[]) => appendWebhooks(db, rows)
      : (rows: WebhookAppend[]) => appendPerStore(db, rows, { oneHead: variant === 'oneHead' });
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < end && !bench.signal.aborted) {
        const storeId = stores[Math.floor(Math.random() * stores.length)]!;
        const rows = Array.from({ length: batch }, () => webhook(storeId));
        const t0 = performance.now();
        await append(rows);
        latency.record(performance.now() - t0);
        committed += rows.length;
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  const cpu = (systemCpuBusyMs() - cpuBefore) / (elapsedMs * availableParallelism());
  const own = process.cpuUsage(ownBefore);
  const benchCpu = (own.user + own.system) / 1000 / elapsedMs;
  await reader.stop();
  await reader.check();
  const summary = latency.summary();
  return { webhooksPerSecond: committed / (elapsedMs / 1000), p50: summary.p50, p99: summary.p99, cpu, benchCpu };
}

/**
 * Reads behind the writers as a consumer does, moving its checkpoint to the last record it saw.
 * `check()` then counts, per store, the records at or below the final checkpoint: any more than
 * the reader saw committed behind its back, which a commit-ordered log must never allow.
 */
function tailReader(db: Db, variant: Variant, stores: number[], globalStart: number) {
  const seen = new Map<number, number>(stores.map((s) => [s, 0]));
  let globalCheckpoint = globalStart;
  const storeCheckpoints = new Map<number, number>(stores.map((s) => [s, 0]));
  let stopped = false;
  const loop = (async () => {
    let next = 0;
    while (!stopped) {
      if (variant === 'global') {
        const rows = await execRows<{ position: string | number; store_id: string | number }>(
          db,
          sql`select position, store_id from event_log where position > ${globalCheckpoint} order by position limit 1000`,
        );
        for (const r of rows) seen.set(Number(r.store_id), (seen.get(Number(r.store_id)) ?? 0) + 1);
        if (rows.length > 0) globalCheckpoint = Number(rows.at(-1)!.position);
      } else {
        const storeId = stores[next++ % stores.length]!;
        const positions = await readPerStore(db, storeId, storeCheckpoints.get(storeId)!, 1000);
        seen.set(storeId, seen.get(storeId)! + positions.length);
        if (positions.length > 0) storeCheckpoints.set(storeId, positions.at(-1)!);
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
    async check() {
      const counts =
        variant === 'global'
          ? await execRows<{ store_id: string | number; n: number }>(
              db,
              sql`select store_id, count(*)::int as n from event_log
                  where position > ${globalStart} and position <= ${globalCheckpoint} group by store_id`,
            )
          : (
              await Promise.all(
                stores.map(async (storeId) => {
                  const [r] = await execRows<{ n: number }>(
                    db,
                    sql`select count(*)::int as n from ${sql.raw(perStoreSchema)}.event_log
                        where store_id = ${storeId} and store_position <= ${storeCheckpoints.get(storeId)!}`,
                  );
                  return { store_id: storeId, n: r?.n ?? 0 };
                }),
              )
            ).filter((r) => r.n > 0);
      for (const { store_id, n } of counts) {
        const reads = seen.get(Number(store_id)) ?? 0;
        if (n !== reads)
          throw new Error(`${variant}: store ${store_id} has ${n} records at or below the reader's checkpoint, it read ${reads}`);
      }
    },
  };
}

let eventClock = Math.floor(Date.now() / 1000);
function webhook(storeId: number): WebhookAppend {
  const eventId = randomUUID();
  const entityId = 100_000_000 + Math.floor(Math.random() * 900_000_000);
  const eventCreated = eventClock++;
  const body = JSON.stringify({
    eventId,
    eventCreated,
    storeId,
    entityId,
    eventType: 'order.updated',
    data: {
      orderId: `B${entityId.toString(36).toUpperCase()}`,
      oldPaymentStatus: 'PAID',
      newPaymentStatus: 'PAID',
      oldFulfillmentStatus: 'PROCESSING',
      newFulfillmentStatus: 'SHIPPED',
    },
    ...(docBytes > 0 && { document: documentOf(entityId) }),
  });
  return {
    storeId,
    eventId,
    eventType: 'order.updated',
    entityKind: 'order',
    entityId: String(entityId),
    isKnownType: true,
    eventCreated,
    body,
  };
}

/**
 * An order-like document of about `docBytes` bytes: items with varied text, so it compresses as
 * real ones do. The item count is worked out once, so making documents costs the load generator
 * little (it shares the machine with Postgres).
 */
function documentOf(entityId: number): unknown {
  const item = (i: number) => ({
    id: entityId * 10 + i,
    productId: 100_000 + ((entityId * 7 + i * 13) % 90_000),
    sku: `SKU-${(entityId + i).toString(36).toUpperCase()}`,
    name: `Product ${(entityId * 31 + i).toString(36)} in size ${['S', 'M', 'L', 'XL'][i % 4]}`,
    price: ((entityId + i) % 10_000) / 100,
    quantity: 1 + (i % 3),
    selectedOptions: [{ name: 'Colour', value: ['red', 'blue', 'green'][i % 3] }],
  });
  itemsPerDocument ??= Math.max(1, Math.round((docBytes - 120) / JSON.stringify(item(0)).length));
  return {
    id: `B${entityId.toString(36).toUpperCase()}`,
    email: `customer${entityId % 99_999}@example.com`,
    total: entityId % 1000,
    items: Array.from({ length: itemsPerDocument }, (_, i) => item(i)),
  };
}
let itemsPerDocument: number | undefined;

await bench.run(main);
