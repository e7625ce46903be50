import { sql, type SQL } from 'drizzle-orm';
import { execRows, type Executor } from '../create-db.ts';

/** A store as the operator sees it: `active`, `paused` (Ecwid unavailable), `blocked` (Ecwid refuses, or no token), `uninstalled`. */
export type StoreStatus = 'active' | 'paused' | 'blocked' | 'uninstalled';

/** What `GET /v1/stores` and `mirror stores list` show per store. Never the token: its fingerprint. */
export type StoreOverview = {
  storeId: number;
  status: StoreStatus;
  /** Why it is paused or blocked (the last error), null otherwise. */
  statusReason: string | null;
  /** A paused or blocked store is tried again after this. */
  retryAt: Date | null;
  installedAt: Date | null;
  uninstalledAt: Date | null;
  /** Scopes Ecwid granted with the token (OAuth installs); null when unknown. */
  scopes: string[] | null;
  tokenFingerprint: string | null;
  /** `env`, `cli`, `oauth`, `demo`; null without a token. */
  tokenSource: string | null;
  /** A new token's backfill or reconcile not yet done. */
  catchUp: string | null;
  lastWebhookAt: Date | null;
  /** The latest document fetched from Ecwid (snapshot or confirmed delete). */
  lastFetchAt: Date | null;
  /** The latest reconcile run that finished. */
  lastReconcileAt: Date | null;
  /** Webhooks logged but not yet handled, and how long the oldest has waited. */
  lagRecords: number;
  lagSeconds: number;
};

type Row = {
  store_id: string | number;
  enrichment_status: string | null;
  last_error: string | null;
  retry_at: Date | string | null;
  lifecycle: string | null;
  installed_at: Date | string | null;
  uninstalled_at: Date | string | null;
  scopes: string[] | null;
  token_fingerprint: string | null;
  source: string | null;
  catch_up: string | null;
  last_webhook_at: Date | string | null;
  last_fetch_at: Date | string | null;
  last_reconcile_at: Date | string | null;
  lag_records: string | number;
  oldest: Date | string | null;
};

const date = (v: Date | string | null) => (v === null ? null : new Date(v));

/**
 * A store's last fetch and last reconcile, as every view of the store shows them (`mirror stores
 * list`, GET /v1/stores, the console's GET /v1/status): the newest document fetched from Ecwid,
 * not the mirror's own install record (entity `store`), and the last reconcile that finished.
 * `storeId` is the SQL of the store id in the caller's query.
 */
export const lastFetchAt = (storeId: SQL) =>
  sql`(select f.fetched_at from event_log f where f.store_id = ${storeId} and f.kind in ('snapshot', 'tombstone')
        and f.entity_kind <> 'store' order by f.position desc limit 1)`;
export const lastReconcileAt = (storeId: SQL) =>
  sql`(select max(r.finished_at) from reconcile_runs r where r.store_id = ${storeId} and r.status = 'done')`;

/**
 * The operator's view of the given stores, in their order. Each figure is one index probe per
 * store (the log's (store_id, position) index read backwards), so it stays cheap on a large log.
 */
export async function readStoreOverview(db: Executor, storeIds: readonly number[], now: Date = new Date()): Promise<StoreOverview[]> {
  if (storeIds.length === 0) return [];
  const rows = await execRows<Row>(
    db,
    sql`select k.store_id, e.status as enrichment_status, e.last_error, e.retry_at,
               s.status as lifecycle, s.installed_at, s.uninstalled_at,
               t.scopes, t.token_fingerprint, t.source, t.catch_up,
               (select w.received_at from event_log w where w.store_id = k.store_id and w.kind = 'webhook'
                 order by w.position desc limit 1) as last_webhook_at,
               ${lastFetchAt(sql`k.store_id`)} as last_fetch_at,
               ${lastReconcileAt(sql`k.store_id`)} as last_reconcile_at,
               (select count(*) from event_log w where w.store_id = k.store_id and w.kind = 'webhook'
                  and w.position > coalesce(e.position, 0)) as lag_records,
               (select min(w.received_at) from event_log w where w.store_id = k.store_id and w.kind = 'webhook'
                  and w.position > coalesce(e.position, 0)) as oldest
        from unnest(${`{${storeIds.join(',')}}`}::bigint[]) with ordinality as k(store_id, ord)
        left join enrichment_state e on e.store_id = k.store_id
        left join stores s on s.store_id = k.store_id
        left join store_tokens t on t.store_id = k.store_id
        order by k.ord`,
  );
  return rows.map((r) => {
    const hasToken = r.token_fingerprint !== null || r.source !== null;
    let status: StoreStatus;
    let reason: string | null = null;
    const enrichment = r.enrichment_status ?? 'none';
    switch (enrichment) {
      case 'uninstalled':
        status = 'uninstalled';
        break;
      case 'paused':
      case 'blocked':
        status = enrichment;
        reason = r.last_error;
        break;
      case 'waiting_for_token':
        status = 'blocked';
        reason = 'no access token: install the app again, or `mirror stores add`';
        break;
      default:
        if (r.lifecycle === 'uninstalled' && !hasToken) status = 'uninstalled';
        else if (!hasToken) {
          status = 'blocked';
          reason = 'no access token: install the app again, or `mirror stores add`';
        } else status = 'active';
    }
    const oldest = date(r.oldest);
    return {
      storeId: Number(r.store_id),
      status,
      statusReason: reason,
      retryAt: status === 'paused' || status === 'blocked' ? date(r.retry_at) : null,
      installedAt: date(r.installed_at),
      uninstalledAt: date(r.uninstalled_at),
      scopes: r.scopes,
      tokenFingerprint: r.token_fingerprint,
      tokenSource: r.source,
      catchUp: r.catch_up,
      lastWebhookAt: date(r.last_webhook_at),
      lastFetchAt: date(r.last_fetch_at),
      lastReconcileAt: date(r.last_reconcile_at),
      lagRecords: Number(r.lag_records),
      lagSeconds: oldest === null ? 0 : Math.max(0, (now.getTime() - oldest.getTime()) / 1000),
    };
  });
}
