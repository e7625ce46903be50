/**
 * How fast does `rebuild()` recompute every entity table from the log? Builds a log of
 * snapshot records (1,000,000 by default) from realistic simulator documents — mostly orders and
 * products, also customers, carts, reviews, categories, coupons and the store-level kinds — in a
 * fresh database, then rebuilds every table and prints records/s, the phases, and the peak
 * memory of this process (RSS and heap, sampled every 50 ms during the rebuild). The work is
 * done by Postgres; the process only drives batches, so its memory must stay flat. As a
 * baseline from the same run, it first times Postgres just reading every document of the log
 * and prints the rebuild's time as a multiple of that.
 *
 *   pnpm exec tsx bench/rebuild.bench.ts [--records N] [--batch N] [--rounds N] [--parallel N] [--keep] [--reuse <database>]
 *
 * `--rounds N` rebuilds the same log N times (each round with its own baseline) and prints the
 * median. `--reuse <database>` rebuilds the log a `--keep` run left, without generating it again
 * (`--records` is then what it holds): the way to compare two builds of the rebuild on the same
 * log, alternating them.
 *
 * Postgres from BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test;
 * the database `mirror_bench_rebuild_<random>` is created there and dropped at the end
 * (`--keep` leaves it for inspection).
 */
import { sql } from 'drizzle-orm';
import { execRows, type Database } from '@mirror/db';
import { createSimulator } from '@mirror/ecwid-sim';
import { entityUpdatedAtSql, rebuild, type RebuildPhase } from '@mirror/projector';
import { benchArgs, positive } from './lib/args.ts';
import { createBenchDatabase, type BenchDatabase } from './lib/bench-database.ts';
import { benchAdminUrl } from './lib/lifecycle.ts';
import { processesCpuByPid, processesCpuSince, systemCpuBusyMs } from './lib/cpu.ts';
import { cpus } from 'node:os';

const { values: args } = benchArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '20000' },
    keep: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '1' },
    parallel: { type: 'string', default: '2' },
    reuse: { type: 'string' },
  },
});
const rounds = positive('rounds', args.rounds);
let totalRecords = positive('records', args.records);
const batchSize = positive('batch', args.batch);
// Connections building at once (rebuild's `parallel`; its default is 2).
const parallel = positive('parallel', args.parallel);
const target = 50_000;
const rssTargetMb = 200;
const storeIds = [4301, 4302, 4303];

// Share of the log per kind, in 1/1000; orders and products dominate, as in a real shop.
const mix: [kind: string, perMille: number, uniqueShare: number][] = [
  ['order', 480, 0.7],
  ['product', 250, 0.5],
  ['customer', 90, 0.7],
  ['abandoned_cart', 60, 0.8],
  ['review', 40, 0.9],
  ['invoice', 25, 0.9],
  ['category', 20, 0.2],
  ['discount_coupon', 15, 0.3],
  ['promotion', 5, 0.3],
  ['product_type', 5, 0.2],
  ['customer_group', 5, 0.2],
  ['store_profile', 2, 0],
  ['app_subscription', 1, 0],
  ['app_storage', 1, 0],
  ['store', 1, 0],
];

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024)} MB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  let database: BenchDatabase | undefined;
  try {
    database = await createBenchDatabase(benchAdminUrl, {
      prefix: 'mirror_bench_rebuild',
      maxConnections: parallel + 2,
      reuse: args.reuse,
    });
    if (args.reuse === undefined) {
      console.log(`rebuild bench: ${fmt(totalRecords)} snapshot records, batch ${fmt(batchSize)}, database ${database.name}`);
      const generateStarted = performance.now();
      await loadPool(database);
      await generateLog(database);
      const generateMs = performance.now() - generateStarted;
      const [size] = await execRows<{ bytes: string | number }>(database.db, sql`select pg_total_relation_size('event_log') as bytes`);
      console.log(
        `log: generated in ${seconds(generateMs)} (${fmt(totalRecords / (generateMs / 1000))} records/s), event_log ${mb(Number(size!.bytes))}`,
      );
      // The log as a rebuild finds it in a live mirror: vacuumed and analyzed by autovacuum (which
      // PG 13+ runs on insert-only tables too), and long since written out; the generator's own
      // writes are flushed now, not during the timed rebuild.
      await database.db.execute(sql`vacuum (analyze) event_log`);
      await database.db.execute(sql`checkpoint`);
    } else {
      const [found] = await execRows<{ n: number; head: string | number | null }>(
        database.db,
        sql`select count(*)::int as n, max(position) as head from event_log`,
      );
      if (!found || found.n === 0 || Number(found.head) !== found.n) {
        throw new Error(`--reuse ${args.reuse}: not a log this bench generated (${found?.n ?? 0} records)`);
      }
      totalRecords = found.n;
      // A bench stopped mid-rebuild leaves a rebuild to resume: each round here starts over.
      await database.db.execute(sql`drop schema if exists mirror_rebuild cascade`);
      await database.db.execute(sql`delete from consumer_checkpoints where name = 'rebuild' or name like 'rebuild:%'`);
      console.log(`rebuild bench: ${fmt(totalRecords)} snapshot records, batch ${fmt(batchSize)}, database ${database.name} (reused)`);
    }

    const results: { rate: number; ratio: number; rssMb: number }[] = [];
    for (let round = 1; round <= rounds; round++) {
      if (rounds > 1) console.log(`round ${round} of ${rounds}`);
      const floorMs = await readEveryDocument(database);
      console.log(
        `baseline: reading and decompressing every document of the log, 2 connections: ${seconds(floorMs)} (${fmt(totalRecords / (floorMs / 1000))} records/s)`,
      );

      const memory = sampleMemory();
      const cpuBefore = { machine: systemCpuBusyMs(), self: process.cpuUsage(), postgres: processesCpuByPid('postgres') };
      const phaseStarted = new Map<RebuildPhase, number>();
      const started = performance.now();
      let lastPrint = started;
      const result = await rebuild(database.db, {
        batchSize,
        parallel,
        onProgress: (p) => {
          if (!phaseStarted.has(p.phase)) phaseStarted.set(p.phase, performance.now());
          const now = performance.now();
          if (p.phase === 'build' && now - lastPrint > 5_000) {
            lastPrint = now;
            console.log(`  … ${fmt(p.records)} records in ${seconds(now - started)} (${fmt(p.records / ((now - started) / 1000))}/s)`);
          }
        },
      });
      const elapsed = performance.now() - started;
      const peak = memory.stop();
      const self = process.cpuUsage(cpuBefore.self);
      const cpu = {
        machine: systemCpuBusyMs() - cpuBefore.machine,
        self: (self.user + self.system) / 1000,
        postgres: processesCpuSince('postgres', cpuBefore.postgres),
      };

      const phases: RebuildPhase[] = ['build', 'index', 'catch-up', 'swap', 'done'];
      const durations = phases.slice(0, -1).map((phase, i) => {
        const from = phaseStarted.get(phase) ?? started;
        const to = phaseStarted.get(phases[i + 1]!) ?? performance.now();
        return `${phase} ${seconds(to - from)}`;
      });
      const rate = result.records / (elapsed / 1000);
      console.log(`rebuild: ${fmt(result.records)} records in ${seconds(elapsed)} → ${fmt(rate)} records/s (${durations.join(', ')})`);
      console.log(`peak memory of this process: rss ${mb(peak.rss)}, heap ${mb(peak.heap)} (before: rss ${mb(peak.startRss)})`);
      // The machine's CPU per record, and the rate two cores could reach at that cost: a target
      // above it needs cheaper records, not more parallelism; a low "busy" share means the
      // rebuild left cores idle. Postgres counts its processes alive at the end (parallel
      // workers of the index builds exit before, so they are in the machine's figure only).
      const cores = cpus().length;
      const perRecordUs = (cpu.machine * 1000) / result.records;
      console.log(
        `cpu: the machine ${seconds(cpu.machine)} busy of ${seconds(cores * elapsed)} (${Math.round((100 * cpu.machine) / (cores * elapsed))}%), ` +
          `postgres ${seconds(cpu.postgres)}, this process ${seconds(cpu.self)}; ${perRecordUs.toFixed(1)} µs of CPU per record, ` +
          `so ${cores} cores rebuild at most ${fmt((cores * 1e6) / perRecordUs)} records/s at this cost`,
      );
      const counts = await execRows<{ t: string; n: number }>(
        database.db,
        sql.raw(result.tables.map((t) => `select '${t}' as t, count(*)::int as n from public."${t}"`).join(' union all ')),
      );
      console.log(
        `rows: ${counts
          .filter((c) => c.n > 0)
          .map((c) => `${c.t} ${fmt(c.n)}`)
          .join(', ')}`,
      );
      console.log(`rebuild / baseline: ${(elapsed / floorMs).toFixed(2)}× the time to read the log's documents`);
      results.push({ rate, ratio: elapsed / floorMs, rssMb: peak.rss / 1024 / 1024 });
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const rate = median(results.map((r) => r.rate));
    const rssMb = Math.max(...results.map((r) => r.rssMb));
    if (rounds > 1) {
      console.log(
        `median of ${rounds} rounds: ${fmt(rate)} records/s, ${median(results.map((r) => r.ratio)).toFixed(2)}× the time to read the log's documents; highest rss ${fmt(rssMb)} MB`,
      );
    }
    console.log(
      `target ≥ ${fmt(target)} records/s: ${rate >= target ? 'target met' : 'MISSED'}; rss ≤ ${rssTargetMb} MB: ${rssMb <= rssTargetMb ? 'target met' : 'MISSED'}`,
    );
  } finally {
    if (args.keep && database && args.reuse === undefined) {
      await database.close();
      console.log(`kept database ${database.name} (--reuse ${database.name} rebuilds it again)`);
    } else await database?.drop();
  }
}

/** A pool of rendered simulator documents per kind, stored once; the log reuses them with new ids. */
async function loadPool(database: Database): Promise<void> {
  const token = 'secret_bench';
  const storeId = storeIds[0]!;
  const sim = createSimulator({
    stores: [
      {
        storeId,
        token,
        seed: 11,
        size: {
          orders: 600,
          products: 300,
          customers: 300,
          carts: 100,
          reviews: 200,
          categories: 40,
          coupons: 20,
          promotions: 10,
          productTypes: 8,
          customerGroups: 5,
        },
      },
    ],
    rateLimitPerMinute: 1_000_000,
  });
  const store = sim.store(storeId);
  // Orders and products as REST returns them (the full documents), through the in-process app.
  const rest = async (path: string) => {
    const res = await sim.app.request(`/api/v3/${storeId}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`simulator ${path}: ${res.status}`);
    return (await res.json()) as { items: unknown[] };
  };
  const pages = async (path: string, count: number) => {
    const items: unknown[] = [];
    for (let offset = 0; offset < count; offset += 100) items.push(...(await rest(`${path}?limit=100&offset=${offset}`)).items);
    return items;
  };
  const pool: Record<string, unknown[]> = {
    order: await pages('/orders', store.orders.size),
    product: await pages('/products', store.products.size),
    customer: store.customers.values(),
    abandoned_cart: store.carts.values(),
    review: store.reviews.values(),
    invoice: store.orders.values().map((o) => ({ invoices: o.invoices })),
    category: store.categories.values(),
    discount_coupon: store.coupons.values(),
    promotion: store.promotions.values(),
    product_type: store.productTypes.values(),
    customer_group: store.customerGroups.values(),
    store_profile: [store.profile],
    app_subscription: [store.application],
    app_storage: [
      [
        { key: 'plan', value: 'pro' },
        { key: 'settings', value: '{"sync":true}' },
      ],
    ],
    store: [
      { status: 'active', at: '2024-01-01T00:00:00.000Z' },
      { status: 'uninstalled', at: '2024-06-01T00:00:00.000Z' },
    ],
  };
  await database.db.execute(sql`create table bench_pool (kind text, idx int, doc jsonb, primary key (kind, idx))`);
  for (const [kind, docs] of Object.entries(pool)) {
    await database.db.execute(sql`insert into bench_pool (kind, idx, doc)
      select ${kind}::text, (ordinality - 1)::int, value from jsonb_array_elements(${JSON.stringify(docs)}::jsonb) with ordinality`);
  }
  // bucket (0..999) → kind, and per kind how many distinct keys its records spread over.
  await database.db.execute(sql`create table bench_mix (bucket int primary key, kind text, keys bigint, pool int)`);
  let bucket = 0;
  for (const [kind, perMille, uniqueShare] of mix) {
    const records = Math.ceil((totalRecords * perMille) / 1000);
    const keys = Math.max(1, Math.round(records * uniqueShare) || 1);
    const poolSize = pool[kind]!.length;
    await database.db.execute(
      sql`insert into bench_mix select b, ${kind}::text, ${keys}::bigint, ${poolSize}::int from generate_series(${bucket}::int, ${bucket + perMille - 1}::int) b`,
    );
    bucket += perMille;
  }
}

/**
 * The log, in chunks of one insert … select each: record g (position g + 1) takes a pool
 * document of its kind with a fresh key and update time. Update times mostly grow with g, but
 * one record in seven is stamped older than its neighbours, so newer-wins is exercised, not just
 * last-writer-wins.
 *
 * Bench-only shortcuts that make it several times faster than appending as the mirror does,
 * leaving the same rows and indexes (maintained row by row, as in a live log: built once at the
 * end they come out denser, and the planner then picks other plans): positions are given (g + 1,
 * the sequence set after), so two connections fill disjoint ranges at once, without the append
 * trigger's lock (session_replication_role replica skips the log's triggers: nobody listens
 * here); and the pool's update times are computed once per pool document instead of once per
 * record (the kinds whose update time the generator overrides take it from `updateTimestamp`,
 * as projection does). `entity_updated_at` is then checked against the appender's expression
 * on a sample.
 */
async function generateLog(database: Database): Promise<void> {
  const chunk = 25_000;
  // The update times the generator overrides are `updateTimestamp` (seconds): `epoch` of it.
  const overridden = ['order', 'abandoned_cart', 'product', 'review'];
  await database.db.execute(sql`alter table bench_pool add column updated timestamptz`);
  await database.db.execute(sql.raw(`update bench_pool set updated = ${entityUpdatedAtSql('kind', 'doc')}`));
  await database.db.execute(sql`analyze bench_pool, bench_mix`);
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (let from = next; from < totalRecords; from = next) {
      next += chunk;
      const to = Math.min(totalRecords, from + chunk);
      await database.db.transaction(async (tx) => {
        await tx.execute(
          sql`select set_config('session_replication_role', 'replica', true), set_config('work_mem', '512MB', true),
                     set_config('synchronous_commit', 'off', true), set_config('jit', 'off', true)`,
        );
        await tx.execute(sql`
          insert into event_log (position, kind, store_id, event_type, entity_kind, entity_id, is_known_type, payload, caused_by, fetched_at, entity_updated_at)
          overriding system value
          select g + 1, 'snapshot', e.store_id, m.kind, m.kind, e.entity_id, true, s.payload, '{}', timestamptz '2024-09-04 00:00:00+00' + g * interval '1 ms',
            case when m.kind in (${sql.raw(overridden.map((k) => `'${k}'`).join(', '))}) then to_timestamp(k.updated::float8) else p.updated end
          from generate_series(${from}::bigint, ${to - 1}::bigint) g
          join bench_mix m on m.bucket = (abs(hashint8(g * 7919)) % 1000)
          join bench_pool p on p.kind = m.kind and p.idx = (g % m.pool)
          cross join lateral (select ${sql.raw(`array[${storeIds.join(',')}]`)}::bigint[] as stores) st
          cross join lateral (select abs(hashint8(g)) % m.keys as key, 1700000000 + g / 10 - (case when g % 7 = 0 then 3600 else 0 end) as updated) k
          cross join lateral (select
            st.stores[1 + (k.key % 3)::int] as store_id,
            case m.kind
              when 'order' then 'B' || k.key
              when 'abandoned_cart' then 'cart-' || k.key
              when 'invoice' then 'B' || k.key
              when 'store_profile' then '0' when 'app_subscription' then '0' when 'app_storage' then '0' when 'store' then '0'
              else (100000 + k.key)::text
            end as entity_id) e
          cross join lateral (select
            case m.kind
              when 'order' then p.doc || jsonb_build_object('id', e.entity_id, 'internalId', 500000000 + k.key, 'orderNumber', 500000000 + k.key, 'updateTimestamp', k.updated)
              when 'abandoned_cart' then p.doc || jsonb_build_object('cartId', e.entity_id, 'updateTimestamp', k.updated)
              when 'product' then p.doc || jsonb_build_object('id', 100000 + k.key, 'updateTimestamp', k.updated)
              when 'review' then p.doc || jsonb_build_object('id', 100000 + k.key, 'updateTimestamp', k.updated)
              when 'invoice' then p.doc
              when 'store_profile' then p.doc when 'app_subscription' then p.doc when 'app_storage' then p.doc when 'store' then p.doc
              else p.doc || jsonb_build_object('id', 100000 + k.key)
            end as payload) s
          order by g`);
      });
      done += to - from;
      if (Math.floor(done / chunk) % 8 === 0 || done === totalRecords) console.log(`  … log ${fmt(done)} / ${fmt(totalRecords)}`);
    }
  };
  await Promise.all([worker(), worker()]);
  await database.db.execute(sql`select setval('event_log_position_seq', ${totalRecords}::bigint)`);
  await database.db.execute(sql`drop table bench_pool, bench_mix`);
  const [wrong] = await execRows<{ n: number }>(
    database.db,
    sql.raw(`select count(*)::int as n from event_log b tablesample system (1)
             where b.entity_updated_at is distinct from ${entityUpdatedAtSql('b.entity_kind', 'b.payload')}`),
  );
  if (wrong!.n > 0) throw new Error(`generator: ${wrong!.n} sampled records have another entity_updated_at than the appender computes`);
}

/**
 * The baseline measured in the same run (the machine's speed drifts between runs): the time
 * Postgres takes just to read every document of the log (heap, TOAST, decompression), split by
 * position over two connections as the rebuild splits its work. A rebuild must at least do this.
 */
async function readEveryDocument(database: Database): Promise<number> {
  const started = performance.now();
  const half = Math.floor(totalRecords / 2);
  await Promise.all(
    [
      [0, half],
      [half, Number.MAX_SAFE_INTEGER],
    ].map(([from, to]) =>
      database.db.execute(sql`select count(jsonb_typeof(payload)) from event_log where position > ${from} and position <= ${to}`),
    ),
  );
  return performance.now() - started;
}

function sampleMemory() {
  const startRss = process.memoryUsage().rss;
  let rss = startRss;
  let heap = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return { rss, heap, startRss };
    },
  };
}

await main();
