import { is, SQL, sql } from 'drizzle-orm';
import { PgColumn, PgDialect, PgTimestamp, type AnyPgColumn, type PgTable } from 'drizzle-orm/pg-core';

/**
 * A selected field as Postgres should print it inside row_to_json for get-by-id and the lists, in
 * the format the rest of the API prints rows in through toJson (row-json.ts): times
 * as Date#toISOString prints them (UTC, milliseconds, truncated as a JS Date truncates
 * Postgres' microseconds), numerics as decimal strings, jsonb as its own JSON, and integers,
 * booleans and text as JSON values. Any other column type is refused when the route is built,
 * so a new column type is a decision, not a silent change of format.
 */
export function jsonField(key: string, field: AnyPgColumn | SQL): SQL {
  if (is(field, SQL)) return field;
  if (is(field, PgTimestamp)) {
    if (!field.withTimezone) throw new Error(`${key}: timestamps without time zone have no JSON printing here`);
    return sql`to_char(${field} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  }
  if (is(field, PgColumn)) {
    switch (field.columnType) {
      case 'PgNumeric':
        return sql`${field}::text`;
      case 'PgBigInt53':
      case 'PgInteger':
      case 'PgBoolean':
      case 'PgText':
      case 'PgJsonb':
        return sql`${field}`;
    }
    throw new Error(`${key}: no JSON printing for ${field.columnType} columns`);
  }
  throw new Error(`${key}: not a column or SQL expression`);
}

/**
 * `select <id>::text as id, row_to_json(x)::text as json from (select <fields> from <table>
 * where …) x`: each row printed as one JSON text by Postgres, keys in the selection's order.
 */
export function jsonRowsQuery(options: {
  table: PgTable;
  /** Printed keys and their fields (JSON-typed SQL for expansions), in response order. */
  fields: Record<string, AnyPgColumn | SQL>;
  /** The key of the field that identifies a row (also printed). */
  idKey: string;
  where: SQL;
}): SQL {
  const { fields, idKey } = options;
  if (!(idKey in fields)) throw new Error(`${idKey}: the id field is not selected`);
  return sql`select x.${sql.identifier(idKey)}::text as id, row_to_json(x)::text as json
    from (select ${fieldList(fields)} from ${options.table} where ${options.where}) x`;
}

/**
 * One row printed as JSON text by Postgres, as a column of a query over the fields' table (the
 * list routes select it beside the key and sort value their cursors need, which are not printed):
 * the same JSON jsonRowsQuery prints for the row.
 */
export function rowJson(fields: Record<string, AnyPgColumn | SQL>): SQL<string> {
  return sql<string>`(select row_to_json(r) from (select ${fieldList(fields)}) r)::text`;
}

function fieldList(fields: Record<string, AnyPgColumn | SQL>): SQL {
  return sql.join(
    Object.entries(fields).map(([key, field]) => sql`${jsonField(key, field)} as ${sql.identifier(key)}`),
    sql`, `,
  );
}

/**
 * A SQL fragment without parameters rendered to its text once, for one that is part of every
 * request's statement: drizzle walks a fragment's tree each time it builds a query, and walking
 * a row printer's (every field, the child subqueries) was a fifth of a list request's time in
 * the API process.
 */
export function renderedOnce<T>(fragment: SQL<T>): SQL<T> {
  const { sql: text, params } = new PgDialect().sqlToQuery(fragment);
  if (params.length > 0) throw new Error(`a fragment rendered once cannot have parameters: ${text}`);
  return sql.raw(text) as SQL<T>;
}
