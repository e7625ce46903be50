import { isKind, kinds, type Kind } from '@mirror/catalog';
import { backfillStateTable, execRows, reconcileRunsTable, type Db } from '@mirror/db';
import { asc, desc, sql } from 'drizzle-orm';
import { storesInLog } from './stores-in-log.ts';
import type { EnrichmentStatus } from './enrichment-state.ts';

export type StoreStatus = {
  storeId: number;
  status: EnrichmentStatus;
  hasToken: boolean;
  /** Last webhook position handled. */
  position: number;
  /** Webhook records after the checkpoint. */
  lagRecords: number;
  /** Age of the oldest unhandled webhook (0 when caught up). */
  lagSeconds: number;
  lastError: string | null;
  retryAt: Date | null;
  parkedOpen: number;
};

export type ProjectionStatus = {
  position: number;
  head: number;
  lagRecords: number;
  lagSeconds: number;
};

/** A store's backfill of one kind: the run in progress, or the last one. */
export type BackfillStatus = {
  storeId: number;
  kind: Kind;
  /** `scan`: walking the listing; `deleted`: reading the deleted-items listing; `done`. */
  phase: 'scan' | 'deleted' | 'done';
  /** Listed items read by the run so far. */
  offset: number;
  startedAt: Date | null;
  completedAt: Date | null;
  /** The next run asks for changes since this time. */
  watermark: Date | null;
};

/** A store's latest reconcile run of one kind. */
export type ReconcileStatus = {
  storeId: number;
  kind: Kind;
  mode: 'incremental' | 'full';
  status: 'running' | 'done' | 'failed';
  startedAt: Date;
  finishedAt: Date | null;
  missing: number;
  stale: number;
  missedDeletes: number;
  healedTombstones: number;
  requests: number;
};

export type MirrorStatus = {
  stores: StoreStatus[];
  projection: ProjectionStatus;
  backfill: BackfillStatus[];
  reconcile: ReconcileStatus[];
  logHead: number;
};

const kindOrder = (kind: Kind) => kinds.indexOf(kind);

type StoreRow = {
  store_id: string | number;
  status: string | null;
  has_token: boolean;
  position: string | number;
  lag_records: string | number;
  oldest: Date | string | null;
  last_error: string | null;
  retry_at: Date | string | null;
  parked_open: string | number;
};

/** Per store and stage: checkpoint, lag in records and seconds, status and parked count. */
export async function readStatus(db: Db, now: Date = new Date()): Promise<MirrorStatus> {
  const stores = await execRows<StoreRow>(
    db,
    sql`${storesInLog}, known as (
          select store_id from s where store_id is not null
          union select store_id from store_tokens
          union select store_id from enrichment_state
        )
        select k.store_id, e.status, (t.store_id is not null) as has_token,
               coalesce(e.position, 0) as position,
               (select count(*) from event_log w where w.store_id = k.store_id
                  and w.position > coalesce(e.position, 0) and w.kind = 'webhook') as lag_records,
               (select min(w.received_at) from event_log w where w.store_id = k.store_id
                  and w.position > coalesce(e.position, 0) and w.kind = 'webhook') as oldest,
               e.last_error, e.retry_at,
               (select count(*) from parked_events p where p.store_id = k.store_id and p.resolved_at is null) as parked_open
        from known k
        left join enrichment_state e on e.store_id = k.store_id
        left join store_tokens t on t.store_id = k.store_id
        order by k.store_id`,
  );
  const [projection] = await execRows<{
    position: string | number | null;
    head: string | number | null;
    lag: string | number;
    oldest: Date | string | null;
  }>(
    db,
    sql`with c as (select coalesce((select position from consumer_checkpoints where name = 'projection'), 0) as position)
        select c.position, (select max(position) from event_log) as head,
               (select count(*) from event_log l where l.position > c.position and l.kind in ('snapshot', 'tombstone')) as lag,
               (select min(received_at) from event_log l where l.position > c.position and l.kind in ('snapshot', 'tombstone')) as oldest
        from c`,
  );
  const backfill = await db.select().from(backfillStateTable).orderBy(asc(backfillStateTable.storeId), asc(backfillStateTable.entity));
  const reconcile = await db
    .selectDistinctOn([reconcileRunsTable.storeId, reconcileRunsTable.kind])
    .from(reconcileRunsTable)
    .orderBy(reconcileRunsTable.storeId, reconcileRunsTable.kind, desc(reconcileRunsTable.startedAt));
  const age = (oldest: Date | string | null) => (oldest === null ? 0 : Math.max(0, (now.getTime() - new Date(oldest).getTime()) / 1000));
  return {
    logHead: Number(projection?.head ?? 0),
    stores: stores.map((r) => ({
      storeId: Number(r.store_id),
      status: (r.status ?? (r.has_token ? 'active' : 'waiting_for_token')) as EnrichmentStatus,
      hasToken: r.has_token,
      position: Number(r.position),
      lagRecords: Number(r.lag_records),
      lagSeconds: age(r.oldest),
      lastError: r.last_error,
      retryAt: r.retry_at === null ? null : new Date(r.retry_at),
      parkedOpen: Number(r.parked_open),
    })),
    // In catalogue order per store; rows of a kind this build does not know are left out.
    backfill: backfill
      .filter((b) => isKind(b.entity))
      .map((b) => ({
        storeId: b.storeId,
        kind: b.entity as Kind,
        phase: (b.details as { phase?: BackfillStatus['phase'] } | null)?.phase ?? (b.completedAt ? 'done' : 'scan'),
        offset: b.offset,
        startedAt: b.startedAt,
        completedAt: b.completedAt,
        watermark: b.watermark,
      }))
      .sort((a, b) => a.storeId - b.storeId || kindOrder(a.kind) - kindOrder(b.kind)),
    reconcile: reconcile
      .filter((r) => isKind(r.kind))
      .map((r) => ({
        storeId: r.storeId,
        kind: r.kind as Kind,
        mode: r.mode,
        status: r.status,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
        missing: r.missing,
        stale: r.stale,
        missedDeletes: r.missedDeletes,
        healedTombstones: r.healedTombstones,
        requests: r.requests,
      }))
      .sort((a, b) => a.storeId - b.storeId || kindOrder(a.kind) - kindOrder(b.kind)),
    projection: {
      position: Number(projection?.position ?? 0),
      head: Number(projection?.head ?? 0),
      lagRecords: Number(projection?.lag ?? 0),
      lagSeconds: age(projection?.oldest ?? null),
    },
  };
}
