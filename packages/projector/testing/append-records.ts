import { sql } from 'drizzle-orm';
import { execRows, type Db } from '@mirror/db';
import { readFixture } from '@mirror/ecwid/testing';

/*
 * Test helpers: write snapshot and tombstone records the way the enrichment stage does
 * (docs/decisions/0002-snapshots-in-the-log.md), so projection tests can read as
 * "given these records → when projected → then these rows".
 */

export type RecordInput = {
  kind?: 'snapshot' | 'tombstone';
  storeId?: number;
  entityKind: string;
  entityId: string;
  /** Snapshot: the REST document; tombstone: `{ reason, eventType?, internalId? }`. */
  payload?: unknown;
  fetchedAt?: Date;
  causedBy?: number[];
};

export const testStoreId = 1003;

/** Appends records in one statement (one commit); returns their positions in order. */
export async function appendRecords(db: Db, records: readonly RecordInput[]): Promise<number[]> {
  if (records.length === 0) return [];
  const rows = records.map((r) => ({
    kind: r.kind ?? 'snapshot',
    store_id: r.storeId ?? testStoreId,
    entity_kind: r.entityKind,
    entity_id: r.entityId,
    payload: JSON.stringify(r.payload ?? (r.kind === 'tombstone' ? { reason: 'deleted' } : {})),
    caused_by: r.causedBy ?? [],
    fetched_at: (r.fetchedAt ?? new Date('2024-09-04T08:00:00Z')).toISOString(),
  }));
  const inserted = await execRows<{ position: string | number }>(
    db,
    sql`insert into event_log (kind, store_id, event_type, entity_kind, entity_id, is_known_type, payload, caused_by, fetched_at)
        select r.kind, r.store_id, r.entity_kind, r.entity_kind, r.entity_id, true, r.payload::jsonb,
               array(select jsonb_array_elements_text(r.caused_by)::bigint), r.fetched_at
        from rows from (jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as (
          kind text, store_id bigint, entity_kind text, entity_id text, payload text, caused_by jsonb,
          fetched_at timestamptz)) with ordinality as r(kind, store_id, entity_kind, entity_id, payload, caused_by, fetched_at, ord)
        order by ord
        returning position`,
  );
  return inserted.map((r) => Number(r.position)).sort((a, b) => a - b);
}

/** Appends one snapshot record; returns its position. */
export async function appendSnapshot(db: Db, input: Omit<RecordInput, 'kind'>): Promise<number> {
  const [position] = await appendRecords(db, [{ ...input, kind: 'snapshot' }]);
  return position!;
}

/** Appends one tombstone record; returns its position. */
export async function appendTombstone(
  db: Db,
  input: Omit<RecordInput, 'kind' | 'payload'> & { reason?: 'deleted' | 'not_found'; internalId?: number },
): Promise<number> {
  const payload = { reason: input.reason ?? 'deleted', ...(input.internalId === undefined ? {} : { internalId: input.internalId }) };
  const [position] = await appendRecords(db, [{ ...input, kind: 'tombstone', payload }]);
  return position!;
}

/** An Ecwid example document from packages/ecwid/test-fixtures (a fresh copy each call). */
export function fixture<T extends object = Record<string, unknown>>(name: string): T {
  return readFixture<T>(`${name}.json`);
}
