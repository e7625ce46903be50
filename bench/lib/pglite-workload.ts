/**
 * A fixed workload on PGlite, run as a child of `pnpm bench:embedded` under the node arguments
 * being compared: upserts of order-sized JSON documents and reads over them, in rounds, in the
 * data folder given (a copy of one already created: initdb would dwarf the workload). Prints one
 * JSON line: each round's milliseconds, the process's CPU and its RSS.
 *
 *   node [arguments] --import tsx bench/lib/pglite-workload.ts <data folder> <rounds>
 */
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';

const [dataDir, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 4);
const rowsPerRound = 2000;
const cpuStart = process.cpuUsage();
const db = await PGlite.create(dataDir!, { postgresqlconf: ['shared_buffers = 8MB', 'work_mem = 4MB'] });
await db.exec(`create table if not exists doc (id int primary key, created_at timestamptz not null, status text not null, body jsonb not null);
  create index if not exists doc_status_created on doc (status, created_at desc)`);
const line = { sku: 'SKU-0001', name: 'Handmade ceramic mug', price: 24.5, quantity: 2, options: [{ name: 'Colour', value: 'blue' }] };
const epoch = Date.UTC(2026, 0, 1);
const roundMs: number[] = [];
for (let round = 0; round < rounds; round++) {
  const started = performance.now();
  for (let i = 0; i < rowsPerRound; i++) {
    const body = { id: i, total: i * 1.5, email: `buyer${i}@example.com`, items: [line, line, line], note: 'x'.repeat(200), round };
    await db.query(
      `insert into doc values ($1, $2, $3, $4)
       on conflict (id) do update set status = excluded.status, body = excluded.body`,
      [i, new Date(epoch - i * 1000).toISOString(), i % 3 === 0 ? 'PAID' : 'AWAITING_PAYMENT', JSON.stringify(body)],
    );
  }
  for (let i = 0; i < 200; i++) {
    await db.query(
      `select body from doc where status = 'PAID' and created_at < now() - make_interval(secs => $1) order by created_at desc limit 100`,
      [i * 7],
    );
  }
  roundMs.push(performance.now() - started);
}
await db.close();
const cpu = process.cpuUsage(cpuStart);
const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
process.stdout.write(`${JSON.stringify({ roundMs, cpuMs: (cpu.user + cpu.system) / 1000, rssKb })}\n`);
