import { execPreparedSql, type Db } from '@mirror/db';
import { sql } from 'drizzle-orm';
import { storesInLog } from './stores-in-log.ts';
import type { EnrichmentStatus } from './enrichment-state.ts';

export type StoreWork = {
  storeId: number;
  position: number;
  status: EnrichmentStatus;
  retryAt: Date | null;
  /** Some webhook record after the store's checkpoint. */
  hasWork: boolean;
  /**
   * The position of the store's last webhook after its checkpoint (0 when none): whether a
   * webhook came after what the store's pass in flight read, so a next pass has work.
   */
  lastWebhook: number;
  /**
   * Which version of the store's `store_tokens` row there is (its xmin, changed by every write to
   * it), null without one: a cache of opened tokens reads a token again only when this changes.
   */
  tokenVersion: string | null;
};

type Row = {
  store_id: string | number;
  position: string | number;
  status: string;
  retry_at: Date | string | null;
  last_webhook: string | number | null;
  token_version: string | null;
};

/**
 * Every store in the log with its enrichment state and whether webhooks wait after its
 * checkpoint; or, given `only`, just those stores (the ones a wake names: a few index probes
 * instead of one per store in the log). The store list is a loose index scan (one index probe
 * per store), and the work check only looks past the checkpoint (backwards, from the store's
 * last record), so this stays cheap on a large log; but it grows with the stores: about 7 ms at
 * 1,000 stores and 77 ms at 10,000 on the machine of decision 0021. Prepared: the loop runs it
 * at every wake (about once per webhook commit under a steady load), and planning it cost as
 * much as running it.
 */
export async function findStores(db: Db, only?: readonly number[]): Promise<StoreWork[]> {
  if (only?.length === 0) return [];
  const stores = only
    ? sql`with s(store_id) as (select unnest(${`{${only.map((id) => Math.trunc(id)).join(',')}}`}::bigint[]))`
    : storesInLog;
  const rows = await execPreparedSql<Row>(
    db,
    sql`${stores}
        select s.store_id, coalesce(e.position, 0) as position, coalesce(e.status, 'active') as status,
               e.retry_at,
               (select max(w.position) from event_log w
                 where w.store_id = s.store_id and w.position > coalesce(e.position, 0)
                   and w.kind = 'webhook') as last_webhook,
               t.xmin::text as token_version
        from s left join enrichment_state e on e.store_id = s.store_id
          left join store_tokens t on t.store_id = s.store_id
        where s.store_id is not null
        order by s.store_id`,
  );
  return rows.map((r) => ({
    storeId: Number(r.store_id),
    position: Number(r.position),
    status: r.status as EnrichmentStatus,
    retryAt: r.retry_at === null ? null : new Date(r.retry_at),
    hasWork: r.last_webhook !== null,
    lastWebhook: Number(r.last_webhook ?? 0),
    tokenVersion: r.token_version,
  }));
}
