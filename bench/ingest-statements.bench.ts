/**
 * What does Postgres spend per webhook on ingest's statements? One connection runs them back to
 * back (no HTTP, no concurrency) and the bench reads that backend's own CPU time
 * (/proc/<pid>/stat, utime + stime), which other work on the machine disturbs far less than
 * wall-clock time. Printed per webhook, for groups of 1, 4, 16 and 64:
 *
 * - the group's insert as ingest sends it (`appendWebhooks`: one JSON parameter, the commit-order
 *   and notify triggers, committed synchronously: durable when it returns; decision 0019);
 * - the same insert committed without waiting for the disk (`commitWebhooks`), alone and followed
 *   by a flush-wait (`waitForCommittedWebhooks`): ingest's two transactions per group from
 *   decision 0011 until 0019;
 * - per call: the flush-wait alone (`waitForCommittedWebhooks`), and `select 1` as the baseline
 *   (a round trip that does nothing). The flush-wait's CPU is split into user and system time:
 *   system time is mostly the kernel writing and flushing the WAL.
 *
 *   pnpm bench:ingest-statements [--groups 2000] [--runs 2]
 *
 * Needs Linux (/proc) and Postgres on the same machine. The database is BENCH_DATABASE_URL or
 * DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); `mirror_bench_<random>` is
 * created there and dropped at the end. The bodies are bench:ingest's (bench/ingest-requests.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendWebhooks, commitWebhooks, databaseOver, execRows, waitForCommittedWebhooks, type WebhookAppend } from '@mirror/db';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { writeIngestTemplates } from './ingest-requests.ts';
import { benchArgs, positive } from './lib/args.ts';
import { readProcessCpu } from './lib/cpu.ts';
import { createBenchDatabase } from './lib/bench-database.ts';
import { benchAdminUrl, benchLifecycle } from './lib/lifecycle.ts';
import { describeMachine, formatTable } from './lib/report.ts';

const { values: args } = benchArgs({
  options: {
    groups: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '2' },
  },
});
const webhooksPerCase = positive('groups', args.groups);
const runs = positive('runs', args.runs);
const groupSizes = [1, 4, 16, 64];

const bench = benchLifecycle('ingest statements benchmark');

async function main(): Promise<number> {
  const database = await createBenchDatabase(benchAdminUrl, { maxConnections: 2 });
  bench.onCleanup(() => database.drop());
  // One connection of its own, so every statement runs on the backend whose CPU is read.
  const client = postgres(database.url, { max: 1, onnotice: () => {} });
  bench.onCleanup(() => client.end({ timeout: 5 }));
  const db = databaseOver(client);
  const [backend] = await execRows<{ pid: number }>(db, sql`select pg_backend_pid() as pid`);
  const backendCpu = () => {
    const cpu = readProcessCpu(backend!.pid);
    if (!cpu) throw new Error(`cannot read the CPU time of backend ${backend!.pid} from /proc (Linux only)`);
    // As µs.
    return { user: cpu.userMs * 1000, system: cpu.systemMs * 1000 };
  };

  const dir = mkdtempSync(join(tmpdir(), 'mirror-bench-statements-'));
  bench.onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
  writeIngestTemplates({ clientSecret: 'bench', storeIds: [1003, 2_004_005, 31_337], seed: 2 }, join(dir, 'webhooks.tsv'));
  const rests = readFileSync(join(dir, 'webhooks.tsv'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split('\t')[1]!);
  let n = 0;
  const webhook = (): WebhookAppend => {
    n += 1;
    const eventId = `bench-${n}`;
    return {
      storeId: [1003, 2_004_005, 31_337][n % 3]!,
      eventId,
      eventType: 'order.updated',
      entityKind: 'order',
      entityId: String(n % 5000),
      isKnownType: true,
      eventCreated: 1_700_000_000,
      body: `{"eventId":"${eventId}","eventCreated":1700000000${rests[n % rests.length]}`,
    };
  };
  const group = (size: number) => Array.from({ length: size }, webhook);

  // Warm up: plans, caches, and a log that is not empty.
  for (let i = 0; i < 500; i++) await commitWebhooks(db, group(16));
  await waitForCommittedWebhooks(db);

  const measure = async (calls: number, run: () => Promise<unknown>) => {
    const cpu = backendCpu();
    const started = performance.now();
    for (let i = 0; i < calls; i++) await run();
    const after = backendCpu();
    const userUs = (after.user - cpu.user) / calls;
    const systemUs = (after.system - cpu.system) / calls;
    return { cpuUs: userUs + systemUs, userUs, systemUs, wallUs: ((performance.now() - started) * 1000) / calls };
  };

  console.log(`ingest statements benchmark — one connection, ${describeMachine()}`);
  console.log('Postgres backend CPU per webhook, µs; wall time per group in brackets');
  for (let run = 1; run <= runs; run++) {
    const rows: string[][] = [];
    const cell = (m: { cpuUs: number; wallUs: number }, size: number) => `${(m.cpuUs / size).toFixed(1)} (${m.wallUs.toFixed(0)})`;
    const synchronous: string[] = ['insert, sync commit'];
    const insert: string[] = ['insert, async commit'];
    const withWait: string[] = ['async + flush-wait'];
    for (const size of groupSizes) {
      const calls = Math.max(20, Math.round(webhooksPerCase / size));
      const fewer = Math.max(20, Math.round(calls / 2));
      synchronous.push(cell(await measure(fewer, () => appendWebhooks(db, group(size))), size));
      insert.push(cell(await measure(calls, () => commitWebhooks(db, group(size))), size));
      withWait.push(
        cell(
          await measure(fewer, async () => {
            await commitWebhooks(db, group(size));
            await waitForCommittedWebhooks(db);
          }),
          size,
        ),
      );
    }
    rows.push(synchronous, insert, withWait);
    const baseline = await measure(2000, () => execRows(db, sql`select 1`));
    const wait = await measure(1000, () => waitForCommittedWebhooks(db));
    console.log(`\nrun ${run} (load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`);
    console.log(formatTable(['statement', ...groupSizes.map((s) => `group ${s}`)], rows));
    console.log(
      `per call: flush-wait ${wait.cpuUs.toFixed(0)} µs CPU (user ${wait.userUs.toFixed(0)}, system ${wait.systemUs.toFixed(0)}; ` +
        `${wait.wallUs.toFixed(0)} µs wall), select 1 (baseline) ${baseline.cpuUs.toFixed(0)} µs CPU (${baseline.wallUs.toFixed(0)} µs wall)`,
    );
  }
  return 0;
}

await bench.run(main);
