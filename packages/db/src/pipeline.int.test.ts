import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '../testing/index.ts';
import { execPrepared, execRows, type Executor } from './create-db.ts';
import { failedRequirement, pipelineCommit, requireSql } from './pipeline.ts';
import * as schema from './schema/index.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.close();
});

// consumer_checkpoints is a plain table with a text key: a row per test shows what committed.
const write = (tx: Executor, name: string) =>
  execPrepared(tx, 'insert into consumer_checkpoints (name, position) values ($1, $2)', [name, 1]);
const written = async (name: string) =>
  (await execRows(database.db, sql`select 1 from consumer_checkpoints where name = ${name}`)).length > 0;

describe('requireSql', () => {
  test('fails the transaction with its reason when the condition is false, so nothing it wrote commits', async () => {
    const failure = await database.db
      .transaction(async (tx) => {
        await write(tx, 'required-false');
        await execRows(tx, sql`select ${requireSql(sql`1 = 2`, 'one is not two')}`);
      })
      .catch((err: unknown) => err);
    expect(failedRequirement(failure)).toBe('one is not two');
    expect(await written('required-false')).toBe(false);
  });

  test('passes when the condition is true, and names no reason for other errors', async () => {
    await database.db.transaction(async (tx) => {
      await write(tx, 'required-true');
      await execRows(tx, sql`select ${requireSql(sql`1 = 1`, 'one is one')}`);
    });
    expect(await written('required-true')).toBe(true);
    const other = await execRows(database.db, sql`select 1 / 0`).catch((err: unknown) => err);
    expect(failedRequirement(other)).toBeUndefined();
  });

  test('takes only a fixed reason of plain words, never data', () => {
    expect(() => requireSql(sql`true`, "x'); drop table event_log; --")).toThrow(RangeError);
  });
});

describe('pipelineCommit', () => {
  const skip = concurrencySkipReason('pipelineCommit on Postgres (PGlite commits when the callback returns)');

  test.skipIf(skip !== undefined)('commits before the callback returns, so the rows are visible while it still runs', async () => {
    const other = postgres(database.url!, { max: 1, onnotice: () => {} });
    try {
      let seenInside = false;
      await database.db.transaction(async (tx) => {
        // A parameter: on a fresh connection the statement is described first, and the COMMIT
        // must still follow it.
        const wrote = write(tx, 'pipelined');
        const committed = pipelineCommit(tx);
        for (let i = 0; i < 200 && !seenInside; i++) {
          seenInside = (await other`select 1 from consumer_checkpoints where name = 'pipelined'`).length > 0;
          if (!seenInside) await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await Promise.all([wrote, committed]);
      });
      expect(seenInside).toBe(true);
    } finally {
      await other.end();
    }
  });

  test.skipIf(skip !== undefined)(
    'a failed requirement sent before it turns its COMMIT into a rollback; no warning, and the connection is clean after',
    async () => {
      const notices: string[] = [];
      const client = postgres(database.url!, { max: 1, onnotice: (n) => notices.push(String(n.message)) });
      const db = drizzle(client, { schema });
      try {
        const outcome = await db
          .transaction(async (tx) => {
            const sent = await Promise.allSettled([
              write(tx, 'rolled-back'),
              execPrepared(tx, "select mirror_require($1::int = 2, 'not two')", [1]),
              pipelineCommit(tx),
            ]);
            const failure = sent.find((s) => s.status === 'rejected');
            if (failure) throw failure.reason;
          })
          .catch((err: unknown) => err);
        expect(failedRequirement(outcome)).toBe('not two');
        expect(await written('rolled-back')).toBe(false);
        // The same (single) connection: a transaction after it commits, and nothing is left open.
        await db.transaction(async (tx) => {
          const sent = [write(tx, 'after-rollback'), pipelineCommit(tx)];
          await Promise.all(sent);
        });
        expect(await written('after-rollback')).toBe(true);
        expect(await client`select pg_current_xact_id_if_assigned() as xid`).toEqual([{ xid: null }]);
        expect(notices).toEqual([]);
      } finally {
        await client.end();
      }
    },
  );
});
