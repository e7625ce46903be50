import { and, asc, eq, gt, inArray, max, type SQL } from 'drizzle-orm';
import type { Db } from '../create-db.ts';
import { eventLogTable, type EventLogRow, type RecordKind } from '../schema/event-log.ts';

export type ReadLogOptions = {
  /** Exclusive: records with a position greater than this. 0 reads from the start. */
  after: number;
  limit: number;
  kinds?: readonly RecordKind[];
  storeId?: number;
};

/**
 * Reads the log in position order. Gap-safe by construction: positions are assigned in commit
 * order (see the event_log migrations), so once a reader has seen position N, no record below
 * N can appear later, and a consumer may checkpoint on the last position it read.
 */
export async function readLog(db: Db, options: ReadLogOptions): Promise<EventLogRow[]> {
  const filters: SQL[] = [gt(eventLogTable.position, options.after)];
  if (options.kinds) filters.push(inArray(eventLogTable.kind, [...options.kinds]));
  if (options.storeId !== undefined) filters.push(eq(eventLogTable.storeId, options.storeId));
  return db
    .select()
    .from(eventLogTable)
    .where(and(...filters))
    .orderBy(asc(eventLogTable.position))
    .limit(options.limit);
}

/** The highest committed position, 0 for an empty log. */
export async function readLogHead(db: Db): Promise<number> {
  const [row] = await db.select({ head: max(eventLogTable.position) }).from(eventLogTable);
  return row?.head ?? 0;
}
