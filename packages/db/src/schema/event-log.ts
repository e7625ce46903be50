import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Record kinds in the log:
 * - `webhook`: a webhook body exactly as Ecwid sent it (written by ingest);
 * - `snapshot`: an entity's REST document as fetched (written by the projector);
 * - `tombstone`: the entity is gone (a `*.deleted` event, or 404 on fetch).
 */
export const recordKinds = ['webhook', 'snapshot', 'tombstone'] as const;
export type RecordKind = (typeof recordKinds)[number];

/**
 * The append-only log every table is derived from. Rows are never updated or deleted (a
 * trigger enforces it), and positions are handed out in commit order (a statement trigger
 * serialises appenders; see migrations and docs/decisions/0001-commit-ordered-log.md), so a
 * reader that checkpoints on `position` can never skip a late-committing row.
 */
export const eventLogTable = pgTable(
  'event_log',
  {
    position: bigint('position', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    kind: text('kind', { enum: recordKinds }).notNull(),
    storeId: bigint('store_id', { mode: 'number' }).notNull(),
    /** Ecwid's `eventId` for webhooks (unique across the whole log); null for projector records. */
    eventId: text('event_id'),
    /** Webhooks: `eventType` verbatim. Snapshots and tombstones: the entity kind. */
    eventType: text('event_type').notNull(),
    /** Entity kind from the event catalog; null when the event type is unknown. */
    entityKind: text('entity_kind'),
    /** Ecwid sends numbers and quoted strings alike; text keeps both exactly. */
    entityId: text('entity_id'),
    isKnownType: boolean('is_known_type').notNull(),
    /** Webhooks: Ecwid's `eventCreated`. */
    eventCreatedAt: timestamp('event_created_at', { withTimezone: true }),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    payload: jsonb('payload').$type<unknown>().notNull(),
    /** Snapshots and tombstones: positions of the webhook records that caused them. */
    causedBy: bigint('caused_by', { mode: 'number' }).array(),
    /** Snapshots: when the document was fetched from Ecwid. */
    fetchedAt: timestamp('fetched_at', { withTimezone: true }),
    /**
     * Snapshots: the entity's update time as projection reads it from the document (newer
     * wins), so a rebuild can tell which snapshots are superseded without reading documents.
     * Null when the document has none, and on records appended before the column existed
     * (readers then fall back to the document).
     */
    entityUpdatedAt: timestamp('entity_updated_at', { withTimezone: true }),
    /**
     * Projector records: why the record is worth a look (null: nothing). `unconfirmed_delete`:
     * a `*.deleted` webhook asked, but Ecwid still serves the entity, so this is its snapshot;
     * `unconfirmed_uninstall`: an `application.uninstalled` asked, but Ecwid still honours the
     * store's token. Webhooks are hints; these are the hints Ecwid contradicted.
     */
    note: text('note'),
    /**
     * Set when personal-data erasure rewrote this record's payload: the one change the
     * append-only rule allows (docs/decisions/0007-erasure-rewrites-the-log.md).
     */
    erasedAt: timestamp('erased_at', { withTimezone: true }),
  },
  (t) => [
    // Ecwid's eventIds are UUIDs, unique across stores: a known eventId under another storeId is a
    // replay (the signature does not cover storeId), stored nowhere. One index serves both
    // checks: a redelivery to the same store is a duplicate of it too.
    uniqueIndex('event_log_event_uq').on(t.eventId),
    index('event_log_store_position_idx').on(t.storeId, t.position),
    index('event_log_entity_idx').on(t.storeId, t.entityKind, t.entityId, t.position),
    // An order's currency and time zone come from the store's profile snapshot before the order's
    // first one (projection's profileOf). Without this index, that look-up walked the store's
    // records back to the profile (at 10M records, half a second per order of a store without
    // one), or read every earlier profile snapshot. Partial: only profile snapshots, a few per
    // store, so appends of anything else do not maintain it.
    index('event_log_store_profiles_idx')
      .on(t.storeId, t.position)
      .where(sql`entity_kind = 'store_profile' and kind = 'snapshot'`),
    check('event_log_kind_ck', sql`${t.kind} in ('webhook', 'snapshot', 'tombstone')`),
    check('event_log_webhook_id_ck', sql`${t.kind} <> 'webhook' or ${t.eventId} is not null`),
  ],
);

export type EventLogRow = typeof eventLogTable.$inferSelect;
export type NewEventLogRow = typeof eventLogTable.$inferInsert;
