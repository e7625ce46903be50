import { z } from '@hono/zod-openapi';
import { abandonedCartItemsTable, orderItemsTable } from '@mirror/db';
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

/** The JSON columns that hold a list (a line's selected options), not a document. */
const jsonArrayColumns: ReadonlySet<Column> = new Set([orderItemsTable.options, abandonedCartItemsTable.options]);

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
      return jsonArrayColumns.has(column)
        ? z.array(z.unknown()).openapi({ description: 'as Ecwid gives it in the line (a list; empty when none)' })
        : z.record(z.string(), z.unknown()).openapi({ description: "Ecwid's document exactly as fetched" });
    case 'PgInteger':
    case 'PgSerial':
    case 'PgBigInt53':
      return z.number().int();
    default:
      return z.string();
  }
}
