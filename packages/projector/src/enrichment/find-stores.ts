import { execRows, type Db } from '@mirror/db';
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
};

type Row = { store_id: string | number; position: string | number; status: string; retry_at: Date | string | null; has_work: boolean };

/**
 * Every store in the log with its enrichment state and whether webhooks wait after its
 * checkpoint. The store list is a loose index scan (one index probe per store), and the work
 * check only looks past the checkpoint, so this stays cheap on a large log.
 */
export async function findStores(db: Db): Promise<StoreWork[]> {
  const rows = await execRows<Row>(
    db,
    sql`${storesInLog}
        select s.store_id, coalesce(e.position, 0) as position, coalesce(e.status, 'active') as status,
               e.retry_at,
               exists (select 1 from event_log w
                       where w.store_id = s.store_id and w.position > coalesce(e.position, 0)
                         and w.kind = 'webhook') as has_work
        from s left join enrichment_state e on e.store_id = s.store_id
        where s.store_id is not null
        order by s.store_id`,
  );
  return rows.map((r) => ({
    storeId: Number(r.store_id),
    position: Number(r.position),
    status: r.status as EnrichmentStatus,
    retryAt: r.retry_at === null ? null : new Date(r.retry_at),
    hasWork: r.has_work,
  }));
}
