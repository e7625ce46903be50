import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { execRows, type Db } from '@mirror/db';
import type { Kind } from '@mirror/catalog';
import { projectNextBatch } from '../projection/project-batch.ts';

export type ReplayOptions = {
  /** Re-apply records with a position greater than this (0: the whole log). */
  from: number;
  schema?: string;
  kinds?: readonly Kind[];
  limit?: number;
  onProgress?: (progress: { position: number; head: number; records: number }) => void;
};

/**
 * Re-applies the log after `from` on top of the current rows of the live tables. It deletes
 * nothing first: rows written from records at or before `from` stay as they are, and each
 * record after it is applied under the usual rules (newer wins, tombstones final), so records
 * already applied change nothing and a replay is idempotent. Use it after fixing a projection
 * bug that affected rows from `from` on; use rebuild to recompute tables from scratch.
 *
 * It runs under its own checkpoint and stops at the head it saw when it started; records after
 * that are the live projector's. Safe next to a running projector: both apply the same rules.
 */
export async function replay(db: Db, options: ReplayOptions): Promise<{ records: number; position: number; head: number }> {
  const checkpoint = `replay:${randomBytes(4).toString('hex')}`;
  const [row] = await execRows<{ head: string | number | null }>(db, sql`select max(position) as head from event_log`);
  const head = Number(row?.head ?? 0);
  await db.execute(sql`insert into consumer_checkpoints (name, position) values (${checkpoint}, ${options.from})`);
  let records = 0;
  let position = options.from;
  try {
    while (position < head) {
      const outcome = await projectNextBatch(db, {
        checkpoint,
        limit: options.limit ?? 5000,
        ...(options.schema && { schema: options.schema }),
        ...(options.kinds && { kinds: options.kinds }),
      });
      records += outcome.records;
      position = outcome.to;
      options.onProgress?.({ position, head, records });
      if (outcome.caughtUp) break;
    }
  } finally {
    await db.execute(sql`delete from consumer_checkpoints where name = ${checkpoint}`);
  }
  // Where the replay got to: never past the log's end (a `from` beyond it replays nothing).
  return { records, position: Math.min(position, head), head };
}
