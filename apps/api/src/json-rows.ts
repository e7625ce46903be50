import { fieldList } from '@mirror/catalog';
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect, type AnyPgColumn, type PgTable } from 'drizzle-orm/pg-core';

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
