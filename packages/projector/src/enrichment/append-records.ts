import { execPreparedSql, type Executor } from '@mirror/db';
import type { Kind } from '@mirror/catalog';
import { sql } from 'drizzle-orm';
import { entityUpdatedAtSql } from '../projection/entity-updated-at.ts';
import { eraseOnAppend, requireNoErasedSubjects } from '../personal-data/erase-on-append.ts';

/** Entity kinds that have snapshot and tombstone records (docs/decisions/0002): every catalogue kind. */
export type RecordEntityKind = Kind;

/**
 * Why an entity is gone: a `*.deleted` webhook, a 404 when it was re-fetched, or (the app's
 * subscription) an uninstall Ecwid confirmed.
 */
export type TombstoneReason = 'deleted' | 'not_found' | 'uninstalled';

/** A snapshot or tombstone record, as 0002 defines its columns. */
export type ProjectorRecord = {
  kind: 'snapshot' | 'tombstone';
  storeId: number;
  entityKind: RecordEntityKind;
  entityId: string;
  /** Snapshot: the REST document as fetched. Tombstone: `{ reason, eventType?, internalId? }`. */
  payload: unknown;
  /** Positions of the webhook records this record answers; empty for backfill. */
  causedBy: readonly number[];
  /** When the document was fetched (tombstones: when the deletion was learned). */
  fetchedAt: Date;
  /**
   * Why the record is worth a look: `unconfirmed_delete` (a `*.deleted` webhook, but Ecwid still
   * serves the entity: this snapshot answers it), `unconfirmed_uninstall` (an
   * `application.uninstalled`, but Ecwid still honours the token).
   */
  note?: RecordNote;
};

export type RecordNote = 'unconfirmed_delete' | 'unconfirmed_uninstall';

/**
 * An order's tombstone ends its invoices too (they are listed per order, and an order that is
 * gone has none): an invoice tombstone keyed by the order's public id follows each order
 * tombstone that names one. Its caused_by is empty: it answers no webhook of its own.
 */
function withInvoiceTombstones(records: readonly ProjectorRecord[]): readonly ProjectorRecord[] {
  if (!records.some((r) => r.kind === 'tombstone' && r.entityKind === 'order')) return records;
  return records.flatMap((r) =>
    r.kind === 'tombstone' && r.entityKind === 'order' && !r.entityId.startsWith('internal:')
      ? [r, { ...r, entityKind: 'invoice' as const, payload: { reason: 'deleted', order: 'deleted' }, causedBy: [] }]
      : [r],
  );
}

/**
 * Appends snapshot and tombstone records in one statement and returns their positions in input
 * order. Takes a transaction so the caller moves its checkpoint in the same commit.
 */
export async function appendRecords(tx: Executor, given: readonly ProjectorRecord[]): Promise<number[]> {
  if (given.length === 0) return [];
  // Documents of subjects whose personal data was erased are erased before they are appended.
  return insertRecords(tx, await eraseOnAppend(tx, withInvoiceTombstones(given)));
}

/**
 * appendRecords for a transaction that sends its statements together (enrichment's commit, on
 * the path of every webhook to its row): the insert, then the check for erased subjects, without
 * waiting in between. The check runs after the insert took the log's append lock, as
 * eraseOnAppend's does, so no erasure can commit between the two unseen; it looks only for
 * erased subjects in the records' stores. When there are any, nothing may be committed: the
 * check fails in SQL (erasedSubjectsFound), so the transaction cannot commit, and the caller
 * appends again with appendRecords, which erases what it must. Both statements are prepared, so
 * they pipeline behind the caller's, and the caller's COMMIT can follow them (pipelineCommit).
 */
export async function appendRecordsPipelined(tx: Executor, given: readonly ProjectorRecord[]): Promise<number[]> {
  if (given.length === 0) return [];
  const records = withInvoiceTombstones(given);
  const [positions, checked] = await Promise.allSettled([insertRecords(tx, records), requireNoErasedSubjects(tx, records)]);
  // The first failure is the cause: statements after it fail only because the transaction did.
  if (positions.status === 'rejected') throw positions.reason;
  if (checked.status === 'rejected') throw checked.reason;
  return positions.value;
}

async function insertRecords(tx: Executor, records: readonly ProjectorRecord[]): Promise<number[]> {
  // One JSON parameter: a fixed statement text whatever the batch size, on both drivers (and so
  // prepared once per connection). The payload travels as text so Postgres parses it into jsonb
  // itself, keeping every digit.
  const param = JSON.stringify(
    records.map((r, index) => ({
      ord: index,
      kind: r.kind,
      store_id: r.storeId,
      entity_kind: r.entityKind,
      entity_id: r.entityId,
      payload: JSON.stringify(r.payload),
      caused_by: `{${r.causedBy.join(',')}}`,
      fetched_at: r.fetchedAt.toISOString(),
      note: r.note ?? null,
    })),
  );
  const rows = await execPreparedSql<{ position: string | number }>(
    tx,
    // entity_updated_at: the snapshot's update time as projection reads it (newer wins), so a
    // rebuild can find superseded snapshots without reading their documents.
    sql`insert into event_log
          (kind, store_id, event_id, event_type, entity_kind, entity_id, is_known_type,
           event_created_at, payload, caused_by, fetched_at, entity_updated_at, note)
        select rec.kind, rec.store_id, null, rec.entity_kind, rec.entity_kind, rec.entity_id, true,
               null, d.doc, rec.caused_by::bigint[], rec.fetched_at::timestamptz,
               case when rec.kind = 'snapshot' then ${sql.raw(entityUpdatedAtSql('rec.entity_kind', 'd.doc'))} end, rec.note
        from json_to_recordset(${param}::json) as rec(
          ord int, kind text, store_id bigint, entity_kind text, entity_id text, payload text,
          caused_by text, fetched_at text, note text)
        cross join lateral (select rec.payload::jsonb as doc offset 0) d
        order by rec.ord
        returning position`,
  );
  // Identity values are drawn in the order rows are produced, i.e. input order.
  return rows.map((row) => Number(row.position)).sort((a, b) => a - b);
}
