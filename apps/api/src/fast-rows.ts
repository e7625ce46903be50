import type { Db } from '@mirror/db';
import { Column, fillPlaceholders, is, SQL } from 'drizzle-orm';

type Decoder = { mapFromDriverValue(value: unknown): unknown };
type PostgresJs = { unsafe(text: string, params: unknown[], options: { prepare: boolean }): { values(): Promise<unknown[][]> } };

/** The postgres.js client under a drizzle Db, or undefined (PGlite, a transaction). */
export function postgresJsClient(db: Db): PostgresJs | undefined {
  const client = (db as unknown as { $client?: unknown }).$client;
  return typeof client === 'function' && 'unsafe' in client ? (client as unknown as PostgresJs) : undefined;
}

/**
 * Prints a selected row, read as an array in the selection's order (postgres.js `.values()`),
 * straight to JSON text: each value goes through its column's own decoder (as drizzle's row
 * mapping does), times print as ISO 8601, and `jsonKeys` (JSON already printed by Postgres) are
 * spliced in as they are. Same keys, order and values as toJson over drizzle's rows, without
 * drizzle's per-field type checks or the intermediate objects.
 */
export function createRowPrinter(selection: Record<string, unknown>, jsonKeys: ReadonlySet<string>, omit: ReadonlySet<string>): (values: unknown[]) => string {
  const fields = Object.entries(selection).map(([key, field]) => ({
    prefix: `${JSON.stringify(key)}:`,
    omit: omit.has(key),
    json: jsonKeys.has(key),
    decoder: decoderOf(field),
  }));
  return (values) => {
    let out = '';
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!;
      if (field.omit) continue;
      const raw = values[i];
      out += out === '' ? `{${field.prefix}` : `,${field.prefix}`;
      if (raw === null || raw === undefined) {
        out += 'null';
        continue;
      }
      if (field.json && typeof raw === 'string') {
        out += raw;
        continue;
      }
      const value = field.decoder ? field.decoder.mapFromDriverValue(raw) : raw;
      out += value instanceof Date ? `"${value.toISOString()}"` : JSON.stringify(value);
    }
    return out === '' ? '{}' : `${out}}`;
  };
}

function decoderOf(field: unknown): Decoder | undefined {
  if (is(field, Column)) return field;
  // `decoder` is drizzle-internal (set by .mapWith()); its row mapping reads it the same way.
  if (is(field, SQL)) return (field as unknown as { decoder: Decoder }).decoder;
  if (is(field, SQL.Aliased)) return (field.sql as unknown as { decoder: Decoder }).decoder;
  return undefined;
}

/** Runs a built drizzle query on postgres.js as a prepared statement and returns its rows as arrays. */
export function rawQuery(client: PostgresJs, query: { sql: string; params: unknown[] }) {
  return (values: Record<string, unknown>): Promise<unknown[][]> =>
    client.unsafe(query.sql, fillPlaceholders(query.params, values), { prepare: true }).values();
}
