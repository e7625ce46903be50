import { z } from '@hono/zod-openapi';
import {
  entityCatalog,
  kindName,
  kinds,
  type ChildDecl,
  type CollectionApi,
  type EntityTable,
  type FilterDecl,
  type Kind,
} from '@mirror/catalog';
import { eq, exists, getTableColumns, getTableName, inArray, isNotNull, isNull, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { booleanParam, decimalParam, numericId, statusListParam, textId, timeParam } from './query-params.ts';
import { rowSchema } from './row-json.ts';

/** A query parameter that narrows a list, and the SQL it becomes. */
export type Filter = {
  schema: z.ZodType;
  /** The condition for a value; given a placeholder (or placeholders, for a list) unless `byValue`. */
  where: (value: never) => SQL | undefined;
  description: string;
  /** The condition's SQL depends on the value itself (not only binds it): it must see the value. */
  byValue?: boolean;
  /** The SQL type a bound value is given, hidden from the planner behind a sub-select (keyset.ts hidden()). */
  valueType?: string;
  /** The column compared with the value: rows where it is null never match. */
  column?: AnyPgColumn;
};

/**
 * Child rows selected with their parent in the same statement: a correlated subquery per row
 * (json_agg over the child table's primary key, which starts with store_id and the parent's id),
 * so a page of 100 orders and all their items is one query, not 101. Numerics are cast to text
 * inside the JSON so money keeps its exact decimal form. The children are ordered in a subquery,
 * not inside json_agg: the primary key index then gives the order and Postgres skips a sort per
 * parent row. Each child is printed by json_agg of a record (row_to_json): keys from the column
 * aliases, without json_build_object's per-call argument type lookups. Lists and get-by-id nest it
 * in the row's JSON, which Postgres prints (json-rows.ts). The parent is named by its table name:
 * drizzle prints a single-table select's columns unqualified, which would bind to the child.
 */
export type Expansion = {
  shape: Record<string, z.ZodType>;
  /** json-typed expressions, keyed by the field they print as. */
  columns: Record<string, SQL>;
};

export type { EntityTable };

/** One URL collection (`/v1/stores/{storeId}/orders`) over one entity table, derived from the catalogue. */
export type EntityDef = {
  /** The kind's public name. */
  path: string;
  /** Component name in the OpenAPI document. */
  name: string;
  /** `entity_kind` of its log records (docs/decisions/0002). */
  kind: Kind;
  /** The kind as a person says it: "discount coupon". */
  noun: string;
  table: EntityTable;
  /** Path parameter of the get-by-id route, named as the field (`orderId`). */
  idParam: string;
  idColumn: AnyPgColumn;
  idSchema: z.ZodType;
  /** Primary key after store_id: the tie-breaker of every sort, and the cursor's key. */
  key: AnyPgColumn[];
  /** Allowed sorts: field name to column; `null` sorts by the key. */
  sorts: Record<string, AnyPgColumn | null>;
  defaultSort: string;
  filters: Record<string, Filter>;
  expand?: Expansion;
  /** The `entity_id`s its log records carry; by default the id in the URL. */
  historyIds?: (row: Record<string, unknown>, storeId: number) => string[];
};

const internal = ['storeId', 'doc'] as const;
/** Columns a child row is never printed with: its store and parent are the parent's. */
const childBookkeeping = ['storeId', 'doc', 'deletedAt', 'sourcePosition', 'syncedAt'];

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

const timeDoc = (what: string) =>
  `${what}: an ISO 8601 date (its midnight UTC) or date-time (UTC unless it has an offset), a real calendar date and time ` +
  `in years 0001–9999, compared to the microsecond (inclusive)`;

/** A declared filter as a zod schema (the parameter's check) and the SQL it adds. */
function filterOf(decl: FilterDecl, table: EntityTable, parentKey: AnyPgColumn): Filter {
  switch (decl.type) {
    case 'in':
      return {
        schema: statusListParam,
        where: (v: string[]) => (v.length === 1 ? eq(decl.column, v[0]) : inArray(decl.column, v)),
        description: decl.description,
        ...compares(decl.column),
      };
    case 'text':
      return {
        schema: textId,
        where: (v: string) => eq(decl.column, v),
        description: `${decl.description} (exact, 1–200 characters)`,
        ...compares(decl.column),
      };
    case 'id':
      return {
        schema: numericId,
        where: (v: number) => eq(decl.column, v),
        description: `${decl.description} (decimal digits)`,
        ...compares(decl.column),
      };
    case 'bool':
      return { schema: booleanParam, where: (v: boolean) => eq(decl.column, v), description: decl.description, ...compares(decl.column) };
    case 'present':
      return {
        schema: booleanParam,
        where: (v: boolean) => (v ? isNotNull(decl.column) : isNull(decl.column)),
        description: decl.description,
        byValue: true,
      };
    case 'int':
      return {
        schema: decimalParam(decl.min, decl.max),
        where: (v: number) => eq(decl.column, v),
        description: `${decl.description} (decimal digits)`,
        ...compares(decl.column),
      };
    // The time as parseTime printed it (UTC, microseconds), cast by Postgres: exact, where a JS
    // Date would cut it to milliseconds.
    case 'from':
      return {
        schema: timeParam,
        where: (v: string) => sql`${decl.column} >= ${v}::timestamptz`,
        description: timeDoc(decl.description),
        valueType: 'text',
        column: decl.column,
      };
    case 'to':
      return {
        schema: timeParam,
        where: (v: string) => sql`${decl.column} <= ${v}::timestamptz`,
        description: timeDoc(decl.description),
        valueType: 'text',
        column: decl.column,
      };
    case 'child': {
      const parent = q(getTableName(table));
      const child = q(getTableName(decl.table));
      const key = q(parentKey.name);
      return {
        schema: numericId,
        description: `${decl.description} (decimal digits)`,
        valueType: decl.column.getSQLType(),
        where: (v: number) =>
          exists(
            sql`(select 1 from ${sql.raw(child)} c where c.store_id = ${sql.raw(parent)}.store_id and c.${sql.raw(key)} = ${sql.raw(parent)}.${sql.raw(key)} and c.${sql.raw(q(decl.column.name))} = ${v})`,
          ),
      };
    }
  }
}

/** A filter comparing `column` with its value, bound as the column's type. */
function compares(column: AnyPgColumn): Pick<Filter, 'valueType' | 'column'> {
  return { valueType: column.getSQLType(), column };
}

/** The nested child rows of a kind's rows, from the catalogue's child tables. */
function expansionOf(table: EntityTable, parentKey: AnyPgColumn, children: readonly ChildDecl[]): Expansion | undefined {
  if (children.length === 0) return undefined;
  const shape: Record<string, z.ZodType> = {};
  const columns: Record<string, SQL> = {};
  const parent = q(getTableName(table));
  const key = q(parentKey.name);
  for (const child of children) {
    const name = q(getTableName(child.table));
    const join = `from ${name} c where c.store_id = ${parent}.store_id and c.${key} = ${parent}.${key} order by c.${q(child.itemKey.name)}`;
    if (child.value) {
      shape[child.as] = z.array(z.number().int());
      columns[child.as] = sql.raw(
        `(select coalesce(json_agg(c.${q(child.value.name)}), '[]'::json) from (select c.${q(child.value.name)} ${join}) c)`,
      );
      continue;
    }
    const omit = [
      ...childBookkeeping,
      ...Object.entries(getTableColumns(child.table))
        .filter(([, c]) => c.name === parentKey.name)
        .map(([k]) => k),
    ];
    shape[child.as] = z.array(z.object(rowSchema(child.table, omit)));
    const printed = Object.entries(getTableColumns(child.table))
      .filter(([k]) => !omit.includes(k))
      .map(([k, c]) => `c.${q(c.name)}${c.columnType === 'PgNumeric' ? '::text' : ''} as ${q(k)}`);
    columns[child.as] = sql.raw(`(select coalesce(json_agg(c), '[]'::json) from (select ${printed.join(', ')} ${join}) c)`);
  }
  return { shape, columns };
}

function entityDef(kind: Kind, api: CollectionApi): EntityDef {
  const decl = entityCatalog[kind];
  const table = decl.table;
  // A set's rows are keyed by the set's key and the row's own (invoices: order and invoice id).
  const parentKey = decl.key === 'store' ? api.idColumn : decl.key;
  const expand = expansionOf(table, parentKey, decl.children);
  return {
    path: kindName(kind),
    name: api.component,
    kind,
    noun: decl.noun,
    table,
    idParam: api.idParam,
    idColumn: api.idColumn,
    idSchema: api.idColumn.getSQLType() === 'bigint' ? numericId : textId,
    key: [...api.listKey],
    sorts: { ...api.sorts },
    defaultSort: api.defaultSort,
    filters: Object.fromEntries(Object.entries(api.filters).map(([name, f]) => [name, filterOf(f, table, parentKey)])),
    ...(expand && { expand }),
    ...(api.historyIds && { historyIds: api.historyIds }),
  };
}

/** Every collection under /v1/stores/{storeId}, in catalogue order. */
export const entities: EntityDef[] = kinds.flatMap((kind) => {
  const api: CollectionApi | { shape: string } | null = entityCatalog[kind].api;
  return api?.shape === 'collection' ? [entityDef(kind, api as CollectionApi)] : [];
});

/** The schema of one entity's rows, as lists and get-by-id print them. */
export function entitySchema(def: EntityDef) {
  return z.object({
    ...rowSchema(def.table, internal),
    ...def.expand?.shape,
    doc: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: "Ecwid's full document as fetched; in lists only with includeDoc=true" }),
  });
}

/** Columns never printed: the store is in the URL. */
export const internalKeys: ReadonlySet<string> = new Set(['storeId']);
