/**
 * Webhook received → row visible: how stale is the mirror under a steady load?
 *
 * Drives the simulator's activity generator (signed webhooks, with its usual duplicates, delays
 * and reordering; 50 ms added to every REST answer) at ~100 webhooks/s spread over several
 * stores, through the real ingest app (listening on a port) into a fresh Postgres database, and
 * runs the worker (enrichment + projection, as `mirror project` wires them) in this process.
 * As in production, the three are processes of their own: the simulated Ecwid (REST server and
 * activity generator, bench/lib/lag-simulator.ts) and ingest (bench/lib/lag-ingest.ts, as
 * `mirror ingest`) run in child processes, so this process's CPU and profile are the worker's.
 *
 *   pnpm bench:lag [--duration 30] [--warmup 5] [--rate 100] [--stores 10] [--quiet-stores 0] [--cpu-prof <file>]
 *
 * --cpu-prof writes a V8 CPU profile of this process (the worker) during the listening run.
 *
 * --quiet-stores N puts N more stores in the log before the run, each with one webhook already
 * answered: a deployment serving many stores, few of them busy at once (decision 0021).
 *
 * LAG_PIPELINE=off runs enrichment without pipelined passes (decision 0015), for an A/B of them.
 * LAG_FULL_READS=on has enrichment read every store's state at every wake, as before decision
 * 0021, for an A/B of reading only the stores a wake names.
 *
 * Measurement. Start: `event_log.received_at` of the webhook (the database clock when ingest
 * committed it). End: the first moment the projection checkpoint is at or past the position of
 * the record (snapshot or tombstone) answering that webhook (the first record whose `caused_by`
 * holds it): the projector moves its checkpoint in the transaction that writes the rows, so that
 * is when the row becomes visible to readers. A sampler reads `clock_timestamp()` and the
 * checkpoint every 10 ms, so both ends use the database's clock; the end is late by at most one
 * sampling interval. Webhooks with nothing to fetch (none here) or parked are left out and
 * counted. Only webhooks received during the measured window count; the run then waits for them
 * to drain.
 *
 * Also printed, as the worker saw them in the window: each Ecwid request's time to its answer
 * (the simulator adds 50 ms; the rest is its own work and the two shared cores), and how late the
 * worker's event loop ran a 5 ms timer. Neither is part of the target; they say how much of the
 * delay's tail the simulated Ecwid and the machine's contention account for (decision 0023).
 *
 * Baseline, same run: the same load with the stages polling only (every 100 ms, as before they
 * listened), then with them woken by LISTEN/NOTIFY as `mirror project` wires them (ingest's
 * commits notify through Postgres; enrichment's commits wake projection in-process), each on a
 * fresh database. Target (the listening run): p99 ≤ 150 ms.
 *
 * Ecwid allows 600 requests/min per token (docs/ecwid.md §4.2), and the client and the
 * simulator both enforce it, so per-store coalescing and bulk reads are what make the target
 * reachable. The databases `mirror_lag_<random>` are created on BENCH_DATABASE_URL or DATABASE_URL
 * (default postgres://postgres@127.0.0.1:5432/test) and dropped at the end, also on failure.
 */
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createSecretBox, createSilentLogger } from '@mirror/core';
import { createLogSignal, execPreparedSql, execRows, listenForAppends } from '@mirror/db';
import { createClientFactory, runEnrichment, runProjection, saveSealedToken } from '@mirror/projector';
import { sql } from 'drizzle-orm';
import { createBenchDatabase, type BenchDatabase } from './lib/bench-database.ts';
import { forkChild } from './lib/child.ts';
import { readProcessCpu } from './lib/cpu.ts';
import { withCpuProfile } from './lib/cpu-profile.ts';
import { benchAdminUrl } from './lib/lifecycle.ts';
import { summarizeLatencies } from './lib/latency.ts';
import { describeMachine, formatInt, formatMs, mark } from './lib/report.ts';
import { benchArgs, nonNegative, positive } from './lib/args.ts';

const targetP99Ms = 150;
// Measured average of the activity generator: a checkout alone sends 3+ webhooks.
const webhooksPerChange = 2.2;

const { values: args } = benchArgs({
  options: {
    duration: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    rate: { type: 'string', default: '100' },
    stores: { type: 'string', default: '10' },
    'quiet-stores': { type: 'string', default: '0' },
    'cpu-prof': { type: 'string' },
  },
});
const durationS = positive('duration', args.duration);
const warmupS = nonNegative('warmup', args.warmup);
const rate = positive('rate', args.rate);
const storeCount = positive('stores', args.stores);
const quietStores = nonNegative('quiet-stores', args['quiet-stores']);

const log = createSilentLogger();
type Mode = 'polling' | 'listening';
let database: BenchDatabase | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
process.once('SIGINT', () => void shutdown().then(() => process.exit(130)));

async function shutdown() {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  cleanups.length = 0;
  await database?.drop();
  database = undefined;
}

/**
 * CPU time (ms) of each backend connected to the bench's database, from /proc (empty where there
 * is none): with this process's own, a measure of the run's cost that the machine's other load
 * does not change much, unlike the delays.
 */
async function backendsCpuMs(db: BenchDatabase['db']): Promise<Map<number, number>> {
  const rows = await execRows<{ pid: number }>(db, sql`select pid from pg_stat_activity where datname = current_database()`);
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    const cpu = readProcessCpu(pid); // undefined: exited
    if (cpu) out.set(pid, cpu.userMs + cpu.systemMs);
  }
  return out;
}

type Measured = {
  rows: number;
  delays: number[];
  enrichDelays: number[];
  projectDelays: number[];
  unanswered: number;
  parked: number;
  requestsDuring: number;
  /**
   * CPU used during the measured window, ms: this process (the worker), ingest's and the
   * simulator's processes, and the database's backends.
   */
  cpu: { workerMs: number; ingestMs: number; simulatorMs: number; pgMs: number };
  /**
   * As the worker saw them during the window, ms: each Ecwid request, from sending it to its
   * answer's headers (the simulator answers whole after its added 50 ms), and how late the
   * worker's event loop ran a 5 ms timer (perf_hooks.monitorEventLoopDelay).
   */
  rest: number[];
  loopDelay: { p50: number; p99: number; max: number };
};

async function measure(mode: Mode): Promise<Measured> {
  database = await createBenchDatabase(benchAdminUrl, { prefix: 'mirror_lag', maxConnections: 20 });
  const db = database.db;
  const stores = Array.from({ length: storeCount }, (_, i) => ({
    storeId: 5000 + i,
    token: `secret_bench_${i}`,
    seed: i + 1,
    size: { orders: 500 },
  }));
  if (quietStores > 0) {
    // Ids far from the busy stores' (5000 and up); checkpoints at their one webhook: no work.
    await execRows(
      db,
      sql`insert into event_log (kind, store_id, event_id, event_type, entity_kind, entity_id, is_known_type, payload)
          select 'webhook', 1000000 + s, 'quiet-' || s, 'order.updated', 'order', '1', true, '{}'::jsonb
          from generate_series(1, ${quietStores}) s`,
    );
    await execRows(
      db,
      sql`insert into enrichment_state (store_id, position, status)
          select store_id, max(position), 'active' from event_log where store_id > 1000000 group by store_id`,
    );
    await execRows(db, sql`analyze`);
  }
  const simulator = await forkChild(new URL('./lib/lag-simulator.ts', import.meta.url));
  cleanups.push(() => simulator.close());
  const simServer = await simulator.call<{ url: string; clientSecret: string }>('listen', { stores, latencyMs: 50 });
  const box = createSecretBox(randomBytes(32));
  for (const s of stores) await saveSealedToken(db, box, { storeId: s.storeId, token: s.token, source: 'cli' });

  const ingest = await forkChild(new URL('./lib/lag-ingest.ts', import.meta.url));
  cleanups.push(() => ingest.close());
  const { port } = await ingest.call<{ port: number }>('listen', { url: database.url, clientSecret: simServer.clientSecret });

  const controller = new AbortController();
  // Each request's time to its answer, kept during the window: how much of the delay is Ecwid's.
  const rest: number[] = [];
  let timing = false;
  const clientFor = createClientFactory({
    baseUrl: simServer.url,
    fetch: async (input, init) => {
      const started = performance.now();
      const response = await fetch(input, init);
      if (timing) rest.push(performance.now() - started);
      return response;
    },
  });
  const loop = monitorEventLoopDelay({ resolution: 5 });
  // Listening: as `mirror project` wires it. Ingest is another process, so its webhooks reach
  // enrichment through Postgres's NOTIFY.
  const appended = mode === 'listening' ? createLogSignal() : undefined;
  const stopListening = appended ? await listenForAppends(database, appended) : async () => {};
  cleanups.push(stopListening);
  const worker = Promise.all([
    runEnrichment({
      db,
      log,
      clientFor,
      box,
      signal: controller.signal,
      concurrency: 8,
      pollIntervalMs: 100,
      pipeline: process.env.LAG_PIPELINE !== 'off',
      ...(process.env.LAG_FULL_READS === 'on' && { fullReadIntervalMs: 0 }),
      ...(appended && { appended }),
      // Store leases, as `mirror project` takes them: a store's chain of passes runs under its
      // lease (one lock round trip when the chain starts).
      openSession: database.openSession,
    }),
    // On a connection of its own, as `mirror project` runs it.
    runProjection({
      db,
      log,
      signal: controller.signal,
      idleMs: 100,
      openDedicated: database.openDedicated,
      ...(appended && { appended }),
    }),
  ]);
  cleanups.push(async () => {
    controller.abort();
    await worker;
  });

  // The sampler: (database time, projection checkpoint), every 10 ms.
  const samples: { at: number; checkpoint: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      // Prepared: the instrument should cost the machine as little as it can.
      const [row] = await execPreparedSql<{ at: Date | string; position: string | number | null }>(
        db,
        sql`select clock_timestamp() as at, (select position from consumer_checkpoints where name = 'projection') as position`,
      );
      samples.push({ at: new Date(row!.at).getTime(), checkpoint: Number(row!.position ?? 0) });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  cleanups.push(async () => {
    sampling = false;
    await sampler;
  });

  const target = `http://127.0.0.1:${port}/webhooks/ecwid`;
  const perStore = rate / storeCount / webhooksPerChange;
  await simulator.call('start', { target, ratePerSecond: perStore });

  await new Promise((resolve) => setTimeout(resolve, warmupS * 1000));
  const [{ now: windowStart } = { now: new Date() }] = await execRows<{ now: Date }>(db, sql`select clock_timestamp() as now`);
  const requestsBefore = await simulator.call<number>('requests');
  const childrenCpu = () => Promise.all([ingest.call<number>('cpuMs'), simulator.call<number>('cpuMs')]);
  const [ingestBefore, simulatorBefore] = await childrenCpu();
  const cpuBefore = process.cpuUsage();
  const pgBefore = await backendsCpuMs(db);
  timing = true;
  loop.enable();
  await withCpuProfile(
    mode === 'listening' ? args['cpu-prof'] : undefined,
    () => new Promise((resolve) => setTimeout(resolve, durationS * 1000)),
  );
  const cpuAfter = process.cpuUsage(cpuBefore);
  timing = false;
  loop.disable();
  // The histogram holds the intervals between the timer's runs: late by what exceeds 5 ms.
  const late = (ns: number) => Math.max(0, ns / 1e6 - 5);
  const loopDelay = { p50: late(loop.percentile(50)), p99: late(loop.percentile(99)), max: late(loop.max) };
  const [ingestAfter, simulatorAfter] = await childrenCpu();
  const pgAfter = await backendsCpuMs(db);
  let pgMs = 0;
  // Backends that connected during the window count from 0; those that left it are not counted.
  for (const [pid, ms] of pgAfter) pgMs += ms - (pgBefore.get(pid) ?? 0);
  const cpu = {
    workerMs: (cpuAfter.user + cpuAfter.system) / 1000,
    ingestMs: ingestAfter - ingestBefore,
    simulatorMs: simulatorAfter - simulatorBefore,
    pgMs,
  };
  const [{ now: windowEnd } = { now: new Date() }] = await execRows<{ now: Date }>(db, sql`select clock_timestamp() as now`);
  const requestsDuring = (await simulator.call<number>('requests')) - requestsBefore;
  await simulator.call('stop');

  // Drain: wait until every webhook of the window is projected (or 60 s pass).
  const drainDeadline = Date.now() + 60_000;
  type Row = {
    position: string | number;
    received_at: Date | string;
    answered_by: string | number | null;
    answered_at: Date | string | null;
    parked: boolean;
  };
  let rows: Row[] = [];
  for (;;) {
    rows = await execRows<Row>(
      db,
      sql`select w.position, w.received_at,
                 (select min(r.position) from event_log r
                   where r.store_id = w.store_id and r.kind in ('snapshot', 'tombstone') and r.caused_by @> array[w.position]) as answered_by,
                 (select min(r.received_at) from event_log r
                   where r.store_id = w.store_id and r.kind in ('snapshot', 'tombstone') and r.caused_by @> array[w.position]) as answered_at,
                 exists (select 1 from parked_events p where p.position = w.position) as parked
          from event_log w
          where w.kind = 'webhook' and w.received_at >= ${windowStart} and w.received_at < ${windowEnd}`,
    );
    const checkpoint = samples.at(-1)?.checkpoint ?? 0;
    const pending = rows.filter((r) => !r.parked && (r.answered_by === null || Number(r.answered_by) > checkpoint));
    if (pending.length === 0 || Date.now() > drainDeadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const delays: number[] = [];
  // The split: received → snapshot committed (enrichment), then → visible (projection).
  const enrichDelays: number[] = [];
  const projectDelays: number[] = [];
  let unanswered = 0;
  let parked = 0;
  for (const r of rows) {
    if (r.parked) {
      parked++;
      continue;
    }
    if (r.answered_by === null) {
      unanswered++;
      continue;
    }
    const position = Number(r.answered_by);
    const visible = samples.find((s) => s.checkpoint >= position);
    if (!visible) {
      unanswered++;
      continue;
    }
    const received = new Date(r.received_at).getTime();
    const answered = new Date(r.answered_at!).getTime();
    delays.push(Math.max(0, visible.at - received));
    enrichDelays.push(Math.max(0, answered - received));
    projectDelays.push(Math.max(0, visible.at - answered));
  }
  await shutdown();
  return { rows: rows.length, delays, enrichDelays, projectDelays, unanswered, parked, requestsDuring, cpu, rest, loopDelay };
}

async function main() {
  const lines = [`lag bench: webhook received → row visible (${describeMachine()})`];
  const results = new Map<Mode, Measured>();
  for (const mode of ['polling', 'listening'] as const) {
    const m = await measure(mode);
    results.set(mode, m);
    const s = summarizeLatencies(m.delays);
    const e = summarizeLatencies(m.enrichDelays);
    const p = summarizeLatencies(m.projectDelays);
    const r = summarizeLatencies(m.rest);
    const webhookRate = m.rows / durationS;
    // "node" is the mirror's own processes (worker and ingest), as in production; the simulated
    // Ecwid is printed apart and not counted in it.
    const nodeMs = m.cpu.workerMs + m.cpu.ingestMs;
    const share = (ms: number) => `${(ms / durationS / 10).toFixed(0)}%`;
    const perWebhook = (ms: number) => `${(ms / m.rows).toFixed(2)} ms`;
    lines.push(
      `${mode === 'polling' ? 'baseline: polling only (every 100 ms)' : 'listening: LISTEN/NOTIFY, polling as fallback'}`,
      `  load      ${formatInt(m.rows)} webhooks in ${durationS} s = ${webhookRate.toFixed(1)}/s over ${storeCount} stores${quietStores > 0 ? ` (and ${formatInt(quietStores)} quiet ones in the log)` : ''}${process.env.LAG_FULL_READS === 'on' ? ', every store read at every wake' : ''}; REST latency 50 ms; ${(m.requestsDuring / durationS).toFixed(1)} Ecwid requests/s (limit 10/s per token)`,
      `  measured  ${formatInt(m.delays.length)} webhooks; ${m.unanswered} not visible after the drain; ${m.parked} parked`,
      `  delay ms  p50 ${formatMs(s.p50)}  p90 ${formatMs(s.p90)}  p99 ${formatMs(s.p99)}  max ${formatMs(s.max)}`,
      `  cpu       node ${share(nodeMs)} of a core, postgres backends ${share(m.cpu.pgMs)}; per webhook node ${perWebhook(nodeMs)}, postgres ${perWebhook(m.cpu.pgMs)}`,
      `  cpu each  worker ${share(m.cpu.workerMs)} (${perWebhook(m.cpu.workerMs)}/webhook), ingest ${share(m.cpu.ingestMs)} (${perWebhook(m.cpu.ingestMs)}); simulator, not in node: ${share(m.cpu.simulatorMs)} (${perWebhook(m.cpu.simulatorMs)})`,
      `  split ms  enrichment p50 ${formatMs(e.p50)} p99 ${formatMs(e.p99)} | projection p50 ${formatMs(p.p50)} p99 ${formatMs(p.p99)}`,
      `  seen by the worker  Ecwid request p50 ${formatMs(r.p50)} p99 ${formatMs(r.p99)} max ${formatMs(r.max)} (${formatInt(m.rest.length)} requests) | event loop late by p50 ${formatMs(m.loopDelay.p50)} p99 ${formatMs(m.loopDelay.p99)} max ${formatMs(m.loopDelay.max)} (5 ms timer)`,
    );
  }
  const base = results.get('polling')!;
  const listening = results.get('listening')!;
  const b = summarizeLatencies(base.delays);
  const l = summarizeLatencies(listening.delays);
  const met = listening.delays.length > 0 && l.p99 <= targetP99Ms && listening.unanswered === 0;
  lines.push(
    `  vs baseline  p50 ${(l.p50 / b.p50).toFixed(2)}×  p99 ${(l.p99 / b.p99).toFixed(2)}× the polling run's`,
    `  target    listening p99 ≤ ${targetP99Ms} ms: ${met ? `${mark(true)} met` : `${mark(false)} MISSED`}`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`lag bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await shutdown().catch(() => {});
  process.exit(1);
});
