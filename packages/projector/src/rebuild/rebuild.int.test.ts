import { sql } from 'drizzle-orm';
import { createSilentLogger } from '@mirror/core';
import { createDb, execRows, type Db } from '@mirror/db';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import postgres from 'postgres';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { projectNextBatch } from '../projection/project-batch.ts';
import { runProjection } from '../projection/run-projection.ts';
import { appendRecords, appendSnapshot, fixture } from '../../testing/append-records.ts';
import { entityTables, expectAllRendered, logOfEverything, renderedTables, simStore, snapshotTables } from '../../testing/sample-log.ts';
import { appendRecords as appendForProjection } from '../enrichment/append-records.ts';
import { rebuild, type RebuildProgress } from './rebuild.ts';
import { replay } from './replay.ts';

let database: TestDatabase;
let db: Db;
beforeEach(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterEach(async () => {
  await database.close();
});

async function projectAll(target: Db = db, limit = 4): Promise<void> {
  while (!(await projectNextBatch(target, { limit })).caughtUp);
}
async function scalar<T>(query: string, target: Db = db): Promise<T> {
  const [row] = await execRows<{ v: T }>(target, sql.raw(query));
  return row!.v;
}

describe('rebuild', () => {
  test('gives the live tables back row for row, every table, and keeps the reporting views working', async () => {
    await appendRecords(db, logOfEverything());
    await projectAll();
    const live = await snapshotTables(db);
    const paidBefore = await scalar<number>('select count(*)::int as v from reporting.order_sales');
    const phases: RebuildProgress['phase'][] = [];

    const result = await rebuild(db, { batchSize: 5, onProgress: (p) => void phases.push(p.phase) });

    expect(await snapshotTables(db)).toEqual(live);
    expect(result.tables.sort()).toEqual([...entityTables, ...renderedTables].sort());
    // Every row's list printing is stored again, for the rows as they now are (decision 0022).
    await expectAllRendered(db);
    expect(result.records).toBe(logOfEverything().length);
    expect(new Set(phases)).toEqual(new Set(['build', 'index', 'catch-up', 'swap', 'done']));
    for (const table of entityTables) expect(live[table]!.length, table).toBeGreaterThan(0);
    // Same index names as the migrations created, and no shadow left behind.
    expect(
      await scalar<number>(
        `select count(*)::int as v from pg_indexes where indexname = 'orders_store_updated_idx' and schemaname = 'public'`,
      ),
    ).toBe(1);
    expect(await scalar<number>(`select count(*)::int as v from pg_namespace where nspname in ('mirror_rebuild', 'mirror_retired')`)).toBe(
      0,
    );
    // The views were recreated over the new tables: they see rows projected after the swap.
    expect(await scalar<number>('select count(*)::int as v from reporting.order_sales')).toBe(paidBefore);
    await appendSnapshot(db, {
      entityKind: 'order',
      entityId: 'NEW01',
      payload: { ...fixture('order'), id: 'NEW01', paymentStatus: 'PAID' },
    });
    await projectAll();
    expect(await scalar<number>('select count(*)::int as v from reporting.order_sales')).toBe(paidBefore + 1);
    expect(await scalar<number>(`select count(*)::int as v from reporting.product_sales`)).toBeGreaterThan(0);
  });

  test.each([1, 3])(
    'with %i connection(s), reports a total known before the build, that never shrinks, and records climbing to it',
    async (parallel) => {
      const log = logOfEverything();
      await appendRecords(db, log);
      const reports: RebuildProgress[] = [];
      let appended = false;
      const result = await rebuild(db, {
        batchSize: 4,
        parallel,
        onProgress: async (p) => {
          reports.push({ ...p });
          // A record appended while the build runs: the catch-up applies it and the total grows by it.
          if (!appended && p.phase === 'build' && p.records > 0) {
            appended = true;
            await appendSnapshot(db, { entityKind: 'order', entityId: 'LATE1', payload: { ...fixture('order'), id: 'LATE1' } });
          }
        },
      });
      expect(appended).toBe(true);
      // Known from the very first report: every record the log held when the rebuild began.
      expect(reports[0]).toMatchObject({ phase: 'build', records: 0, total: log.length });
      const totals = reports.map((r) => r.total);
      expect(totals).toEqual([...totals].sort((a, b) => a - b));
      expect(new Set(totals)).toEqual(new Set([log.length, log.length + 1]));
      for (const r of reports) expect(r.records, `${r.phase} ${r.records}/${r.total}`).toBeLessThanOrEqual(r.total);
      const records = reports.map((r) => r.records);
      expect(records).toEqual([...records].sort((a, b) => a - b));
      expect(reports.at(-1)).toMatchObject({ phase: 'done', records: log.length + 1, total: log.length + 1 });
      expect(result.records).toBe(log.length + 1);
    },
  );

  test('splits every kind by key across the connections when no order tombstone names only an internal id', async () => {
    const records = logOfEverything().filter((r) => !r.entityId.startsWith('internal:'));
    // Older documents after newer ones, so newer-wins decides across batches and shares.
    for (const o of simStore.orders.values().slice(0, 12)) {
      records.push({
        entityKind: 'order',
        entityId: o.id,
        payload: { ...o, updateTimestamp: o.updateTimestamp + 20, items: o.items.slice(0, 1) },
      });
      records.push({
        entityKind: 'order',
        entityId: o.id,
        payload: { ...o, updateTimestamp: o.updateTimestamp - 20, email: 'older@example.com' },
      });
    }
    await appendRecords(db, records);
    await projectAll();
    const live = await snapshotTables(db);

    const builds: RebuildProgress[] = [];
    const result = await rebuild(db, { batchSize: 3, parallel: 3, onProgress: (p) => void (p.phase === 'build' && builds.push(p)) });

    expect(await snapshotTables(db)).toEqual(live);
    expect(result.records).toBe(records.length);
    // The build reports its total once the worklist is written, and counts up to it.
    expect(builds.at(-1)).toMatchObject({ records: records.length, total: records.length });
    const counted = builds.filter((p) => p.total !== undefined).map((p) => p.records);
    expect(counted.length).toBeGreaterThan(3);
    expect(counted).toEqual([...counted].sort((a, b) => a - b));
  });

  test('with entity_updated_at written by the appender, superseded snapshots are found from it and the rebuild equals live', async () => {
    const input = logOfEverything().filter((r) => !r.entityId.startsWith('internal:'));
    for (const o of simStore.orders.values().slice(0, 12)) {
      input.push({
        entityKind: 'order',
        entityId: o.id,
        payload: { ...o, updateTimestamp: o.updateTimestamp + 20, items: o.items.slice(0, 1) },
      });
      input.push({
        entityKind: 'order',
        entityId: o.id,
        payload: { ...o, updateTimestamp: o.updateTimestamp - 20, email: 'older@example.com' },
      });
    }
    await appendForProjection(
      db,
      input.map((r) => ({
        kind: r.kind ?? 'snapshot',
        storeId: 1003,
        entityKind: r.entityKind as never,
        entityId: r.entityId,
        payload: r.payload ?? { reason: 'deleted' },
        causedBy: [],
        fetchedAt: new Date('2024-09-04T00:00:00Z'),
      })),
    );
    await projectAll();
    const live = await snapshotTables(db);
    // The column holds exactly what projection derives from the document.
    const mismatches =
      await scalar<number>(`select count(*)::int as v from event_log e join orders o on o.source_position = e.position and e.kind = 'snapshot'
      where e.entity_updated_at is distinct from o.updated_at`);
    expect(mismatches).toBe(0);
    expect(
      await scalar<number>(
        `select count(*)::int as v from event_log where kind = 'snapshot' and entity_kind in ('order', 'customer', 'product') and entity_updated_at is null`,
      ),
    ).toBe(0);
    expect(
      await scalar<number>(
        `select count(*)::int as v from event_log where entity_kind in ('category', 'store') and entity_updated_at is not null`,
      ),
    ).toBe(0);

    await rebuild(db, { batchSize: 3 });

    expect(await snapshotTables(db)).toEqual(live);
  });

  test('with several stores, the store-level rows of every share are bulk-loaded, and a repeated item id keeps its first occurrence', async () => {
    // Store-level kinds are split by store id: with four stores over three connections every
    // share holds some, loaded by the bulk path (newest snapshot only) or, for sets and stores,
    // by the batch path.
    const storeIds = [1003, 2004, 3005, 4006];
    const base = logOfEverything().filter((r) => !r.entityId.startsWith('internal:'));
    const records = storeIds.flatMap((storeId) => base.map((r) => ({ ...r, storeId })));
    const [order] = simStore.orders.values();
    const item = order!.items[0]!;
    records.push({
      entityKind: 'order',
      entityId: 'DUP01',
      storeId: 2004,
      payload: {
        ...order,
        id: 'DUP01',
        items: [
          { ...item, name: 'first' },
          { ...item, name: 'second' },
        ],
      },
    });
    await appendRecords(db, records);
    await projectAll(db, 50);
    const live = await snapshotTables(db);
    const profiles = await scalar<number>('select count(distinct store_id)::int as v from store_profiles');
    expect(profiles).toBe(storeIds.length);
    expect(await scalar<string>(`select name as v from order_items where store_id = 2004 and order_id = 'DUP01'`)).toBe('first');

    const result = await rebuild(db, { batchSize: 7, parallel: 3 });

    expect(await snapshotTables(db)).toEqual(live);
    expect(result.records).toBe(records.length);
    for (const table of ['store_profiles', 'app_subscriptions', 'app_storage', 'stores']) {
      expect(await scalar<number>(`select count(distinct store_id)::int as v from ${table}`), table).toBe(storeIds.length);
    }
  });

  test('orders loaded in bulk take the currency and time zone of the profile before their first snapshot, as projection does', async () => {
    // The bulk load reads profiles from a table of those up to the head it builds to, the live
    // projection from the log: same values, including a profile appended during the rebuild.
    const profile = (currency: unknown, timezone: unknown) => ({
      settings: { storeName: 'Shop' },
      formatsAndUnits: { currency, timezone },
    });
    const order = (id: string, updateTimestamp: number) => ({ ...fixture('order'), id, updateTimestamp });
    await appendRecords(db, [
      { entityKind: 'order', entityId: 'A1', payload: order('A1', 1_700_000_001) },
      { entityKind: 'store_profile', entityId: '1003', payload: profile('USD', 'Europe/Berlin') },
      { entityKind: 'order', entityId: 'A2', payload: order('A2', 1_700_000_002) },
      { entityKind: 'store_profile', entityId: '1003', payload: profile('EUR', 42) },
      { entityKind: 'order', entityId: 'A2', payload: order('A2', 1_700_000_003) },
      { entityKind: 'order', entityId: 'A3', payload: order('A3', 1_700_000_004) },
      { storeId: 2004, entityKind: 'order', entityId: 'B1', payload: order('B1', 1_700_000_005) },
      { storeId: 3005, entityKind: 'order', entityId: 'C1', payload: order('C1', 1_700_000_006) },
    ]);
    await projectAll(db, 50);
    const live = await snapshotTables(db);
    const currencies = async () =>
      (
        await execRows<{ v: string }>(
          db,
          sql`select order_id || ' ' || coalesce(currency, '-') || ' ' || coalesce(timezone, '-') as v from orders order by order_id`,
        )
      ).map((r) => r.v);
    expect(await currencies()).toEqual(['A1 USD Europe/Berlin', 'A2 USD Europe/Berlin', 'A3 EUR Europe/Berlin', 'B1 - -', 'C1 - -']);

    let appended = false;
    await rebuild(db, {
      batchSize: 2,
      onProgress: async (p) => {
        if (appended || p.phase !== 'build') return;
        appended = true;
        // After the head the rebuild builds to: the orders' bulk load must still find it.
        await appendSnapshot(db, {
          storeId: 3005,
          entityKind: 'store_profile',
          entityId: '3005',
          payload: profile('GBP', 'Europe/London'),
        });
      },
    });

    // C1 takes the store's earliest profile, as live projection gives it once it applies that profile.
    expect(await currencies()).toEqual([
      'A1 USD Europe/Berlin',
      'A2 USD Europe/Berlin',
      'A3 EUR Europe/Berlin',
      'B1 - -',
      'C1 GBP Europe/London',
    ]);
    const rebuilt = await snapshotTables(db);
    const notC1 = (rows: unknown[]) => rows.filter((row) => (row as { order_id: string }).order_id !== 'C1');
    expect(notC1(rebuilt.orders!)).toEqual(notC1(live.orders!));
    expect(rebuilt.order_items!.length).toBe(live.order_items!.length);
  });

  test('loads malformed child items exactly as the live projection does (bulk path)', async () => {
    const [order] = simStore.orders.values();
    const item = order!.items[0]!;
    const product = fixture('product');
    await appendRecords(db, [
      {
        entityKind: 'order',
        entityId: 'ODD01',
        payload: {
          ...order,
          id: 'ODD01',
          items: [
            { id: 'x' },
            { ...item, id: 7, quantity: 1.5, price: '9.99', productId: '12' },
            'junk',
            5,
            null,
            { ...item, id: '8', sku: 42 },
          ],
        },
      },
      {
        entityKind: 'product',
        entityId: '501',
        payload: {
          ...product,
          id: 501,
          combinations: [{ id: 1, price: 'n/a', quantity: '3' }, 'junk', { id: '2', sku: true }],
          categoryIds: [1, 'two', 3.5, 4],
        },
      },
    ]);
    await projectAll();
    const live = await snapshotTables(db);
    const items = (live['order_items'] as Record<string, unknown>[]).map((r) => [
      r['item_id'],
      r['quantity'],
      r['price'],
      r['product_id'],
      r['sku'],
    ]);
    expect(items.sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      [7, null, 9.99, 12, item.sku],
      [8, item.quantity, Number(item.price), item.productId, '42'],
    ]);

    await rebuild(db, { batchSize: 5 });

    expect(await snapshotTables(db)).toEqual(live);
  });

  test('rebuilds only the table families asked for', async () => {
    await appendRecords(db, logOfEverything());
    await projectAll();
    const live = await snapshotTables(db);
    await db.execute(sql`update orders set email = 'stale@example.com'`);
    await db.execute(sql`delete from order_items`);
    await db.execute(sql`update products set name = 'stale'`);

    const result = await rebuild(db, { entities: ['order'] });

    expect(result.tables.sort()).toEqual(['order_items', 'order_refunds', 'orders', 'orders_rendered']);
    const after = await snapshotTables(db);
    expect(after['orders']).toEqual(live['orders']);
    expect(after['order_items']).toEqual(live['order_items']);
    expect(await scalar<number>(`select count(*)::int as v from products where name <> 'stale'`)).toBe(0);
  });

  test('rebuilds a family none of whose snapshots can be passed over (sets, the store record) on its own', async () => {
    await appendRecords(db, logOfEverything());
    await projectAll();
    const live = await snapshotTables(db);
    for (const kind of ['invoice', 'app_storage', 'store'] as const) {
      const result = await rebuild(db, { entities: [kind] });
      expect(result.tables.length, kind).toBeGreaterThan(0);
      const after = await snapshotTables(db);
      for (const table of result.tables) expect(after[table], `${kind}: ${table}`).toEqual(live[table]);
    }
  });

  test('drops rows that no record in the log accounts for', async () => {
    await appendRecords(db, [{ entityKind: 'category', entityId: '1', payload: fixture('category') }]);
    await projectAll();
    await db.execute(sql`insert into categories (store_id, category_id, doc, source_position, synced_at) values (1, 2, '{}', 0, now())`);
    await rebuild(db, { entities: ['category'] });
    expect((await snapshotTables(db))['categories']).toHaveLength(1);
  });

  test.skipIf(concurrencySkipReason('a reader during a rebuild'))(
    'readers on another connection see the old rows until the swap',
    async () => {
      await appendRecords(db, logOfEverything());
      await projectAll();
      await db.execute(sql`update customers set email = 'before-the-swap' where deleted_at is null`);
      const reader = postgres(database.url!, { max: 1, onnotice: () => {} });
      const seen: string[] = [];
      try {
        await rebuild(db, {
          batchSize: 3,
          onProgress: async (p) => {
            if (p.phase === 'build' || p.phase === 'catch-up') {
              const rows = await reader`select distinct email from customers where deleted_at is null`;
              for (const row of rows) seen.push(String(row['email']));
            }
          },
        });
        const [row] = await reader`select count(*)::int as n from customers where email = 'before-the-swap'`;
        expect(row!['n']).toBe(0);
      } finally {
        await reader.end();
      }
      expect(seen).toContain('before-the-swap');
      expect(seen).not.toContain(simStore.customers.values()[0]!.email);
    },
  );

  test.skipIf(concurrencySkipReason('a live projector during a rebuild'))(
    'the live projector may keep running during a rebuild and loses nothing',
    async () => {
      const records = logOfEverything();
      const half = Math.floor(records.length / 2);
      await appendRecords(db, records.slice(0, half));
      const controller = new AbortController();
      const worker = runProjection({ db, signal: controller.signal, log: createSilentLogger(), idleMs: 5, limit: 3 });
      let appended = false;
      try {
        await rebuild(db, {
          batchSize: 2,
          onProgress: async (p) => {
            // New records arrive while the shadow is being built.
            if (p.phase === 'build' && !appended) {
              appended = true;
              await appendRecords(db, records.slice(half));
            }
          },
        });
      } finally {
        controller.abort();
        await worker;
      }
      await projectAll();
      const afterRebuild = await snapshotTables(db);

      // The reference: the whole log projected from scratch into empty tables.
      await db.execute(sql.raw(`truncate ${entityTables.join(', ')}`));
      await db.execute(sql`update consumer_checkpoints set position = 0 where name = 'projection'`);
      await projectAll(db, 1000);
      expect(afterRebuild).toEqual(await snapshotTables(db));
      expect(afterRebuild['app_storage']!.length).toBeGreaterThan(0);
    },
  );

  test("keeps an operator's storage parameters and statistics targets on the swapped-in tables", async () => {
    await appendRecords(
      db,
      logOfEverything().filter((r) => !r.entityId.startsWith('internal:')),
    );
    await projectAll();
    await db.execute(sql`alter table orders set (fillfactor = 90, autovacuum_analyze_scale_factor = 0.02)`);
    await db.execute(sql`alter table orders alter column email set statistics 500`);

    await rebuild(db, { batchSize: 5 });

    expect(await scalar<string[]>(`select reloptions as v from pg_class where oid = 'public.orders'::regclass`)).toEqual(
      expect.arrayContaining(['fillfactor=90', 'autovacuum_analyze_scale_factor=0.02']),
    );
    expect(
      await scalar<number>(
        `select attstattarget::int as v from pg_attribute where attrelid = 'public.orders'::regclass and attname = 'email'`,
      ),
    ).toBe(500);
  });

  test('gathers the statistics of expression indexes after building them, so reports by day still read their index', async () => {
    await appendRecords(
      db,
      logOfEverything().filter((r) => !r.entityId.startsWith('internal:')),
    );
    await projectAll();

    await rebuild(db, { batchSize: 5 });

    // Postgres keeps an expression index's statistics under the index's name; without them it
    // guesses that a third of the orders match any `day >= …` (decision 0025).
    const stats = await execRows<{ attname: string }>(
      db,
      sql`select attname from pg_stats where schemaname = 'public' and tablename = 'orders_store_sale_day_idx'`,
    );
    expect(stats.length).toBeGreaterThan(0);
  });

  test('renews its lease with every bulk chunk, so a long bulk load never looks abandoned', async () => {
    await appendRecords(
      db,
      logOfEverything().filter((r) => !r.entityId.startsWith('internal:')),
    );
    const renewed: number[] = [];
    let looks = 0;
    await rebuild(db, {
      batchSize: 2,
      onProgress: async (p) => {
        // Shares report concurrently: the look is claimed before the first await.
        if (p.phase !== 'build' || p.total === undefined || p.records === 0 || looks >= 3) return;
        looks += 1;
        // As another rebuild judging the lease would see it, right after a chunk committed.
        renewed.push(
          await scalar<number>(
            `select count(*)::int as v from consumer_checkpoints where name like 'rebuild:%' and updated_at > now() - interval '1 minute'`,
          ),
        );
      },
    });
    expect(renewed.length).toBe(3);
    for (const rows of renewed) expect(rows).toBeGreaterThan(0);
  });

  test('refuses to start while another rebuild holds the lease', async () => {
    // Its last batch 30 s ago: alive, or killed a moment ago; the message says both, and what to do.
    await db.execute(
      sql`insert into consumer_checkpoints (name, position, updated_at) values ('rebuild', 5, now() - interval '30 seconds')`,
    );
    const refused = (await rebuild(db).catch((e: unknown) => e)) as { code: string; message: string };
    expect(refused.code).toBe('UNAVAILABLE');
    expect(refused.message).toMatch(
      /^a rebuild wrote its last batch 3\d s ago: .* taken over in 5\d\d s \(10 minutes after that batch\), or now with --force/,
    );
    await expect(rebuild(db, { force: true })).resolves.toMatchObject({ records: 0 });
  });
});

describe('replay', () => {
  test('re-applying the log from 0 gives identical tables', async () => {
    await appendRecords(db, logOfEverything());
    await projectAll();
    const live = await snapshotTables(db);
    const { records } = await replay(db, { from: 0, limit: 3 });
    expect(records).toBe(logOfEverything().length);
    expect(await snapshotTables(db)).toEqual(live);
    expect(await scalar<number>(`select count(*)::int as v from consumer_checkpoints where name like 'replay:%'`)).toBe(0);
  });

  test('re-applies records after `from` over current rows, leaving earlier ones as they are', async () => {
    const [first] = await appendRecords(db, [{ entityKind: 'category', entityId: '1', payload: { ...fixture('category'), name: 'one' } }]);
    await appendRecords(db, [{ entityKind: 'category', entityId: '2', payload: { ...fixture('category'), name: 'two' } }]);
    await projectAll();
    await db.execute(sql`update categories set name = 'damaged', source_position = 0`);

    await replay(db, { from: first! });

    const names = await execRows<{ category_id: number | string; name: string }>(
      db,
      sql`select category_id, name from categories order by category_id`,
    );
    expect(names.map((r) => r.name)).toEqual(['damaged', 'two']);
  });
});

test('rebuild works on embedded PGlite (one connection)', async () => {
  const pglite = await createDb({ dataDir: 'memory://' });
  try {
    await pglite.migrate();
    await appendRecords(pglite.db, logOfEverything());
    await projectAll(pglite.db);
    const live = await snapshotTables(pglite.db);
    await rebuild(pglite.db, { batchSize: 4 });
    expect(await snapshotTables(pglite.db)).toEqual(live);
    expect(await scalar<number>('select count(*)::int as v from reporting.daily_sales', pglite.db)).toBeGreaterThan(0);
  } finally {
    await pglite.close();
  }
}, 60_000);
