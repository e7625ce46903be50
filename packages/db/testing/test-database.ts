import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { createDb, type Database } from '../src/create-db.ts';
import { withDatabase, type TestBackend } from './test-backend.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testBackend: TestBackend;
  }
}

export type TestDatabase = Database & {
  /** Set on Postgres: a URL for this database, to open extra connections or processes. */
  url: string | undefined;
  /** False on PGlite: one connection, so tests of concurrent writers cannot run. */
  supportsConcurrency: boolean;
};

/**
 * Why tests needing concurrent connections cannot run on this backend (PGlite has one), or
 * undefined when they can. Prints the reason, so a skip is never silent.
 */
export function concurrencySkipReason(what: string): string | undefined {
  return postgresSkipReason(what, 'needs concurrent connections');
}

/**
 * Why a test that needs a Postgres server (`needs`: what of it) is skipped, printed once; undefined
 * when the tests run on one.
 */
export function postgresSkipReason(what: string, needs: string): string | undefined {
  const backend = inject('testBackend');
  if (backend.kind !== 'pglite') return undefined;
  const reason = `${needs}; running on PGlite because ${backend.reason}`;
  console.log(`skipping ${what}: ${reason}`);
  return reason;
}

/**
 * A fresh, migrated database for one test file (or one test): a clone of the migrated template
 * on Postgres, an in-memory PGlite otherwise. `close()` drops the clone.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const backend = inject('testBackend');
  if (backend.kind === 'pglite') {
    const database = await createDb({ dataDir: 'memory://' });
    await database.migrate();
    return { ...database, url: undefined, supportsConcurrency: false };
  }
  const name = `mirror_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(backend.adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}" template "${backend.templateName}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(backend.adminUrl, name);
  const database = await createDb({ url, maxConnections: 20 });
  return {
    ...database,
    url,
    supportsConcurrency: true,
    async close() {
      await database.close();
      const dropper = postgres(backend.adminUrl, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
