import { entityCatalog, kinds } from '@mirror/catalog';
import { eventLogTable, execRows, readStoreOverview, storeProfilesTable, storeTokensTable, type Db } from '@mirror/db';
import { getTableName, inArray, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { toJson } from './row-json.ts';

// Every table whose primary key or an index starts with store_id: "a store with any data". Child
// tables are left out: a row there has its parent's row.
const storeTables: PgTable[] = [eventLogTable, ...kinds.map((kind) => entityCatalog[kind].table)];

/**
 * True when the store is known to the mirror: in `stores`, with any row in any table, or with a
 * token (added by `mirror stores add` or an install, not fetched from yet).
 */
export async function storeExists(db: Db, storeId: number): Promise<boolean> {
  const probes = [...storeTables, storeTokensTable].map(
    (t) => sql`exists (select 1 from ${sql.identifier(getTableName(t))} where store_id = ${storeId})`,
  );
  const [row] = await execRows<{ found: boolean }>(db, sql`select (${sql.join(probes, sql` or `)}) as found`);
  return row?.found === true;
}

/**
 * Every store id with data. One loose index scan per table (a recursive CTE hopping from one
 * store_id to the next), so the cost is per store, not per row: event_log may hold millions.
 */
export async function listStoreIds(db: Db): Promise<number[]> {
  const scans = storeTables.map((t) => {
    const name = sql.identifier(getTableName(t));
    return sql`(with recursive s(store_id) as (
      (select store_id from ${name} order by store_id limit 1)
      union all
      select (select store_id from ${name} where store_id > s.store_id order by store_id limit 1) from s where s.store_id is not null
    ) select store_id from s where store_id is not null)`;
  });
  const rows = await execRows<{ store_id: string | number }>(
    db,
    sql`select distinct store_id::bigint as store_id from (${sql.join(scans, sql` union all `)}) ids order by 1`,
  );
  return rows.map((r) => Number(r.store_id));
}

/**
 * The stores as listed by GET /v1/stores: how the mirror stands with each (status, install
 * times, scopes, token fingerprint, last webhook, fetch and reconcile, lag) and profile basics.
 */
export async function describeStores(db: Db, storeIds: number[]): Promise<Record<string, unknown>[]> {
  if (storeIds.length === 0) return [];
  const [stores, profiles] = await Promise.all([
    readStoreOverview(db, storeIds),
    db
      .select({
        storeId: storeProfilesTable.storeId,
        storeName: storeProfilesTable.storeName,
        storeUrl: storeProfilesTable.storeUrl,
        currency: storeProfilesTable.currency,
      })
      .from(storeProfilesTable)
      .where(inArray(storeProfilesTable.storeId, storeIds)),
  ]);
  const storeBy = new Map(stores.map((s) => [s.storeId, s]));
  const profileBy = new Map(profiles.map((p) => [p.storeId, p]));
  return storeIds.map((storeId) => {
    const s = storeBy.get(storeId);
    const p = profileBy.get(storeId);
    return toJson({
      storeId,
      status: s?.status ?? null,
      statusReason: s?.statusReason ?? null,
      retryAt: s?.retryAt ?? null,
      installedAt: s?.installedAt ?? null,
      uninstalledAt: s?.uninstalledAt ?? null,
      scopes: s?.scopes ?? null,
      tokenFingerprint: s?.tokenFingerprint ?? null,
      catchUp: s?.catchUp ?? null,
      lastWebhookAt: s?.lastWebhookAt ?? null,
      lastFetchAt: s?.lastFetchAt ?? null,
      lastReconcileAt: s?.lastReconcileAt ?? null,
      lagRecords: s?.lagRecords ?? 0,
      lagSeconds: s?.lagSeconds ?? 0,
      storeName: p?.storeName ?? null,
      storeUrl: p?.storeUrl ?? null,
      currency: p?.currency ?? null,
    });
  });
}
