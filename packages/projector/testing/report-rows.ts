import { sql } from 'drizzle-orm';
import { execRows, type Db } from '@mirror/db';

/**
 * A query's rows as a report's known answers are written: numbers as numbers (numeric arrives as
 * text on postgres.js), times as ISO strings; a coupon code stays text even when it is digits.
 */
export async function reportRows(db: Db, query: string): Promise<Record<string, unknown>[]> {
  const rows = await execRows<Record<string, unknown>>(db, sql.raw(query));
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [
        k,
        typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) && k !== 'coupon_code' ? Number(v) : v instanceof Date ? v.toISOString() : v,
      ]),
    ),
  );
}
