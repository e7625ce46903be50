import { sql } from 'drizzle-orm';

/**
 * `with recursive s(store_id)`: every store id in the log, by a loose index scan (one probe of
 * the store index per store, not a scan of the log); the last row is null.
 */
export const storesInLog = sql`with recursive s(store_id) as (
          (select store_id from event_log order by store_id limit 1)
          union all
          select (select l.store_id from event_log l where l.store_id > s.store_id order by l.store_id limit 1)
          from s where s.store_id is not null
        )`;
