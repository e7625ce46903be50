import { z } from '@hono/zod-openapi';
import { getTableColumns, type Column } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

/** A row as the API prints it: times as ISO 8601 strings, everything else as the driver gave it. */
export function toJson(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in row) {
    const value = row[key];
    out[key] = value instanceof Date ? value.toISOString() : value;
  }
  return out;
}

const keyPrefixes = new Map<string, string>();

/**
 * A row as JSON text, printed as toJson would print it (same keys in the same order), except that
 * the values of `jsonKeys` are already JSON text (a `jsonb::text` or json_agg column) and are
 * spliced in unparsed: a document is not parsed into objects only to be stringified again.
 */
export function rowJsonText(row: Record<string, unknown>, jsonKeys: ReadonlySet<string>, omit: ReadonlySet<string>): string {
  let out = '{';
  for (const key in row) {
    if (omit.has(key)) continue;
    const value = row[key];
    if (value === undefined) continue;
    let prefix = keyPrefixes.get(key);
    if (prefix === undefined) {
      prefix = `${JSON.stringify(key)}:`;
      keyPrefixes.set(key, prefix);
    }
    if (out.length > 1) out += ',';
    out += prefix;
    if (value === null) out += 'null';
    else if (jsonKeys.has(key)) out += typeof value === 'string' ? value : JSON.stringify(value);
    else if (value instanceof Date) out += `"${value.toISOString()}"`;
    else out += JSON.stringify(value);
  }
  return `${out}}`;
}

/**
 * The zod schema of a table's rows as the API prints them, derived from the drizzle columns so the
 * OpenAPI document cannot drift from the schema: numeric (money) is a decimal string, times are
 * ISO 8601, ids are integers or strings as Ecwid has them.
 */
export function rowSchema(table: PgTable, omit: readonly string[] = []): Record<string, z.ZodType> {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    if (omit.includes(key)) continue;
    const base = columnSchema(column);
    shape[key] = column.notNull ? base : base.nullable();
  }
  return shape;
}

export function columnSchema(column: Column): z.ZodType {
  switch (column.columnType) {
    case 'PgNumeric':
      return z.string().openapi({ description: 'decimal, as a string to keep its precision', example: '129.99' });
    case 'PgTimestamp':
      return z.string().openapi({ format: 'date-time', example: '2024-05-01T12:00:00.000Z' });
    case 'PgBoolean':
      return z.boolean();
    case 'PgJsonb':
      return z.record(z.string(), z.unknown()).openapi({ description: "Ecwid's document exactly as fetched" });
    case 'PgInteger':
    case 'PgSerial':
    case 'PgBigInt53':
      return z.number().int();
    default:
      return z.string();
  }
}
