import { getTableColumns, getTableName, is, SQL, sql } from 'drizzle-orm';
import { PgColumn, PgTimestamp, type AnyPgColumn, type PgTable } from 'drizzle-orm/pg-core';
import { entityCatalog, type ChildDecl, type Kind, type KindDecl } from './entity-catalog.ts';

/*
 * How the query API prints an entity's row as JSON, in Postgres. One definition for the two
 * places that print: the API's statements (get-by-id, lists) and the stored list renderings the
 * projection writes (list-rendering.ts, decision 0022), so a stored row cannot drift from one
 * printed on request.
 */

/**
 * A selected field as Postgres should print it inside row_to_json, in the format the rest of
 * the API prints rows in (apps/api/src/row-json.ts): times as Date#toISOString prints them (UTC,
 * milliseconds, truncated as a JS Date truncates Postgres' microseconds), numerics as decimal
 * strings, jsonb as its own JSON, and integers, booleans and text as JSON values. Any other
 * column type is refused when the statement is built, so a new column type is a decision, not
 * a silent change of format.
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
 * One row printed as JSON text by Postgres, as a column of a query over the fields' table: keys in
 * the fields' order.
 */
export function rowJson(fields: Record<string, AnyPgColumn | SQL>): SQL<string> {
  return sql<string>`(select row_to_json(r) from (select ${fieldList(fields)}) r)::text`;
}

export function fieldList(fields: Record<string, AnyPgColumn | SQL>): SQL {
  return sql.join(
    Object.entries(fields).map(([key, field]) => sql`${jsonField(key, field)} as ${sql.identifier(key)}`),
    sql`, `,
  );
}

/** Columns a child row is never printed with: its store and parent are the parent's. */
const childBookkeeping = ['storeId', 'doc', 'deletedAt', 'sourcePosition', 'syncedAt'];

/** The keys of a child table's columns that its printed rows leave out (bookkeeping, the parent key). */
export function childOmitted(child: ChildDecl, parentKey: AnyPgColumn): string[] {
  return [
    ...childBookkeeping,
    ...Object.entries(getTableColumns(child.table))
      .filter(([, c]) => c.name === parentKey.name)
      .map(([k]) => k),
  ];
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * A kind's child rows, each an array printed beside the parent's columns (`items`, `refunds`): a
 * correlated subquery per parent row (json_agg over the child table's primary key, which starts
 * with store_id and the parent's id), so a page of 100 orders and all their items is one query,
 * not 101. Numerics are cast to text inside the JSON so money keeps its exact decimal form. The
 * children are ordered in a subquery, not inside json_agg: the primary key index then gives the
 * order and Postgres skips a sort per parent row. Each child is printed by json_agg of a record
 * (row_to_json): keys from the column aliases, without json_build_object's per-call argument
 * type lookups. The parent is named by its table name: drizzle prints a single-table select's
 * columns unqualified, which would bind to the child. `schema` qualifies the child tables (a
 * rebuild's shadow); without it they are found on the search path, as the API's are.
 */
export function childArrays(kind: Kind, schema?: string): Record<string, SQL> {
  const decl: KindDecl = entityCatalog[kind];
  const parentKey = parentKeyOf(kind);
  const columns: Record<string, SQL> = {};
  const parent = q(getTableName(decl.table));
  const key = q(parentKey.name);
  for (const child of decl.children) {
    const name = `${schema ? `${q(schema)}.` : ''}${q(getTableName(child.table))}`;
    const join = `from ${name} c where c.store_id = ${parent}.store_id and c.${key} = ${parent}.${key} order by c.${q(child.itemKey.name)}`;
    if (child.value) {
      columns[child.as] = sql.raw(
        `(select coalesce(json_agg(c.${q(child.value.name)}), '[]'::json) from (select c.${q(child.value.name)} ${join}) c)`,
      );
      continue;
    }
    const omit = childOmitted(child, parentKey);
    const printed = Object.entries(getTableColumns(child.table))
      .filter(([k]) => !omit.includes(k))
      .map(([k, c]) => `c.${q(c.name)}${c.columnType === 'PgNumeric' ? '::text' : ''} as ${q(k)}`);
    columns[child.as] = sql.raw(`(select coalesce(json_agg(c), '[]'::json) from (select ${printed.join(', ')} ${join}) c)`);
  }
  return columns;
}

/** The column that ties a kind's child rows to their parent (a set's rows: the row's own id). */
export function parentKeyOf(kind: Kind): AnyPgColumn {
  const decl: KindDecl = entityCatalog[kind];
  if (decl.key !== 'store') return decl.key;
  const api = decl.api;
  if (api?.shape !== 'collection') throw new Error(`${kind}: keyed by store and not a collection`);
  return api.idColumn;
}

/** Columns never printed: the store is in the URL. */
export const internalKeys: ReadonlySet<string> = new Set(['storeId']);

/**
 * The keys a kind's row is printed with, in order: the table's columns (but the store, and `doc`
 * unless asked for), then its child arrays.
 */
export function printedFields(kind: Kind, { doc, schema }: { doc: boolean; schema?: string }): Record<string, AnyPgColumn | SQL> {
  const table: PgTable = entityCatalog[kind].table;
  const columns = Object.entries(getTableColumns(table) as Record<string, AnyPgColumn>);
  return {
    ...Object.fromEntries(columns.filter(([key]) => !internalKeys.has(key) && (doc || key !== 'doc'))),
    ...childArrays(kind, schema),
  };
}
