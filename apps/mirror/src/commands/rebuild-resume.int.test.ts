import { spawn } from 'node:child_process';
import { entityTableNames, execRows, type Db } from '@mirror/db';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { createSimulator } from '@mirror/ecwid-sim';
import { entityUpdatedAtSql, projectBatch, rebuild } from '@mirror/projector';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { cliPath, exited, runCli } from './test-process.ts';

/*
 * A rebuild killed with SIGKILL in the middle (the process, not Postgres) is resumed by the next
 * `mirror rebuild`, which finishes with the same tables as a clean rebuild.
 */

const skip = concurrencySkipReason('rebuild resume after SIGKILL');
const storeId = 1003;
let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  if (skip) return;
  database = await createTestDatabase();
  db = database.db;
  await appendLog(db);
}, 300_000);
afterAll(async () => {
  await database?.close();
});

test.skipIf(skip)(
  'a rebuild killed with SIGKILL is resumed by the next one, which ends with the tables of a clean rebuild',
  async () => {
    // The reference: a clean rebuild, whose tables are now the live ones.
    const clean = await rebuild(db, { batchSize: 300 });
    expect(clean.resumed).toBe(false);
    const live = await snapshot(db);
    expect(live['orders']!.length).toBeGreaterThan(1000);
    expect(live['products']!.length).toBeGreaterThan(1000);
    const env = { DATABASE_URL: database.url!, LOG_LEVEL: 'warn' };

    const child = spawn(process.execPath, ['--import', 'tsx', cliPath, 'rebuild', '--batch-size', '300'], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    // Killed once some chunks are committed in the shadow tables, well before the swap.
    const deadline = Date.now() + 60_000;
    let loaded = 0;
    while (loaded === 0 && child.exitCode === null && Date.now() < deadline) {
      loaded = await count(`select count(*)::int as n from mirror_rebuild.bulk_progress`).catch(() => 0);
      if (loaded === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    expect(await exited(child)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(loaded).toBeGreaterThan(0);
    // Half-built shadow tables; the live ones as they were.
    expect(await count(`select count(*)::int as n from mirror_rebuild.plan`)).toBe(1);
    expect(await snapshot(db)).toEqual(live);

    const rerun = await runCli(['rebuild', '--batch-size', '300'], env);
    // Without a terminal the progress comes as lines on stderr; nothing else may.
    expect(rerun.stderr.split('\n').filter((line) => line && !line.startsWith('rebuild: '))).toEqual([]);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('resumed where an earlier rebuild stopped');
    expect(await count(`select count(*)::int as n from pg_namespace where nspname = 'mirror_rebuild'`)).toBe(0);
    expect(await snapshot(db)).toEqual(live);
    // And they are what projecting the log gives: a replay over them changes nothing.
    await db.execute(sql`insert into consumer_checkpoints (name, position) values ('check', 0)`);
    while ((await projectBatch(db, { checkpoint: 'check', limit: 5000 })) > 0);
    expect(await snapshot(db)).toEqual(live);
  },
  300_000,
);

async function count(query: string): Promise<number> {
  const [row] = await execRows<{ n: number }>(db, sql.raw(query));
  return row?.n ?? 0;
}

/** Every entity table's rows, in a stable order. */
async function snapshot(target: Db): Promise<Record<string, string[]>> {
  const tables: Record<string, string[]> = {};
  for (const table of entityTableNames) {
    const rows = await execRows<{ r: string }>(target, sql.raw(`select to_jsonb(t)::text as r from public."${table}" t`));
    tables[table] = rows.map((row) => row.r).sort();
  }
  return tables;
}

/**
 * ~16,000 snapshot records of orders and products (simulator documents under new keys), most
 * keys fetched twice, one version in five older than the one before it, then tombstones.
 */
async function appendLog(target: Db): Promise<void> {
  const sim = createSimulator({ stores: [{ storeId, token: 'secret_resume', seed: 5, size: { orders: 30, products: 30 } }] });
  const store = sim.store(storeId);
  const templates = { order: store.orders.values(), product: store.products.values() };
  await target.execute(sql`create temporary table templates (kind text, idx int, doc jsonb)`);
  for (const [kind, docs] of Object.entries(templates)) {
    await target.execute(sql`insert into templates select ${kind}, (ordinality - 1)::int, value
                             from jsonb_array_elements(${JSON.stringify(docs)}::jsonb) with ordinality`);
  }
  for (const [kind, keys] of [
    ['order', 4000],
    ['product', 4000],
  ] as const) {
    await target.execute(sql`
      insert into event_log (kind, store_id, event_type, entity_kind, entity_id, is_known_type, payload, caused_by, fetched_at, entity_updated_at)
      select 'snapshot', ${storeId}, ${kind}, ${kind}, d.id, true, d.doc, '{}', timestamptz '2024-09-04 00:00:00+00' + g * interval '1 ms',
             ${sql.raw(entityUpdatedAtSql(`'${kind}'`, 'd.doc'))}
      from generate_series(0, ${keys * 2 - 1}) g
      join templates t on t.kind = ${kind} and t.idx = g % 30
      cross join lateral (select g % ${keys} as key, 1700000000 + g - (case when g % 5 = 0 then 100000 else 0 end) as updated) k
      cross join lateral (select
        case when ${kind} = 'order' then 'R' || k.key else (200000 + k.key)::text end as id,
        case when ${kind} = 'order'
          then t.doc || jsonb_build_object('id', 'R' || k.key, 'internalId', 700000 + k.key, 'orderNumber', 700000 + k.key, 'updateTimestamp', k.updated)
          else t.doc || jsonb_build_object('id', 200000 + k.key, 'updateTimestamp', k.updated)
        end as doc) d
      order by g`);
  }
  await target.execute(sql`
    insert into event_log (kind, store_id, event_type, entity_kind, entity_id, is_known_type, payload, caused_by, fetched_at)
    select 'tombstone', ${storeId}, kind, kind, id, true, '{"reason":"deleted"}', '{}', timestamptz '2024-09-05 00:00:00+00'
    from (select 'order' as kind, 'R' || (k * 37) as id from generate_series(0, 99) k
          union all select 'product', (200000 + k * 41)::text from generate_series(0, 99) k) t`);
}
