import { bigint, jsonb, timestamp } from 'drizzle-orm/pg-core';

export const tz = (name: string) => timestamp(name, { withTimezone: true });
export const int8 = (name: string) => bigint(name, { mode: 'number' });

/**
 * Columns every projected row carries: the REST document as fetched, its soft-delete mark, the
 * log record that produced it, and when that document was fetched from Ecwid (so a rebuild
 * reproduces `synced_at` exactly: it is a fact in the log, not the time of projection).
 */
export const projectedColumns = () => ({
  doc: jsonb('doc').$type<Record<string, unknown>>().notNull(),
  deletedAt: tz('deleted_at'),
  sourcePosition: int8('source_position').notNull(),
  syncedAt: tz('synced_at').notNull(),
});
