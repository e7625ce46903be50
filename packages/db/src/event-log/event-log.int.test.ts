import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { databaseOver, execRows, type Db } from '../create-db.ts';
import { migrationsFolder } from '../migrations.ts';
import { eventLogTable } from '../schema/event-log.ts';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '../../testing/index.ts';
import { appendWebhooks, commitWebhooks, waitForDurableLog } from './append-webhooks.ts';
import { webhookRow } from './fixtures.ts';
import { readLog, readLogHead } from './read-log.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.close();
});

/**
 * Runs `body` on a connection of its own whose commits do not wait for the disk (as a server or
 * role configured for speed over durability would have it), so a flush seen afterwards is one
 * the code under test waited for: the WAL writer flushes on its own only every 200 ms.
 */
async function onAsynchronousConnection(body: (client: postgres.Sql, db: Db) => Promise<void>): Promise<void> {
  const client = postgres(database.url!, { max: 1, onnotice: () => {} });
  try {
    await client`set synchronous_commit = off`;
    await body(client, databaseOver(client));
  } finally {
    await client.end();
  }
}

/** Whether the WAL is flushed past `lsn` (an SQL expression). */
async function flushedPast(client: postgres.Sql, lsn: string): Promise<boolean> {
  const [row] = await client.unsafe<{ flushed: boolean }[]>(`select pg_current_wal_flush_lsn() >= ${lsn} as flushed`);
  return row!.flushed;
}

describe('appendWebhooks', () => {
  test('stores a redelivered webhook once', async () => {
    const row = webhookRow();
    const first = await appendWebhooks(database.db, [row]);
    const again = await appendWebhooks(database.db, [row]);

    expect(first[0]?.status).toBe('inserted');
    expect(again).toEqual([{ status: 'duplicate' }]);
    const stored = await readLog(database.db, { after: 0, limit: 1000 });
    expect(stored.filter((r) => r.eventId === row.eventId)).toHaveLength(1);
  });

  test("stores a known eventId under another store nowhere: Ecwid's eventIds are unique, so it is a replay", async () => {
    const a = webhookRow({ storeId: 1, eventId: 'shared-id' });
    const b = webhookRow({ storeId: 2, eventId: 'shared-id' });
    const c = webhookRow({ storeId: 3, eventId: 'shared-id' });
    expect((await appendWebhooks(database.db, [a, b])).map((o) => o.status)).toEqual(['inserted', 'duplicate']);
    expect(await appendWebhooks(database.db, [c])).toEqual([{ status: 'duplicate' }]);
    const stored = await readLog(database.db, { after: 0, limit: 1000 });
    expect(stored.filter((r) => r.eventId === 'shared-id').map((r) => r.storeId)).toEqual([1]);
  });

  test('migration 0010 keeps a log that already holds a replayed eventId, and refuses replays from then on', async () => {
    const scratch = await createTestDatabase();
    try {
      const db = scratch.db;
      // The log as it was before 0010, holding one eventId under two stores.
      await db.execute(sql`drop index event_log_event_uq`);
      await db.execute(sql`create unique index event_log_store_event_uq on event_log (store_id, event_id)`);
      await appendWebhooks(db, [webhookRow({ storeId: 1, eventId: 'old-replay' }), webhookRow({ storeId: 2, eventId: 'old-replay' })]);
      // Statement by statement, as the migrator runs it: PGlite takes one statement per query.
      for (const statement of readFileSync(`${migrationsFolder}/0010_event_id_unique.sql`, 'utf8').split('--> statement-breakpoint')) {
        await db.execute(sql.raw(statement));
      }
      const [index] = await execRows<{ definition: string }>(db, sql`select pg_get_indexdef('event_log_event_uq'::regclass) as definition`);
      expect(index?.definition).toMatch(/UNIQUE INDEX event_log_event_uq .*\(event_id\) WHERE \("position" > \d+\)/);
      expect(await appendWebhooks(db, [webhookRow({ storeId: 1, eventId: 'new' }), webhookRow({ storeId: 2, eventId: 'new' })])).toEqual([
        { status: 'inserted', position: expect.any(Number) },
        { status: 'duplicate' },
      ]);
    } finally {
      await scratch.close();
    }
  });

  test('a duplicate inside one batch is inserted once, the copy reported as duplicate', async () => {
    const row = webhookRow();
    const outcomes = await appendWebhooks(database.db, [row, row]);
    expect(outcomes.map((o) => o.status)).toEqual(['inserted', 'duplicate']);
  });

  test('keeps the body verbatim, including numbers beyond 2^53', async () => {
    const body =
      '{"eventId":"big-1","eventCreated":7891234567,"storeId":1003,"entityId":"1003","eventType":"application.installed","data":{"n":123456789012345678901234567890}}';
    const [outcome] = await appendWebhooks(database.db, [
      webhookRow({ eventId: 'big-1', body, eventCreated: 7891234567, entityId: '1003' }),
    ]);
    expect(outcome?.status).toBe('inserted');
    const rows = await execRows<{ n: string; created: string; entity_id: string }>(
      database.db,
      sql`select payload->'data'->>'n' as n, extract(epoch from event_created_at)::bigint::text as created,
                 entity_id from event_log where event_id = 'big-1'`,
    );
    expect(rows[0]).toEqual({ n: '123456789012345678901234567890', created: '7891234567', entity_id: '1003' });
  });

  test('one row Postgres cannot store fails alone; its batch neighbours are committed', async () => {
    const good = webhookRow();
    // numeric overflows at 10^131072: Postgres refuses this row's jsonb (SQLSTATE 22003).
    const bad = webhookRow({ body: `{"eventId":"x","data":{"n":1e200000}}` });
    const outcomes = await appendWebhooks(database.db, [good, bad]);

    expect(outcomes[0]?.status).toBe('inserted');
    expect(outcomes[1]).toMatchObject({ status: 'rejected' });
    const ids = (await readLog(database.db, { after: 0, limit: 10_000 })).map((r) => r.eventId);
    expect(ids).toContain(good.eventId);
    expect(ids).not.toContain(bad.eventId);
  });

  test.skipIf(concurrencySkipReason('a connection of its own'))(
    "sets how a group commits only in the group's own transaction: the connection keeps its setting",
    async () => {
      const client = postgres(database.url!, { max: 1, onnotice: () => {} });
      try {
        const db = databaseOver(client);
        const outcomes = await appendWebhooks(db, [webhookRow(), webhookRow()]);
        expect(outcomes.map((o) => o.status)).toEqual(['inserted', 'inserted']);
        // Whatever this pool's connection runs next (other writers share it) commits durably.
        expect(await client`show synchronous_commit`).toEqual([{ synchronous_commit: 'on' }]);
      } finally {
        await client.end();
      }
    },
  );

  test.skipIf(concurrencySkipReason('a connection of its own'))(
    'appendWebhooks returns only once its rows are flushed, even on a connection with synchronous_commit off',
    async () => {
      // What the group's own transaction had written (read by a trigger inside it): the commit
      // record comes after it, so a flush past the commit is a flush past this.
      await database.db.execute(sql`create table test_append_lsn (lsn pg_lsn not null)`);
      await database.db.execute(
        sql.raw(`create function test_append_lsn() returns trigger language plpgsql as $$
                 begin insert into test_append_lsn values (pg_current_wal_insert_lsn()); return null; end $$`),
      );
      await database.db.execute(
        sql`create trigger test_append_lsn after insert on event_log for each statement execute function test_append_lsn()`,
      );
      try {
        await onAsynchronousConnection(async (client, db) => {
          for (let i = 0; i < 5; i++) {
            const outcomes = await appendWebhooks(db, [webhookRow(), webhookRow()]);
            expect(outcomes.map((o) => o.status)).toEqual(['inserted', 'inserted']);
            expect(await flushedPast(client, '(select max(lsn) from test_append_lsn)')).toBe(true);
          }
          // A group split by one row Postgres refuses: the rows go one by one, and are durable too.
          for (let i = 0; i < 3; i++) {
            const bad = webhookRow({ body: `{"eventId":"x","data":{"n":1e200000}}` });
            const outcomes = await appendWebhooks(db, [webhookRow(), bad, webhookRow()]);
            expect(outcomes.map((o) => o.status)).toEqual(['inserted', 'rejected', 'inserted']);
            expect(await flushedPast(client, '(select max(lsn) from test_append_lsn)')).toBe(true);
          }
          // And the connection's own setting is left as it was.
          expect(await client`show synchronous_commit`).toEqual([{ synchronous_commit: 'off' }]);
        });
      } finally {
        await database.db.execute(sql`drop trigger test_append_lsn on event_log`);
        await database.db.execute(sql`drop function test_append_lsn()`);
        await database.db.execute(sql`drop table test_append_lsn`);
      }
    },
  );

  test.skipIf(concurrencySkipReason('a connection of its own'))(
    'a duplicate is answered only once the row it found is durable, even if its writer did not wait for the disk',
    () =>
      onAsynchronousConnection(async (client, db) => {
        for (let i = 0; i < 5; i++) {
          const row = webhookRow();
          expect((await commitWebhooks(db, [row])).map((o) => o.status)).toEqual(['inserted']);
          const [after] = await client<{ lsn: string }[]>`select pg_current_wal_insert_lsn()::text as lsn`;
          expect((await appendWebhooks(db, [row])).map((o) => o.status)).toEqual(['duplicate']);
          expect(await flushedPast(client, `'${after!.lsn}'::pg_lsn`)).toBe(true);
        }
      }),
  );

  test.skipIf(concurrencySkipReason('a connection of its own'))(
    'waitForDurableLog returns only once the WAL the session committed without waiting for the disk is flushed',
    () =>
      onAsynchronousConnection(async (client, db) => {
        for (let i = 0; i < 5; i++) {
          // A transaction that writes WAL and commits without waiting for the disk.
          await client`select pg_logical_emit_message(true, 'test', 'async')`;
          const [after] = await client<{ lsn: string }[]>`select pg_current_wal_insert_lsn()::text as lsn`;
          await waitForDurableLog(db);
          expect(await flushedPast(client, `'${after!.lsn}'::pg_lsn`)).toBe(true);
        }
      }),
  );

  test('refuses updates, deletes and truncation: the log is append-only', async () => {
    await appendWebhooks(database.db, [webhookRow()]);
    await expect(database.db.execute(sql`update event_log set event_type = 'x'`)).rejects.toThrow();
    await expect(database.db.execute(sql`delete from event_log`)).rejects.toThrow();
    await expect(database.db.execute(sql`truncate event_log`)).rejects.toThrow();
    expect(await database.db.$count(eventLogTable)).toBeGreaterThan(0);
  });
});

describe('readLog', () => {
  test('pages forward from a checkpoint in position order, filtered by store and kind', async () => {
    const storeId = 777_001;
    const rows = Array.from({ length: 25 }, () => webhookRow({ storeId }));
    await appendWebhooks(database.db, rows);

    const seen: string[] = [];
    let after = 0;
    for (;;) {
      const page = await readLog(database.db, { after, limit: 10, storeId, kinds: ['webhook'] });
      if (page.length === 0) break;
      seen.push(...page.map((r) => r.eventId ?? ''));
      after = page.at(-1)!.position;
    }
    expect(seen).toEqual(rows.map((r) => r.eventId));
    expect(await readLog(database.db, { after: 0, limit: 10, storeId, kinds: ['snapshot'] })).toEqual([]);
    expect(await readLogHead(database.db)).toBeGreaterThanOrEqual(after);
  });
});

describe.skipIf(concurrencySkipReason('gap-safety tests'))('gap safety under concurrent writers', () => {
  test('a reader never sees a later position while an earlier writer is still open', async () => {
    const client = postgres(database.url!, { max: 4, onnotice: () => {} });
    try {
      const startHead = await readLogHead(database.db);
      let releaseA!: () => void;
      const aMayCommit = new Promise<void>((resolve) => (releaseA = resolve));
      let aInserted!: () => void;
      const aHasInserted = new Promise<void>((resolve) => (aInserted = resolve));

      const writerA = client.begin(async (tx) => {
        await tx`insert into event_log (kind, store_id, event_id, event_type, is_known_type, payload)
                 values ('webhook', 1, 'writer-a', 'order.updated', true, '{}')`;
        aInserted();
        await aMayCommit; // A holds its transaction open here.
      });
      await aHasInserted;

      // B is a plain autocommit insert that would commit first if positions were not serialised.
      const writerB = client`insert into event_log (kind, store_id, event_id, event_type, is_known_type, payload)
                             values ('webhook', 1, 'writer-b', 'order.updated', true, '{}')`.execute();
      await waitFor(async () => {
        const [row] = await client`select count(*)::int as n from pg_stat_activity
          where wait_event_type = 'Lock' and query like '%writer-b%'`;
        return row?.n === 1;
      });

      // While A is open, a reader sees neither row: B cannot commit ahead of A.
      expect(await readLog(database.db, { after: startHead, limit: 10 })).toEqual([]);

      releaseA();
      await writerA;
      await writerB;
      const after = await readLog(database.db, { after: startHead, limit: 10 });
      expect(after.map((r) => r.eventId)).toEqual(['writer-a', 'writer-b']);
      expect(after[0]!.position).toBeLessThan(after[1]!.position);
    } finally {
      await client.end();
    }
  });

  test('a tailing reader that checkpoints on position sees every row committed by 8 racing writers', async () => {
    const client = postgres(database.url!, { max: 10, onnotice: () => {} });
    const startHead = await readLogHead(database.db);
    const writers = 8;
    const perWriter = 25;
    const seen = new Set<string>();
    let done = false;
    try {
      const reader = (async () => {
        let checkpoint = startHead;
        while (!done || (await readLog(database.db, { after: checkpoint, limit: 1 })).length > 0) {
          const page = await readLog(database.db, { after: checkpoint, limit: 7 });
          for (const r of page) {
            expect(seen.has(r.eventId!)).toBe(false);
            seen.add(r.eventId!);
          }
          checkpoint = page.at(-1)?.position ?? checkpoint;
          await sleep(1);
        }
      })();
      await Promise.all(
        Array.from({ length: writers }, (_, w) =>
          (async () => {
            for (let i = 0; i < perWriter; i++) {
              await client.begin(async (tx) => {
                await tx`insert into event_log (kind, store_id, event_id, event_type, is_known_type, payload)
                         values ('webhook', 2, ${`race-${w}-${i}`}, 'order.updated', true, '{}')`;
                await sleep(Math.random() * 4); // commit late, in random order across writers
              });
            }
          })(),
        ),
      );
      done = true;
      await reader;
      expect(seen.size).toBe(writers * perWriter);
    } finally {
      done = true;
      await client.end();
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

test('appends inside a transaction too (no prepared-statement client there)', async () => {
  const row = webhookRow();
  const outcomes = await database.db.transaction((tx) => appendWebhooks(tx as never, [row, row]));
  expect(outcomes.map((o) => o.status)).toEqual(['inserted', 'duplicate']);
});
