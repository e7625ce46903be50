import { sql } from 'drizzle-orm';
import { execRows, type Executor } from '../create-db.ts';

/**
 * The stores the mirror mirrors: those it holds an access token for, and those the `stores`
 * table knows from an install (an uninstalled store keeps its history, and its webhooks are
 * still logged). A webhook for any other store is not the mirror's to keep.
 */
export async function listMirroredStores(db: Executor): Promise<Set<number>> {
  const rows = await execRows<{ store_id: string | number }>(db, sql`select store_id from store_tokens union select store_id from stores`);
  return new Set(rows.map((r) => Number(r.store_id)));
}
