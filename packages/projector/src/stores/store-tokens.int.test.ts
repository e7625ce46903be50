import { enrichmentStateTable, storeTokensTable, type Db } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addStoreToken, syncEnvTokens } from './store-tokens.ts';

let database: TestDatabase;
let db: Db;
beforeEach(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterEach(() => database.close());

const rows = async () =>
  (await db.select().from(storeTokensTable).orderBy(storeTokensTable.storeId)).map((r) => [r.storeId, r.token, r.source]);

describe('syncEnvTokens', () => {
  it('leaves every token alone when ECWID_STORES is empty (a worker started without it)', async () => {
    await syncEnvTokens(db, [{ storeId: 1, token: 'secret_one' }]);
    await addStoreToken(db, 2, 'secret_two');
    await syncEnvTokens(db, []);
    expect(await rows()).toEqual([
      [1, 'secret_one', 'env'],
      [2, 'secret_two', 'cli'],
    ]);
  });

  it('drops env tokens no longer listed and keeps CLI ones', async () => {
    await syncEnvTokens(db, [
      { storeId: 1, token: 'secret_one' },
      { storeId: 3, token: 'secret_three' },
    ]);
    await addStoreToken(db, 2, 'secret_two');
    await syncEnvTokens(db, [{ storeId: 3, token: 'secret_three_new' }]);
    expect(await rows()).toEqual([
      [2, 'secret_two', 'cli'],
      [3, 'secret_three_new', 'env'],
    ]);
  });
});

describe('addStoreToken', () => {
  it('lets a store blocked by its old token be retried at once, and leaves other states alone', async () => {
    const later = new Date(Date.now() + 600_000);
    await db.insert(enrichmentStateTable).values([
      { storeId: 1, status: 'blocked', retryAt: later, lastError: 'TOKEN: 403' },
      { storeId: 2, status: 'paused', retryAt: later },
    ]);
    await addStoreToken(db, 1, 'secret_new_one');
    await addStoreToken(db, 2, 'secret_new_two');
    const states = await db.select().from(enrichmentStateTable).orderBy(enrichmentStateTable.storeId);
    expect(states.map((s) => [s.storeId, s.status, s.retryAt?.getTime() ?? null])).toEqual([
      [1, 'blocked', null],
      [2, 'paused', later.getTime()],
    ]);
  });
});
