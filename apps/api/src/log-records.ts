import { z } from '@hono/zod-openapi';
import { eventLogTable, readLog, waitForDurableLog, type Db, type EventLogRow } from '@mirror/db';
import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import { badCursor, type CursorCodec } from './cursor.ts';
import { toJson } from './row-json.ts';

export const logRecordSchema = z
  .object({
    position: z.number().int(),
    kind: z.enum(['webhook', 'snapshot', 'tombstone']),
    eventType: z.string(),
    entityKind: z.string().nullable(),
    entityId: z.string().nullable(),
    eventId: z.string().nullable(),
    isKnownType: z.boolean(),
    eventCreatedAt: z.string().nullable().openapi({ format: 'date-time' }),
    receivedAt: z.string().openapi({ format: 'date-time' }),
    fetchedAt: z.string().nullable().openapi({ format: 'date-time' }),
    causedBy: z.array(z.number().int()).nullable(),
    payload: z.unknown().openapi({ description: 'webhook body, REST document, or tombstone reason, exactly as logged' }),
    note: z.enum(['unconfirmed_delete', 'unconfirmed_uninstall']).nullable().openapi({
      description:
        'a claim of a webhook that Ecwid contradicted: unconfirmed_delete (a *.deleted webhook, but Ecwid still serves the entity: this snapshot answers it), unconfirmed_uninstall (an application.uninstalled, but Ecwid still honours the token)',
    }),
  })
  .openapi('LogRecord');

export function printRecord(row: EventLogRow): Record<string, unknown> {
  const { storeId: _, ...rest } = row;
  return toJson(rest);
}

/**
 * An entity's log records, newest first: those keyed by any of its ids, plus the webhooks its
 * snapshots name in `caused_by` (webhooks about carts and invoices carry another id than the
 * snapshot). Served by event_log_entity_idx (store_id, entity_kind, entity_id, position).
 */
export async function readEntityHistory(
  db: Db,
  codec: CursorCodec,
  input: { storeId: number; kind: string; entityIds: string[]; limit: number; cursor: string | undefined; list: string },
): Promise<{ rows: EventLogRow[]; nextCursor: string | null }> {
  const t = eventLogTable;
  let before: number | undefined;
  if (input.cursor) {
    const state = codec.decode(input.cursor, { storeId: input.storeId, list: input.list, sort: '-position' });
    const [position] = state.key;
    if (typeof position !== 'number' || !Number.isSafeInteger(position)) throw badCursor('it does not fit this list');
    before = position;
  }
  const mine = and(eq(t.storeId, input.storeId), eq(t.entityKind, input.kind), inArray(t.entityId, input.entityIds));
  const positions = sql`(select ${t.position} from ${t} where ${mine}
    union select unnest(${t.causedBy}) from ${t} where ${mine})`;
  const rows = await db
    .select()
    .from(t)
    .where(and(eq(t.storeId, input.storeId), sql`${t.position} in ${positions}`, before === undefined ? undefined : lt(t.position, before)))
    .orderBy(desc(t.position))
    .limit(input.limit + 1);
  const hasMore = rows.length > input.limit;
  if (hasMore) rows.length = input.limit;
  if (rows.some((r) => r.kind === 'webhook')) await waitForDurableLog(db);
  const last = rows.at(-1);
  return {
    rows,
    nextCursor:
      hasMore && last
        ? codec.encode({ storeId: input.storeId, list: input.list, sort: '-position', value: null, key: [last.position] })
        : null,
  };
}

/**
 * The store's change feed in log order. Positions are handed out in commit order, so a reader
 * that resumes from the last position it saw never misses a record committed later.
 */
export async function readStoreEvents(db: Db, input: { storeId: number; after: number; limit: number }) {
  const rows = await readLog(db, { storeId: input.storeId, after: input.after, limit: input.limit });
  // A position shown to a client must not be one a crash could take back and hand out again.
  // Ingest's groups are durable before they are visible (decision 0019), but a webhook written
  // without waiting for the disk (commitWebhooks; an ingest older than 0019 during a rolling
  // deploy) is visible a moment before: so a page holding webhooks still waits for the flush.
  if (rows.some((r) => r.kind === 'webhook')) await waitForDurableLog(db);
  return { rows, nextAfter: rows.at(-1)?.position ?? input.after };
}
