import { storeTokensTable, type Db } from '@mirror/db';
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

const rows = async () => (await db.select().from(storeTokensTable).orderBy(storeTokensTable.storeId)).map((r) => [r.storeId, r.token, r.source]);

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
