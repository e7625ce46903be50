import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '../../testing/index.ts';
import { entityTableNames, grantReporting } from './grant-reporting.ts';

// Roles are cluster-wide: a name per run keeps parallel runs apart.
const role = `mirror_reporting_t${process.pid}`;

describe.skipIf(concurrencySkipReason('reporting role tests (roles need a Postgres server)'))('grantReporting', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
    const { createDb } = await import('../create-db.ts');
    // Drop the role once its database is gone (the grants went with it).
    const admin = await createDb({ url: process.env.TEST_DATABASE_URL ?? database.url });
    await admin.db.execute(sql`drop role if exists ${sql.identifier(role)}`).catch(() => {});
    await admin.close();
  });

  const asRole = (query: ReturnType<typeof sql>) =>
    database.db.transaction(async (tx) => {
      await tx.execute(sql`set local role ${sql.identifier(role)}`);
      return tx.execute(query);
    });

  test('reads the entity tables and reporting views, but not the log, tokens or keys', async () => {
    await grantReporting(database.db, role);
    await grantReporting(database.db, role); // idempotent

    expect(entityTableNames).toContain('orders');
    await expect(asRole(sql`select count(*) from reporting.daily_sales`)).resolves.toBeTruthy();
    await expect(asRole(sql`select count(*) from public.orders`)).resolves.toBeTruthy();
    for (const forbidden of ['event_log', 'store_tokens', 'api_keys']) {
      await expect(asRole(sql`select count(*) from ${sql.identifier(forbidden)}`)).rejects.toThrow();
    }
    await expect(asRole(sql`delete from public.orders`)).rejects.toThrow();
  });

  test('refuses a role name that is not a plain identifier', async () => {
    await expect(grantReporting(database.db, 'x; drop table orders')).rejects.toThrow(/lowercase SQL identifier/);
  });
});

// Embedded PGlite (demo mode) serves every connection as `postgres`: the role exists and
// restricts a session that takes it with SET ROLE, which is how docs/reporting.md says to use it.
test('on embedded PGlite, a session that sets the role reads the views but not the log', async () => {
  const { createDb } = await import('../create-db.ts');
  const embedded = await createDb({ dataDir: 'memory://' });
  try {
    await embedded.migrate();
    await grantReporting(embedded.db, 'mirror_reporting');
    const asRole = (query: ReturnType<typeof sql>) =>
      embedded.db.transaction(async (tx) => {
        await tx.execute(sql`set local role mirror_reporting`);
        return tx.execute(query);
      });
    await expect(asRole(sql`select * from reporting.daily_sales`)).resolves.toBeTruthy();
    await expect(asRole(sql`select * from reporting.product_sales`)).resolves.toBeTruthy();
    await expect(asRole(sql`select count(*) from event_log`)).rejects.toThrow();
  } finally {
    await embedded.close();
  }
}, 120_000);
