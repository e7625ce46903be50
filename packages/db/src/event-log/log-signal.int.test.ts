import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { execRows } from '../create-db.ts';
import { createTestDatabase, type TestDatabase } from '../../testing/index.ts';
import type { RecordKind } from '../schema/event-log.ts';
import { appendWebhooks } from './append-webhooks.ts';
import { webhookRow } from './fixtures.ts';
import { createLogSignal, listenForAppends } from './log-signal.ts';

let database: TestDatabase;
let stop: () => Promise<void>;
const heard: RecordKind[][] = [];
const heardStores: (number[] | undefined)[] = [];
const heardUpTo: (number | undefined)[] = [];
const signal = createLogSignal();

beforeAll(async () => {
  database = await createTestDatabase();
  const recording = {
    ...signal,
    notify: (kinds: readonly RecordKind[], stores?: readonly number[], upTo?: number) => {
      heard.push([...kinds]);
      heardStores.push(stores && [...stores].sort((a, b) => a - b));
      heardUpTo.push(upTo);
    },
  };
  stop = await listenForAppends(database, recording);
});
afterAll(async () => {
  await stop();
  await database.close();
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

test('an append is announced at its commit, once per kind, and never before', async () => {
  await settle();
  heard.length = 0;
  await database.db.transaction(async (tx) => {
    await tx.execute(sql`insert into event_log (kind, store_id, event_id, event_type, is_known_type, payload)
                         values ('webhook', 1, 'n-1', 'order.updated', true, '{}'), ('webhook', 1, 'n-2', 'order.updated', true, '{}')`);
    await tx.execute(sql`insert into event_log (kind, store_id, event_type, entity_kind, entity_id, is_known_type, payload)
                         values ('snapshot', 1, 'order', 'order', 'A1', true, '{}')`);
    await settle();
    // Not committed yet: nothing may have been announced.
    expect(heard).toEqual([]);
  });
  await settle();
  expect(heard.flat().sort()).toEqual(['snapshot', 'webhook']);
});

test('a rolled-back append is never announced', async () => {
  heard.length = 0;
  await database.db
    .transaction(async (tx) => {
      await tx.execute(sql`insert into event_log (kind, store_id, event_id, event_type, is_known_type, payload)
                           values ('webhook', 1, 'n-3', 'order.updated', true, '{}')`);
      throw new Error('roll back');
    })
    .catch(() => {});
  await settle();
  expect(heard).toEqual([]);
});

test("ingest's appends are announced without any change to its code: the trigger sends them", async () => {
  heard.length = 0;
  await appendWebhooks(database.db, [webhookRow(), webhookRow()]);
  await settle();
  expect(heard).toEqual([['webhook']]);
  // A batch of redeliveries appends nothing, and says nothing.
  heard.length = 0;
  const row = webhookRow();
  await appendWebhooks(database.db, [row]);
  await settle();
  heard.length = 0;
  await appendWebhooks(database.db, [row]);
  await settle();
  expect(heard).toEqual([]);
});

test('the notification names the stores appended for, up to 500 (past that, every store), and the last position appended', async () => {
  await settle();
  heard.length = 0;
  heardStores.length = 0;
  heardUpTo.length = 0;
  await appendWebhooks(database.db, [webhookRow({ storeId: 12 }), webhookRow({ storeId: 11 }), webhookRow({ storeId: 12 })]);
  await settle();
  expect(heard).toEqual([['webhook']]);
  expect(heardStores).toEqual([[11, 12]]);
  expect(heardUpTo).toEqual([await lastPosition()]);

  heard.length = 0;
  heardStores.length = 0;
  heardUpTo.length = 0;
  await appendWebhooks(
    database.db,
    Array.from({ length: 501 }, (_, i) => webhookRow({ storeId: 2000 + i })),
  );
  await settle();
  expect(heard).toEqual([['webhook']]);
  expect(heardStores).toEqual([undefined]);
  expect(heardUpTo).toEqual([await lastPosition()]);
});

test('each kind of one commit says where its own records end', async () => {
  await settle();
  heard.length = 0;
  heardUpTo.length = 0;
  // A snapshot, then a webhook, in one statement: the snapshot's notification names its own position.
  await database.db.execute(sql`insert into event_log (kind, store_id, event_id, event_type, entity_kind, entity_id, is_known_type, payload)
    values ('snapshot', 1, null, 'order', 'order', 'P1', true, '{}'), ('webhook', 1, 'p-2', 'order.updated', 'order', 'P1', true, '{}')`);
  await settle();
  const [snapshot, webhook] = await execRows<{ position: string }>(
    database.db,
    sql`select position from event_log order by position desc limit 2`,
  ).then((rows) => rows.map((r) => Number(r.position)).reverse());
  const byKind = Object.fromEntries(heard.map((kinds, i) => [kinds[0], heardUpTo[i]]));
  expect(byKind).toEqual({ snapshot, webhook });
  expect(snapshot).toBeLessThan(webhook!);
});

async function lastPosition(): Promise<number> {
  const [row] = await execRows<{ position: string }>(database.db, sql`select max(position) as position from event_log`);
  return Number(row!.position);
}
