import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './test-process.ts';

/*
 * An error no command expected: the operator reads the database's own words and its SQLSTATE,
 * exit 1; never drizzle's wrapper, which prints the statement and the values it was given.
 */

let database: TestDatabase;
const skip = concurrencySkipReason('the CLI in a child process beside the test database');

describe.skipIf(skip)('an unexpected database error', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    // A store the mirror knows (a key for an unknown one is refused before any insert).
    await database.db.execute(sql`insert into store_tokens (store_id) values (1003)`);
    // Every new key refused, as a constraint an operator added by hand would.
    await database.db.execute(sql`alter table api_keys add constraint no_new_keys check (label = 'never')`);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("is printed as the database's message and SQLSTATE, without the statement or its values", async () => {
    const run = await runCli(['api-keys', 'create', '--store', '1003', '--label', 'label-of-a-customer@example.com'], {
      DATABASE_URL: database.url,
      LOG_LEVEL: 'silent',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^mirror: the database refused a statement: new row for relation "api_keys" violates check constraint "no_new_keys" \(SQLSTATE 23514\)\n$/,
    );
    expect(run.stderr).not.toContain('customer@example.com');
    expect(run.stderr).not.toMatch(/insert into/i);
  });

  it('refuses a key for a store the mirror does not know, as the API does: exit 2, nothing written', async () => {
    const run = await runCli(['api-keys', 'create', '--store', '2024'], { DATABASE_URL: database.url, LOG_LEVEL: 'silent' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('store 2024 is not known to the mirror');
    expect(run.stdout).toBe('');
    expect(await database.db.execute(sql`select 1 from api_keys where store_id = 2024`)).toHaveLength(0);
  });
});
