import { execRows, lastFetchAt, lastReconcileAt, storeTokensTable, type Db } from '@mirror/db';
import { sql } from 'drizzle-orm';
import { listStoreIds } from './stores.ts';

/** A stage's backlog: records not handled yet, and the age of the oldest (0 when caught up). */
export type Lag = { records: number; seconds: number };

/** What an operator wants to know about one store, per stage (the console's stores page). */
export type StoreHealth = {
  storeId: number;
  /** Enrichment's state: `active`, `waiting_for_token`, `blocked`, `paused` or `uninstalled`. */
  status: string;
  /** Why a store is blocked or paused (the last error), else null. */
  reason: string | null;
  retryAt: Date | null;
  hasToken: boolean;
  lastWebhookAt: Date | null;
  /** The newest snapshot or tombstone: the last document fetched from Ecwid (live, backfill or reconcile). */
  lastFetchAt: Date | null;
  lastReconcileAt: Date | null;
  parkedOpen: number;
  lag: { enrichment: Lag; projection: Lag };
};

/** Every store the mirror knows: with data, with a token, or with enrichment state. */
export async function listKnownStoreIds(db: Db): Promise<number[]> {
  const [withData, tokens, states] = await Promise.all([
    listStoreIds(db),
    db.select({ storeId: storeTokensTable.storeId }).from(storeTokensTable),
    execRows<{ store_id: string | number }>(db, sql`select store_id from enrichment_state`),
  ]);
  const ids = new Set([...withData, ...tokens.map((t) => t.storeId), ...states.map((s) => Number(s.store_id))]);
  return [...ids].sort((a, b) => a - b);
}

type Row = {
  store_id: string | number;
  status: string | null;
  last_error: string | null;
  retry_at: Date | string | null;
  has_token: boolean;
  enrichment_records: string | number;
  enrichment_oldest: Date | string | null;
  projection_records: string | number;
  projection_oldest: Date | string | null;
  last_webhook_at: Date | string | null;
  last_fetch_at: Date | string | null;
  last_reconcile_at: Date | string | null;
  parked_open: string | number;
};

/**
 * Per store: enrichment's lag (webhooks after its checkpoint) and projection's (snapshots and
 * tombstones of the store after the projector's one checkpoint), with the newest webhook, fetch
 * and reconcile. Each count is a range scan of event_log's (store_id, position) index.
 */
export async function readStoreHealth(db: Db, storeIds: readonly number[], now: Date = new Date()): Promise<StoreHealth[]> {
  if (storeIds.length === 0) return [];
  const known = sql.join(
    storeIds.map((id) => sql`(${id}::bigint)`),
    sql`, `,
  );
  const rows = await execRows<Row>(
    db,
    sql`with known(store_id) as (values ${known}),
        proj as (select coalesce((select position from consumer_checkpoints where name = 'projection'), 0) as position)
        select k.store_id, e.status, e.last_error, e.retry_at, (t.store_id is not null) as has_token,
          (select count(*) from event_log w where w.store_id = k.store_id and w.position > coalesce(e.position, 0) and w.kind = 'webhook') as enrichment_records,
          (select min(w.received_at) from event_log w where w.store_id = k.store_id and w.position > coalesce(e.position, 0) and w.kind = 'webhook') as enrichment_oldest,
          (select count(*) from event_log l where l.store_id = k.store_id and l.position > (select position from proj) and l.kind <> 'webhook') as projection_records,
          (select min(l.received_at) from event_log l where l.store_id = k.store_id and l.position > (select position from proj) and l.kind <> 'webhook') as projection_oldest,
          (select w.received_at from event_log w where w.store_id = k.store_id and w.kind = 'webhook' order by w.position desc limit 1) as last_webhook_at,
          ${lastFetchAt(sql`k.store_id`)} as last_fetch_at,
          ${lastReconcileAt(sql`k.store_id`)} as last_reconcile_at,
          (select count(*) from parked_events p where p.store_id = k.store_id and p.resolved_at is null) as parked_open
        from known k
        left join enrichment_state e on e.store_id = k.store_id
        left join store_tokens t on t.store_id = k.store_id
        order by k.store_id`,
  );
  const date = (v: Date | string | null) => (v === null ? null : new Date(v));
  const age = (oldest: Date | string | null) => (oldest === null ? 0 : Math.max(0, (now.getTime() - new Date(oldest).getTime()) / 1000));
  return rows.map((r) => ({
    storeId: Number(r.store_id),
    status: r.status ?? (r.has_token ? 'active' : 'waiting_for_token'),
    reason: r.status === 'active' ? null : r.last_error,
    retryAt: date(r.retry_at),
    hasToken: r.has_token,
    lastWebhookAt: date(r.last_webhook_at),
    lastFetchAt: date(r.last_fetch_at),
    lastReconcileAt: date(r.last_reconcile_at),
    parkedOpen: Number(r.parked_open),
    lag: {
      enrichment: { records: Number(r.enrichment_records), seconds: age(r.enrichment_oldest) },
      projection: { records: Number(r.projection_records), seconds: age(r.projection_oldest) },
    },
  }));
}
