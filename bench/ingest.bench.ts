/**
 * How much does durability cost? Drives ingest (verify, parse, group-commit into a real
 * Postgres, then 200) and a bare Hono server that answers 200 without doing anything with the
 * same load: wrk (a C load generator; bench/wrk/ingest.lua), 32 connections, correctly signed
 * Ecwid-shaped webhooks, a fresh eventId per request. Prints req/s and latency of each, the
 * ratio, and the CPU each party used, the load generator's included.
 *
 *   pnpm bench:ingest [--duration 10] [--connections 32] [--threads 1] [--warmup 3] [--log-level silent]
 *                    [--cpu-prof <file>] [--floor] [--floor-in-flight 2]
 *
 * Targets on a 2-core machine: ratio ingest/bare ≥ 0.5 and ingest p99 ≤ 20 ms; missing one is
 * reported ("MISSED") and exits 0. The run fails (exit 1) when the load generator saturated
 * (wrk above 90% of a core per thread: the figures would measure wrk, not the servers), or when
 * the log does not match what was acknowledged: every webhook ingest answered 200 "inserted" is
 * a row, the client saw no more 2xx than there are rows, no non-2xx, and the only webhooks sent
 * but not in the log are the last one per connection (cut off in flight when wrk stopped).
 *
 * The database is `BENCH_DATABASE_URL` or `DATABASE_URL` (default
 * postgres://postgres@127.0.0.1:5432/test); the run creates `mirror_bench_<random>` there and
 * drops it at the end, also on failure or Ctrl-C. INGEST_BATCH_MAX and INGEST_BATCH_WINDOW_MS
 * are read like ingest reads them. `--max-in-flight N` (an experiment: ingest does not expose
 * it) wires the app with that many groups in flight instead of ingest's one. `WRK`
 * names the wrk binary (default: `wrk` on the PATH). `--cpu-prof <file>` writes a V8 CPU profile of
 * the servers' process during the measured ingest run (summarise it with
 * `tsx bench/lib/profile-summary.ts <file>`).
 *
 * `--floor` also drives, last, the cheapest durable server there is (bench/lib/ingest-floor.ts:
 * the body as text into a table with only a primary key, group-committed synchronously,
 * `--floor-in-flight` groups at once) and prints its ratio to bare and its CPU per answer: the
 * bound on what any ingest that stores each webhook before answering could reach here.
 *
 * It also times a WAL flush alone (a synchronous commit of one WAL record) and prints the
 * ceiling it sets: a webhook is answered only after a flush begun after its insert, so with C connections no durable server
 * answers more than C / (flush time) per second, whatever its CPU.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGroupCommitter, createLogger, type Logger } from '@mirror/core';
import { like } from 'drizzle-orm';
import {
  appendWebhooks,
  eventLogTable,
  waitForCommittedWebhooks,
  storeTokensTable,
  type AppendOutcome,
  type WebhookAppend,
} from '@mirror/db';
import { listen } from '@mirror/core/http';
import { createIngest, createIngestApp, loadIngestOptions, type IngestOptions, type WebhookOutcome } from '@mirror/ingest';
import { Hono } from 'hono';
import { writeIngestTemplates } from './ingest-requests.ts';
import { benchAdminUrl, benchLifecycle } from './lib/lifecycle.ts';
import { createBenchDatabase, type BenchDatabase } from './lib/bench-database.ts';
import { createLatencyRecorder } from './lib/latency.ts';
import { answerCost, formatAnswerCost, measureRunCpu, systemCpuBusyMs, type RunCpu } from './lib/cpu.ts';
import { withCpuProfile } from './lib/cpu-profile.ts';
import { describeMachine, formatInt, formatMs, formatPercent, formatTable, mark } from './lib/report.ts';
import { generatorSaturation, runWrk, saturatedAt, type WrkResult } from './lib/run-wrk.ts';
import { benchArgs, nonNegative, positive } from './lib/args.ts';
import { createIngestFloor } from './lib/ingest-floor.ts';

const targets = { ratio: 0.5, p99Ms: 20 };
const clientSecret = 'bench_client_secret';
const storeIds = [1003, 2_004_005, 31_337];

const { values: args } = benchArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    threads: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '3' },
    'log-level': { type: 'string', default: 'silent' },
    'max-in-flight': { type: 'string' },
    'cpu-prof': { type: 'string' },
    floor: { type: 'boolean', default: false },
    'floor-in-flight': { type: 'string', default: '2' },
  },
});
const durationSeconds = positive('duration', args.duration);
const connections = positive('connections', args.connections);
const threads = positive('threads', args.threads);
const warmupSeconds = nonNegative('warmup', args.warmup);
const logLevel = args['log-level'];
const maxInFlight = args['max-in-flight'] === undefined ? undefined : positive('max-in-flight', args['max-in-flight']);
const floorInFlight = positive('floor-in-flight', args['floor-in-flight']);
// With logging on, ingest's JSON lines own stdout (as in production); the report moves to stderr.
const print = logLevel === 'silent' ? console.log : console.error;

const config = loadIngestOptions({
  ...process.env,
  ECWID_CLIENT_SECRET: clientSecret,
  ECWID_WEBHOOK_VERIFY: 'true',
});

const bench = benchLifecycle('ingest benchmark');

async function main(): Promise<number> {
  const database = await createBenchDatabase(benchAdminUrl, { maxConnections: 10 });
  bench.onCleanup(() => database.drop());
  // Ingest keeps webhooks of mirrored stores only.
  await database.db.insert(storeTokensTable).values(storeIds.map((storeId) => ({ storeId, token: 'secret_bench' })));
  const log = createLogger({ level: logLevel });

  // Counters cover the measured run only; the warm-up writes rows too.
  let measuring = false;
  const outcomes = new Map<WebhookOutcome, number>();
  const flushMs = createLatencyRecorder();
  const queuedMs = createLatencyRecorder();
  const flush = { count: 0, items: 0, maxSize: 0, failed: 0 };
  const ingest = wireIngest(database, config, log, {
    onOutcome: (outcome) => {
      if (measuring) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    },
    onFlush: ({ size, durationMs, failed, queuedMs: queued }) => {
      if (!measuring) return;
      queuedMs.record(queued);
      flush.count += 1;
      flush.items += size;
      flush.maxSize = Math.max(flush.maxSize, size);
      if (failed) flush.failed += 1;
      flushMs.record(durationMs);
    },
  });
  const bare = new Hono();
  bare.all('*', (c) => c.body(null, 200));

  // Both servers through the same listen() (so the same @hono/node-server setup), in this
  // process; only the one under load is busy.
  const ingestServer = await listen(ingest.app, 0, '127.0.0.1');
  bench.onCleanup(() => new Promise((resolve) => ingestServer.server.close(resolve)));
  const bareServer = await listen(bare, 0, '127.0.0.1');
  bench.onCleanup(() => new Promise((resolve) => bareServer.server.close(resolve)));

  const floor = args.floor ? await createIngestFloor(database.url, { maxInFlight: floorInFlight, maxBatch: config.batchMax }) : undefined;
  const floorServer = floor ? await listen(floor.app, 0, '127.0.0.1') : undefined;
  if (floor && floorServer) {
    bench.onCleanup(() => new Promise((resolve) => floorServer.server.close(resolve)));
    bench.onCleanup(() => floor.close());
  }

  const templates = mkdtempSync(join(tmpdir(), 'mirror-bench-ingest-'));
  bench.onCleanup(async () => rmSync(templates, { recursive: true, force: true }));
  const templatesFile = join(templates, 'webhooks.tsv');
  writeIngestTemplates({ clientSecret, storeIds, seed: 2 }, templatesFile);
  // Every run its own eventId prefix, so no run resends another's webhooks.
  const load = async (port: number, seconds: number) => {
    const prefix = randomBytes(4).toString('hex');
    const result = await runWrk(
      {
        url: `http://127.0.0.1:${port}`,
        connections,
        threads,
        durationSeconds: seconds,
        script: 'ingest.lua',
        scriptArgs: [clientSecret, templatesFile, prefix],
      },
      bench.signal,
    );
    return { ...result, prefix };
  };

  print(
    `ingest benchmark — wrk, ${threads} thread(s), ${connections} connections, ${durationSeconds} s each (after ${warmupSeconds} s warm-up), ${describeMachine()}\n` +
      `ingest: batch max ${config.batchMax}, window ${config.batchWindowMs} ms, ` +
      `max in flight ${maxInFlight ?? 'default'}, log ${logLevel}; database ${database.name}`,
  );

  const flushWait = await timeFlushWaits(database, 100);
  const idle = await backgroundCpu(1000);
  if (idle > 0.2)
    print(`warning: ${formatPercent(idle)} of a core was busy before the run (other work on this machine); results will be low and noisy`);

  if (warmupSeconds > 0) {
    await load(bareServer.port, warmupSeconds);
    await load(ingestServer.port, warmupSeconds);
    if (floorServer) await load(floorServer.port, warmupSeconds);
  }
  // Requests cut off when the warm-up stopped may still be committing.
  await sleep(200);
  await ingest.drain();

  const bareRun = await measureRunCpu(() => load(bareServer.port, durationSeconds));

  const rowsBefore = await database.db.$count(eventLogTable);
  measuring = true;
  const ingestRun = await measureRunCpu(() => withCpuProfile(args['cpu-prof'], () => load(ingestServer.port, durationSeconds)));
  await sleep(200);
  await ingest.drain();
  measuring = false;

  const rows = (await database.db.$count(eventLogTable)) - rowsBefore;
  const check = await checkLog(database, ingestRun.result, rows, outcomes);

  // The floor last, so ingest's figures are measured as without it.
  let floorRun: Measured | undefined;
  let floorRows = 0;
  if (floor && floorServer) {
    const before = await floor.rows();
    floorRun = await measureRunCpu(() => load(floorServer.port, durationSeconds));
    await sleep(200);
    floorRows = (await floor.rows()) - before;
  }

  print(
    formatTable(
      ['server', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'non-2xx', 'errors', 'cpu % server/wrk/pg/other'],
      [['bare', ...row(bareRun)], ['ingest', ...row(ingestRun)], ...(floorRun ? [['floor', ...row(floorRun)]] : [])],
    ),
  );
  const ratio = ingestRun.result.requestsPerSecond / bareRun.result.requestsPerSecond;
  const p99 = ingestRun.result.latency.p99;
  const ratioOk = ratio >= targets.ratio;
  const p99Ok = p99 <= targets.p99Ms;
  print(
    `ratio ingest/bare: ${ratio.toFixed(2)} (target ≥ ${targets.ratio}) ${mark(ratioOk)}  ` +
      `p99: ${formatMs(p99)} ms (target ≤ ${targets.p99Ms}) ${mark(p99Ok)}  ` +
      `rows: ${formatInt(rows)} == 2xx ${formatInt(check.answered200)} ${mark(check.ok)}`,
  );
  // Little's law: with every connection's webhook held for at least one WAL flush begun after
  // its insert, a run cannot answer more than connections / flush time per second.
  const ceiling = connections / (flushWait / 1000);
  print(
    `disk: a WAL flush (a synchronous commit of one record) takes ${formatMs(flushWait)} ms (median of 100 back to back); each webhook waits for one begun after its insert, ` +
      `so ${connections} connections cannot get more than ${formatInt(ceiling)} durable answers/s (${(ceiling / bareRun.result.requestsPerSecond).toFixed(2)}× bare); ` +
      `ingest reached ${formatPercent(ingestRun.result.requestsPerSecond / ceiling)} of that`,
  );
  // What each answer cost in CPU, and how many answers/s two cores could give at that cost:
  // the ratio target is reachable only if that ceiling is at least that far above bare.
  const bareCost = answerCost(bareRun.cpu, bareRun.result.requestsPerSecond);
  const ingestCost = answerCost(ingestRun.cpu, ingestRun.result.requestsPerSecond);
  print(
    `cpu per answer: bare ${formatAnswerCost(bareCost)}; ingest ${formatAnswerCost(ingestCost)}; ` +
      `at ingest's cost this machine answers at most ${formatInt(ingestCost.ceiling)} webhooks/s ` +
      `(${(ingestCost.ceiling / bareRun.result.requestsPerSecond).toFixed(2)}× bare; target ${targets.ratio}×)`,
  );
  if (floorRun) {
    const floorCost = answerCost(floorRun.cpu, floorRun.result.requestsPerSecond);
    const floorRatio = floorRun.result.requestsPerSecond / bareRun.result.requestsPerSecond;
    const floorOk = floorRun.result.completed - floorRun.result.non2xx <= floorRows;
    print(
      `floor (body as text into a table with a primary key only, group insert committed synchronously, ${floorInFlight} in flight; ` +
        `no signature, parsing, dedupe, lock or notify): ratio floor/bare ${floorRatio.toFixed(2)}, ingest reached ${formatPercent(ratio / floorRatio)} of the floor; ` +
        `rows ${formatInt(floorRows)} ≥ 2xx ${formatInt(floorRun.result.completed - floorRun.result.non2xx)} ${mark(floorOk)}\n` +
        `  cpu per answer: floor ${formatAnswerCost(floorCost)}; at the floor's cost this machine answers at most ${formatInt(floorCost.ceiling)} webhooks/s ` +
        `(${(floorCost.ceiling / bareRun.result.requestsPerSecond).toFixed(2)}× bare)`,
    );
  }
  const busiest = Math.max(bareRun.cpu.other, ingestRun.cpu.other, floorRun?.cpu.other ?? 0);
  if (busiest > 0.2)
    print(`warning: up to ${formatPercent(busiest)} of a core went to other work during a run (the "other" column); results are not clean`);
  const flushes = flushMs.summary();
  print(
    `ingest commits: ${formatInt(flush.count)} flushes of ${(flush.items / Math.max(1, flush.count)).toFixed(1)} webhooks on average ` +
      `(max ${flush.maxSize}${flush.failed ? `, ${flush.failed} failed` : ''}), flush p50 ${formatMs(flushes.p50)} ms, p99 ${formatMs(flushes.p99)} ms\n` +
      `  per group, p50 / p99 ms: oldest webhook queued ${formatMs(queuedMs.summary().p50)} / ${formatMs(queuedMs.summary().p99)}`,
  );
  print(
    `load generator: wrk used ${formatPercent(bareRun.result.cpuPerThread)} (bare) and ${formatPercent(ingestRun.result.cpuPerThread)} (ingest) ` +
      `of a core per thread (fails above ${formatPercent(saturatedAt)})`,
  );
  print(
    `log check: ${formatInt(rows)} rows; ${formatInt(check.answered200)} webhooks answered 200 "inserted"; ` +
      `${formatInt(check.clientOk)} 2xx seen by wrk; ${formatInt(check.sent)} sent, ${check.cutOff} cut off in flight when wrk stopped` +
      (check.problems.length ? `\n  ✗ ${check.problems.join('\n  ✗ ')}` : ''),
  );

  const saturated = generatorSaturation([
    { name: 'the bare run', result: bareRun.result },
    { name: 'the ingest run', result: ingestRun.result },
    ...(floorRun ? [{ name: 'the floor run', result: floorRun.result }] : []),
  ]);
  if (saturated.length) print(`FAIL: ${saturated.join('; ')}`);
  if (!check.ok) print('FAIL: the log does not match what was acknowledged');
  if (saturated.length || !check.ok) return 1;
  const missed = [
    ...(ratioOk ? [] : [`ratio ${ratio.toFixed(2)} < ${targets.ratio}`]),
    ...(p99Ok ? [] : [`p99 ${formatMs(p99)} ms > ${targets.p99Ms} ms`]),
  ];
  print(missed.length ? `MISSED: ${missed.join(', ')} (rows check PASS)` : 'PASS: all targets met, rows check PASS');
  return 0;
}

type Measured = { result: WrkResult & { prefix: string }; cpu: RunCpu };

/**
 * The median time of a synchronous commit of one WAL record (waitForCommittedWebhooks) run back
 * to back on an idle log: mostly the disk's fdatasync of the WAL, which no amount of CPU
 * shortens, and which every group's commit waits for.
 */
async function timeFlushWaits(database: BenchDatabase, count: number): Promise<number> {
  const times = createLatencyRecorder();
  for (let i = 0; i < count; i++) {
    const startedAt = performance.now();
    await waitForCommittedWebhooks(database.db);
    times.record(performance.now() - startedAt);
  }
  return times.summary().p50;
}

/** Fraction of one core busy over `ms`, measured while the benchmark is idle. */
async function backgroundCpu(ms: number): Promise<number> {
  const before = systemCpuBusyMs();
  await sleep(ms);
  return (systemCpuBusyMs() - before) / ms;
}

function row({ result, cpu }: Measured): string[] {
  return [
    formatInt(result.requestsPerSecond),
    formatMs(result.latency.p50),
    formatMs(result.latency.p99),
    formatMs(result.latency.p999),
    formatInt(result.non2xx),
    formatInt(result.errors),
    [cpu.server, cpu.load, cpu.postgres, cpu.other].map(formatPercent).join(' / '),
  ];
}

/**
 * The log must hold exactly the webhooks ingest answered 200 "inserted", all of them webhooks
 * this run sent, and the client cannot have seen more 2xx than that. wrk drops the answers of
 * requests in flight when it stops (one per connection at most), so those may be rows or not;
 * every other webhook sent must be a row. wrk's eventIds are `<prefix>-<thread>-4000-8000-<n>`
 * with n counting 1, 2, … per thread, so which were sent is known without tracking each one.
 */
async function checkLog(database: BenchDatabase, result: Measured['result'], rows: number, outcomes: Map<WebhookOutcome, number>) {
  const stored = await database.db
    .select({ eventId: eventLogTable.eventId })
    .from(eventLogTable)
    .where(like(eventLogTable.eventId, `${result.prefix}-%`));
  // wrk calls request() once on thread 0 before the run to check the script, and never sends it.
  const sent = result.sentPerThread.reduce((a, b) => a + b, 0) - 1;
  const seen = result.sentPerThread.map(() => new Set<number>());
  const problems: string[] = [];
  let foreign = 0;
  for (const { eventId } of stored) {
    const match = /^[0-9a-f]{8}-([0-9a-f]{4})-4000-8000-([0-9a-f]{12})$/.exec(eventId ?? '');
    const thread = match ? parseInt(match[1]!, 16) : -1;
    const n = match ? parseInt(match[2]!, 16) : -1;
    if (!seen[thread] || n < 1 || n > result.sentPerThread[thread]!) foreign += 1;
    else seen[thread]!.add(n);
  }
  // Per thread, a webhook missing from the log is allowed only among the last ones sent (one per
  // connection of the thread); wrk spreads connections evenly over its threads.
  const perThread = Math.ceil(connections / threads);
  let cutOff = 0;
  result.sentPerThread.forEach((count, thread) => {
    for (let n = 1; n <= count; n++) {
      if (seen[thread]!.has(n) || (thread === 0 && n === 1)) continue;
      if (n > count - perThread) cutOff += 1;
      else if (problems.length < 5) problems.push(`webhook ${n} of wrk thread ${thread} was sent early in the run and is not in the log`);
    }
  });
  const answered200 = outcomes.get('inserted') ?? 0;
  const clientOk = result.completed - result.non2xx;
  if (foreign > 0) problems.push(`${foreign} rows of this run are webhooks wrk did not send`);
  if (stored.length !== rows) problems.push(`${rows} new rows but ${stored.length} of them carry this run's eventIds`);
  if (rows !== answered200) problems.push(`${rows} new rows but ${answered200} webhooks answered 200 "inserted"`);
  if (clientOk > answered200) problems.push(`wrk saw ${clientOk} 2xx but ingest answered ${answered200}`);
  if (result.non2xx > 0 || result.errors > 0) problems.push(`non-2xx answers: ${result.non2xx}, socket errors: ${result.errors}`);
  for (const [outcome, count] of outcomes) {
    if (outcome !== 'inserted') problems.push(`${count} webhooks had outcome ${outcome} (every eventId is fresh)`);
  }
  return { ok: problems.length === 0, answered200, clientOk, sent, cutOff, problems };
}

/**
 * The app as createIngest wires it, or, with --max-in-flight, the same parts wired here with
 * that many group inserts in flight (createIngest does not take the option).
 */
function wireIngest(
  database: BenchDatabase,
  options: IngestOptions,
  log: Logger,
  hooks: Required<NonNullable<Parameters<typeof createIngest>[3]>>,
) {
  if (maxInFlight === undefined) return createIngest(database, options, log, hooks);
  const committer = createGroupCommitter<WebhookAppend, AppendOutcome>({
    flush: (rows) => appendWebhooks(database.db, rows),
    maxBatch: options.batchMax,
    windowMs: options.batchWindowMs,
    maxInFlight,
    onFlush: hooks.onFlush,
  });
  const app = createIngestApp({
    append: (row) => committer.submit(row),
    checkReady: () => database.checkReady(),
    clientSecret: options.clientSecret,
    log,
    bodyLimitBytes: options.bodyLimitBytes,
    appendTimeoutMs: options.appendTimeoutMs,
    maxEventAgeMs: options.maxEventAgeMs,
    isMirroredStore: (storeId) => storeIds.includes(storeId),
    onOutcome: hooks.onOutcome,
  });
  return { app, drain: () => committer.drain() };
}

await bench.run(main);
