import { storedListJson } from '@mirror/catalog';
import { execRows, type Db } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { PgDialect } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { appendRecords, appendSnapshot, appendTombstone, fixture } from '../../testing/append-records.ts';
import { auditRenderings, logOfEverything } from '../../testing/sample-log.ts';
import { projectNextBatch } from './project-batch.ts';

/*
 * The lists' stored printing of rows (decision 0022): written beside the rows by projection,
 * read only while it is the row's.
 */

let database: TestDatabase;
let db: Db;
beforeEach(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterEach(async () => {
  await database.close();
});

async function projectAll(limit = 4): Promise<void> {
  while (!(await projectNextBatch(db, { limit })).caughtUp);
}

/** The stored printing of one order, or undefined. */
async function stored(orderId: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await execRows<{ json: string }>(db, sql`select json from orders_rendered where order_id = ${orderId}`);
  return row ? (JSON.parse(row.json) as Record<string, unknown>) : undefined;
}

/** What a list reads for one order: the expression the API selects (storedListJson). */
const listExpression = new PgDialect().sqlToQuery(storedListJson('order')).sql;
async function listed(orderId: string): Promise<string> {
  const [row] = await execRows<{ json: string }>(
    db,
    sql`select ${sql.raw(listExpression)} as json from orders where order_id = ${orderId}`,
  );
  return row!.json;
}

describe('stored list printing', () => {
  test('every row a batch writes is stored as the printer prints it; only rows an internal-id tombstone wrote are left to print on request', async () => {
    await appendRecords(db, logOfEverything());
    await projectAll();

    const audit = await auditRenderings(db);
    const [internal] = await execRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from orders o join event_log e on e.position = o.source_position
          where e.kind = 'tombstone' and e.entity_id like 'internal:%'`,
    );
    expect(audit['order']).toEqual({ rows: 8, missing: 0, stale: internal!.n, wrong: 0 });
    expect(internal!.n).toBe(1);
    expect(audit['product']).toEqual({ rows: 8, missing: 0, stale: 0, wrong: 0 });
    expect(audit['abandoned_cart']).toEqual({ rows: 3, missing: 0, stale: 0, wrong: 0 });
  });

  test('a later snapshot and a tombstone print the order again, items and all', async () => {
    const order = fixture<Record<string, unknown> & { items: Record<string, unknown>[] }>('order');
    await appendSnapshot(db, { entityKind: 'order', entityId: 'K8XTQ', payload: order, fetchedAt: new Date('2024-09-04T08:00:00Z') });
    await projectAll();
    const first = await stored('K8XTQ');
    expect(first).toMatchObject({ orderId: 'K8XTQ', deletedAt: null });
    const items = first!['items'] as Record<string, unknown>[];
    expect(items.length).toBe(order.items.length);

    const renamed = {
      ...order,
      paymentStatus: 'REFUNDED',
      updateTimestamp: 1_900_000_000,
      items: [{ ...order.items[0]!, name: 'Renamed item' }],
    };
    await appendSnapshot(db, { entityKind: 'order', entityId: 'K8XTQ', payload: renamed, fetchedAt: new Date('2024-09-05T08:00:00Z') });
    await projectAll();
    const second = await stored('K8XTQ');
    expect(second).toMatchObject({ paymentStatus: 'REFUNDED', deletedAt: null });
    expect((second!['items'] as Record<string, unknown>[]).map((i) => i['name'])).toEqual(['Renamed item']);

    await appendTombstone(db, { entityKind: 'order', entityId: 'K8XTQ', fetchedAt: new Date('2024-09-06T08:00:00Z') });
    await projectAll();
    expect(await stored('K8XTQ')).toMatchObject({ paymentStatus: 'REFUNDED', deletedAt: '2024-09-06T08:00:00.000Z' });
    expect((await auditRenderings(db))['order']).toEqual({ rows: 1, missing: 0, stale: 0, wrong: 0 });
  });

  test('a list reads the stored printing while it is the row version it was printed from, and prints the row afresh otherwise', async () => {
    await appendSnapshot(db, { entityKind: 'order', entityId: 'K8XTQ', payload: fixture('order') });
    await projectAll();
    const printed = await listed('K8XTQ');
    expect(JSON.parse(printed)).toMatchObject({ orderId: 'K8XTQ' });

    // Read from the store: a stored text that is the row's is what the list returns.
    await db.execute(sql`update orders_rendered set json = '{"tampered":true}' where order_id = 'K8XTQ'`);
    expect(await listed('K8XTQ')).toBe('{"tampered":true}');

    // By another printer (an older version of the API's): passed over.
    await db.execute(sql`update orders_rendered set printer = 'an-older-printer' where order_id = 'K8XTQ'`);
    expect(await listed('K8XTQ')).toBe(printed);
    await db.execute(sql`update orders_rendered set printer = ${printerOf(listExpression)} where order_id = 'K8XTQ'`);
    expect(await listed('K8XTQ')).toBe('{"tampered":true}');

    // A write that does not print the row again (a hand-made fix, an older writer): the row's
    // xmin moves, so the stale text is passed over, and the row is printed as it now is.
    await db.execute(sql`update orders set email = 'changed@example.com' where order_id = 'K8XTQ'`);
    const fresh = JSON.parse(await listed('K8XTQ')) as Record<string, unknown>;
    expect(fresh).toMatchObject({ orderId: 'K8XTQ', email: 'changed@example.com' });
    expect((await auditRenderings(db))['order']).toEqual({ rows: 1, missing: 0, stale: 1, wrong: 0 });
  });
});

/** The printer id in the list expression (`r.printer = '…'`). */
function printerOf(expression: string): string {
  const found = /r\.printer = '([^']+)'/.exec(expression);
  if (!found) throw new Error('no printer id in the list expression');
  return found[1]!;
}
