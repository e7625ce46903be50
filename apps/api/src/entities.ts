import { z } from '@hono/zod-openapi';
import {
  childArrays,
  childOmitted,
  entityCatalog,
  parentKeyOf,
  kindName,
  kinds,
  type ChildDecl,
  type CollectionApi,
  type EntityTable,
  type FilterDecl,
  type Kind,
} from '@mirror/catalog';
import { eq, exists, getTableName, inArray, isNotNull, isNull, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { booleanParam, decimalParam, numericId, statusListParam, statusSetParam, textId, timeParam, timeToParam } from './query-params.ts';
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
 * Child rows printed with their parent (`items`, `refunds`): their zod shape, and the JSON
 * expressions the catalogue's printer gives them (a correlated subquery per row; row-printer.ts).
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
  historyScope?: string;
};

const internal = ['storeId', 'doc'] as const;

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

const timeDoc = (what: string, day: string) =>
  `${what}: an ISO 8601 date (${day}) or date-time (UTC unless it has an offset), a real calendar date and time ` +
  `in years 0001–9999, compared to the microsecond (inclusive)`;

/** A declared filter as a zod schema (the parameter's check) and the SQL it adds. */
function filterOf(decl: FilterDecl, table: EntityTable, parentKey: AnyPgColumn): Filter {
  switch (decl.type) {
    case 'in':
      return {
        schema: decl.values ? statusSetParam(decl.values) : statusListParam,
        where: (v: string[]) => (v.length === 1 ? eq(decl.column, v[0]) : inArray(decl.column, v)),
        description: decl.values ? `${decl.description}, of: ${decl.values.join(', ')}` : decl.description,
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
      if (decl.zeroIsNone)
        return {
          schema: numericId,
          // Null rows match 0, so no `column`: a sort by it keeps its nulls.
          where: (v: number) => sql`${decl.column} is not distinct from nullif(${v}, 0)`,
          description: `${decl.description} (decimal digits)`,
          valueType: decl.column.getSQLType(),
        };
      return {
        schema: numericId,
        where: (v: number) => eq(decl.column, v),
        description: `${decl.description} (decimal digits)`,
        ...compares(decl.column),
      };
    // The value in the SQL text (`= true`, `= false`), not bound: two statements, and a partial
    // index on the rare side (orders' `where hidden`) is one the planner can prove it may use.
    case 'bool':
      return {
        schema: booleanParam,
        where: (v: boolean) =>
          decl.absentIsFalse && !v ? sql`${decl.column} is not true` : sql`${decl.column} = ${sql.raw(v ? 'true' : 'false')}`,
        description: decl.description,
        byValue: true,
        // A flag's false matches its nulls: no `column`, so a sort by it keeps them.
        ...(decl.absentIsFalse ? { valueType: decl.column.getSQLType() } : compares(decl.column)),
      };
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
        description: timeDoc(decl.description, 'from its midnight UTC'),
        valueType: 'text',
        column: decl.column,
      };
    case 'to':
      return {
        schema: timeToParam,
        where: (v: string) => sql`${decl.column} <= ${v}::timestamptz`,
        description: timeDoc(decl.description, 'all of that day, UTC'),
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
function expansionOf(kind: Kind, parentKey: AnyPgColumn, children: readonly ChildDecl[]): Expansion | undefined {
  if (children.length === 0) return undefined;
  const shape: Record<string, z.ZodType> = {};
  for (const child of children) {
    shape[child.as] = child.value ? z.array(z.number().int()) : z.array(z.object(rowSchema(child.table, childOmitted(child, parentKey))));
  }
  return { shape, columns: childArrays(kind) };
}

function entityDef(kind: Kind, api: CollectionApi): EntityDef {
  const decl = entityCatalog[kind];
  const table = decl.table;
  // A set's rows are keyed by the set's key and the row's own (invoices: order and invoice id).
  const parentKey = parentKeyOf(kind);
  const expand = expansionOf(kind, parentKey, decl.children);
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
    ...(api.historyScope && { historyScope: api.historyScope }),
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
