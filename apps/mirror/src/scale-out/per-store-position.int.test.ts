import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { execRows, type WebhookAppend } from '@mirror/db';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendPerStore, createPerStoreLog, perStoreSchema, readPerStore } from '../../../../bench/lib/per-store-log.ts';

/*
 * The prototype of a commit-ordered position per store (bench/lib/per-store-log.ts,
 * docs/decisions/0013-past-one-machine.md) keeps 0001's guarantee one store at a time: a reader
 * checkpointing on a store's position never skips a late commit. And it is per store: an append
 * held open holds back later appends of its own store, not of the others.
 */

let database: TestDatabase;

const webhook = (storeId: number, eventId: string = randomUUID()): WebhookAppend => ({
  storeId,
  eventId,
  eventType: 'order.updated',
  entityKind: 'order',
  entityId: '1',
  isKnownType: true,
  eventCreated: 1_700_000_000,
  body: JSON.stringify({ eventId, storeId, eventType: 'order.updated', entityId: 1, eventCreated: 1_700_000_000 }),
});

const eventIdsOf = async (storeId: number) =>
  (
    await execRows<{ event_id: string; store_position: string | number }>(
      database.db,
      sql`select event_id, store_position from ${sql.raw(perStoreSchema)}.event_log where store_id = ${storeId} order by store_position`,
    )
  ).map((r) => `${Number(r.store_position)}:${r.event_id}`);

describe.skipIf(concurrencySkipReason('the per-store position under concurrent writers'))('a commit-ordered position per store', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    await createPerStoreLog(database.db);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("holds back a later append of the same store while one is open, and lets another store's commit", async () => {
    let release!: () => void;
    const mayCommit = new Promise<void>((resolve) => (release = resolve));
    let appended!: () => void;
    const hasAppended = new Promise<void>((resolve) => (appended = resolve));
    const writerA = database.db.transaction(async (tx) => {
      await appendPerStore(tx, [webhook(1, 'a-1')]);
      appended();
      await mayCommit; // A holds its transaction (and store 1's head) open here.
    });
    await hasAppended;

    const sameStore = appendPerStore(database.db, [webhook(1, 'b-1')]);
    const waiting = async () =>
      (
        await execRows<{ n: number }>(
          database.db,
          sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
        )
      )[0]!.n;
    await expect.poll(waiting, { timeout: 5000, interval: 10 }).toBe(1);

    // Another store commits at once, and its reader sees it; store 1's reader sees nothing yet.
    expect(await appendPerStore(database.db, [webhook(2, 'c-1')])).toBe(1);
    expect(await readPerStore(database.db, 2, 0, 10)).toEqual([1]);
    expect(await readPerStore(database.db, 1, 0, 10)).toEqual([]);

    release();
    await writerA;
    expect(await sameStore).toBe(1);
    expect(await eventIdsOf(1)).toEqual(['1:a-1', '2:b-1']);
  });

  it('rolls a failed append back with its positions: no hole', async () => {
    await expect(
      database.db.transaction(async (tx) => {
        await appendPerStore(tx, [webhook(3, 'rolled-back'), webhook(3)]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await appendPerStore(database.db, [webhook(3, 'kept')]);
    expect(await eventIdsOf(3)).toEqual(['1:kept']);
  });

  it('lets tailing readers, one checkpoint per store, see every row committed by 8 racing writers over 3 stores', async () => {
    const stores = [11, 12, 13];
    const writers = 8;
    const perWriter = 20;
    const seen = new Map<number, string[]>(stores.map((s) => [s, []]));
    const checkpoints = new Map<number, number>(stores.map((s) => [s, 0]));
    let done = false;
    const readOnce = async () => {
      let read = 0;
      for (const storeId of stores) {
        const rows = await execRows<{ event_id: string; store_position: string | number }>(
          database.db,
          sql`select event_id, store_position from ${sql.raw(perStoreSchema)}.event_log
              where store_id = ${storeId} and store_position > ${checkpoints.get(storeId)!} order by store_position limit 5`,
        );
        seen.get(storeId)!.push(...rows.map((r) => r.event_id));
        if (rows.length > 0) checkpoints.set(storeId, Number(rows.at(-1)!.store_position));
        read += rows.length;
      }
      return read;
    };
    const reader = (async () => {
      while (!done) {
        await readOnce();
        await sleep(1);
      }
      while ((await readOnce()) > 0);
    })();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) {
          const storeId = stores[(w + i) % stores.length]!;
          await database.db.transaction(async (tx) => {
            await appendPerStore(tx, [webhook(storeId, `race-${w}-${i}`)]);
            await sleep(Math.random() * 4); // commit late, in random order across writers
          });
        }
      }),
    );
    done = true;
    await reader;

    // Every row was seen exactly once: none committed behind a checkpoint already passed.
    const all = [...seen.values()].flat();
    expect(all).toHaveLength(writers * perWriter);
    expect(new Set(all).size).toBe(writers * perWriter);
    // And each store's positions are dense, in the order its reader saw them.
    for (const storeId of stores) {
      expect((await eventIdsOf(storeId)).map((r) => r.split(':')[1])).toEqual(seen.get(storeId));
      expect((await eventIdsOf(storeId)).map((r) => Number(r.split(':')[0]))).toEqual(
        Array.from({ length: seen.get(storeId)!.length }, (_, i) => i + 1),
      );
    }
  });
});
