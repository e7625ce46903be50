import { getTableName, sql } from 'drizzle-orm';
import type { Db } from '../create-db.ts';
import * as entities from '../schema/entities.ts';

/** Every entity table: what a reporting role may read (never the log or the bookkeeping tables). */
export const entityTableNames: readonly string[] = Object.values(entities).map((t) => getTableName(t));

/**
 * Creates (if missing) a read-only role that can read the entity tables and the `reporting`
 * views, and nothing else: not `event_log` (raw webhooks), tokens or API keys. The role has no
 * login; grant it to a login role for your BI tool (`GRANT mirror_reporting TO metabase`).
 * Idempotent; `mirror rebuild` carries the grants over to the tables it swaps in.
 */
export async function grantReporting(db: Db, role = 'mirror_reporting'): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new Error(`role must be a lowercase SQL identifier, got "${role}"`);
  const r = sql.identifier(role);
  await db.transaction(async (tx) => {
    await tx.execute(sql`do $$ begin
      if not exists (select from pg_roles where rolname = ${sql.raw(`'${role}'`)}) then
        create role ${r} nologin;
      end if;
    end $$`);
    await tx.execute(sql`grant usage on schema public, reporting to ${r}`);
    const tables = sql.join(
      entityTableNames.map((t) => sql`public.${sql.identifier(t)}`),
      sql`, `,
    );
    await tx.execute(sql`grant select on ${tables} to ${r}`);
    await tx.execute(sql`grant select on all tables in schema reporting to ${r}`);
  });
}
