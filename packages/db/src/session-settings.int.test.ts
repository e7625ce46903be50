import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestDatabase, postgresSkipReason, type TestDatabase } from '../testing/index.ts';
import { createDb, type Database } from './create-db.ts';

// A database whose owner prefers day-first dates and New York time, as `ALTER DATABASE` or
// postgresql.conf may set. postgres.js reads timestamps from their text, so every time the mirror
// read used to come back with day and month swapped (02/01 read as 1 February).
let database: TestDatabase;
let opened: Database | undefined;
const skip = postgresSkipReason('the session settings of a database', 'ALTER DATABASE on a server of its own');
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await opened?.close();
  await database.close();
});

test.skipIf(skip !== undefined)("reads every time right whatever the database's DateStyle and TimeZone", async () => {
  const name = new URL(database.url!).pathname.slice(1);
  await database.db.execute(sql.raw(`alter database "${name}" set datestyle = 'SQL, DMY'`));
  await database.db.execute(sql.raw(`alter database "${name}" set timezone = 'America/New_York'`));
  opened = await createDb({ url: database.url });
  const [row] = (await opened.db.execute(
    sql`select '2024-01-02 03:04:05.678+00'::timestamptz as at, '2024-01-02 03:04:05.678+00'::timestamptz::text as text,
          current_setting('DateStyle') as style`,
  )) as unknown as { at: Date | string; text: string; style: string }[];
  expect(new Date(row!.at).toISOString()).toBe('2024-01-02T03:04:05.678Z');
  // Text of a time (a keyset cursor keeps its sort value so) is ISO and in UTC.
  expect(row!.text).toBe('2024-01-02 03:04:05.678+00');
  expect(row!.style).toBe('ISO, MDY');
});
