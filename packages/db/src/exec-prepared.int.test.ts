import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '../testing/index.ts';
import { execPrepared } from './create-db.ts';
import * as schema from './schema/index.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.close();
});

const skip = concurrencySkipReason('execPrepared on postgres.js (PGlite prepares nothing: one backend in the process)');

test.skipIf(skip !== undefined)('keeps a statement prepared on its connection, with parameters or without', async () => {
  // One connection, so the statements and the look at them share a session.
  const client = postgres(database.url!, { max: 1, onnotice: () => {} });
  const db = drizzle(client, { schema });
  try {
    const without = 'select count(*)::int as n from event_log';
    const withParams = 'select count(*)::int as n from event_log where position > $1';
    for (let i = 0; i < 3; i++) {
      await execPrepared(db, without, []);
      await execPrepared(db, withParams, [i]);
    }
    const prepared = await client<{ statement: string; generic_plans: string; custom_plans: string }[]>`
      select statement, generic_plans, custom_plans from pg_prepared_statements where statement in (${without}, ${withParams})`;
    // postgres.js sends a statement without parameters as a simple query unless told otherwise:
    // parsed and planned at every call.
    expect(prepared.map((p) => [p.statement, Number(p.generic_plans) + Number(p.custom_plans)]).sort()).toEqual(
      [
        [without, 3],
        [withParams, 3],
      ].sort(),
    );
  } finally {
    await client.end();
  }
});

test.skipIf(skip !== undefined)("a session's statements are prepared too (each would otherwise cost two round trips)", async () => {
  const session = database.openSession!(() => {});
  try {
    const text = 'select pg_try_advisory_lock($1, $2) as taken';
    for (let i = 0; i < 2; i++) await session.unsafe(text, [1, i]);
    const prepared = (await session.unsafe('select statement, generic_plans + custom_plans as runs from pg_prepared_statements', [])) as {
      statement: string;
      runs: string;
    }[];
    expect(prepared.filter((p) => p.statement === text).map((p) => Number(p.runs))).toEqual([2]);
  } finally {
    await session.end();
  }
});
