import { randomBytes } from 'node:crypto';
import { createDb, type Database } from '@mirror/db';

export type BenchDatabase = Database & { name: string; url: string; drop(): Promise<void> };

/**
 * A fresh, migrated database on the Postgres at `adminUrl`, named `<prefix>_<random>`, or the
 * existing one named by `reuse`. `drop()` closes it and drops it (a reused one is only closed);
 * safe to call more than once.
 */
export async function createBenchDatabase(
  adminUrl: string,
  options: { prefix?: string; maxConnections?: number; reuse?: string | undefined } = {},
): Promise<BenchDatabase> {
  const name = options.reuse ?? `${options.prefix ?? 'mirror_bench'}_${randomBytes(5).toString('hex')}`;
  // A reused database (one a run kept) is the caller's: it is migrated, never created or dropped.
  if (options.reuse === undefined) await runAdmin(adminUrl, `create database "${name}"`);
  const url = withDatabase(adminUrl, name);
  let database: Database | undefined;
  let dropped: Promise<void> | undefined;
  const drop = () =>
    (dropped ??= (async () => {
      await database?.close().catch(() => {});
      if (options.reuse === undefined) await runAdmin(adminUrl, `drop database if exists "${name}" with (force)`);
    })());
  try {
    database = await createDb({
      url,
      ...(options.maxConnections && { maxConnections: options.maxConnections }),
    });
    await database.migrate();
  } catch (err) {
    await drop().catch(() => {});
    throw err;
  }
  return { ...database, name, url, drop };
}

async function runAdmin(adminUrl: string, statement: string): Promise<void> {
  const admin = await createDb({ url: adminUrl, maxConnections: 1 });
  try {
    await admin.db.execute(statement);
  } finally {
    await admin.close();
  }
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}
