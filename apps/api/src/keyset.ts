import { AppError } from '@mirror/core';
import { and, asc, desc, getTableColumns, isNotNull, isNull, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '@mirror/db';
import { badCursor, type CursorCodec } from './cursor.ts';
import { listClient, postgresJsClient, rawQuery } from './fast-rows.ts';

export type KeysetPageOptions = {
  db: Db;
  /**
   * Names the shape of `where` (which conditions, how many placeholders): the same shape is the
   * same SQL, so its statement is built once and kept in `statements`.
   */
  shape: string;
  /** The placeholders' values in `where`. */
  values: Record<string, unknown>;
  statements: StatementCache;
  codec: CursorCodec;
  /** The store in the URL, named in its cursors with the list, so a cursor of another store is refused. */
  storeId: number;
  /** Names the list in its cursors, so a cursor of one list is refused by another. */
  list: string;
  table: PgTable;
  where: (SQL | undefined)[];
  /**
   * Columns printed (the key's columns, which the cursor needs, are added here when missing). On
   * postgres.js each is returned as the bytes Postgres sent (a Buffer, or null), unread; elsewhere
   * as the driver parsed it.
   */
  columns: Record<string, AnyPgColumn | SQL.Aliased>;
  /** Primary key after store_id: unique, so it makes every order total. */
  key: AnyPgColumn[];
  /** The sort as requested (`-createdAt`), and its column (`null`: the key itself). */
  sort: string;
  sortColumn: AnyPgColumn | null;
  limit: number;
  cursor: string | undefined;
  /**
   * A filter compares the sort column with a value, so no row with a null sort value can match:
   * the nulls segment is not queried (it would return no rows, at the cost of a statement).
   */
  sortExcludesNulls?: boolean;
};

type Segment = 'values' | 'nulls';

/**
 * One page of a keyset-paginated list. Never OFFSET: the cursor holds the last row's sort value
 * and key, and the next page starts strictly after it, so rows written between two requests
 * neither repeat nor push others off a page.
 *
 * Nullable sort columns are read in two segments, non-null values then nulls (ascending; the
 * reverse descending), matching Postgres's own NULLS LAST/FIRST defaults so both directions walk
 * the (store_id, column) index. Each segment's condition is a plain row comparison that the
 * index can seek to; an `… OR col IS NULL` condition would scan from the start on every page.
 */
export async function keysetPage(options: KeysetPageOptions): Promise<{ rows: Record<string, unknown>[]; nextCursor: string | null }> {
  const { db, codec, table, key, sortColumn, limit } = options;
  const descending = options.sort.startsWith('-');
  const nullable = sortColumn !== null && !sortColumn.notNull;
  const segments: Segment[] = !nullable ? ['values'] : descending ? ['nulls', 'values'] : ['values', 'nulls'];

  const after = options.cursor
    ? codec.decode(options.cursor, { storeId: options.storeId, list: options.list, sort: options.sort })
    : undefined;
  if (after) checkCursorTypes(after.value, after.key, sortColumn, key);
  const startSegment: Segment = after && sortColumn && after.value === null ? 'nulls' : 'values';
  let index = after ? segments.indexOf(startSegment) : 0;
  if (index < 0) throw badCursor('it does not fit this sort');

  const direction = descending ? desc : asc;
  const compare = descending ? sql.raw('<') : sql.raw('>');
  const keyNames = key.map((c) => columnKey(table, c));
  const selection = {
    ...options.columns,
    ...Object.fromEntries(key.flatMap((column, i) => (keyNames[i]! in options.columns ? [] : [[keyNames[i], column]]))),
    ...(sortColumn && { __sort: sql<string | null>`${sortColumn}::text`.as('__sort') }),
  };
  const rows: Record<string, unknown>[] = [];
  const afterValues = after ? { ...Object.fromEntries(after.key.map((k, i) => [`after.${i}`, k])), 'after.sort': after.value } : {};
  const afterKey = key.map((_, i) => sql.placeholder(`after.${i}`));

  for (; index < segments.length && rows.length <= limit; index++) {
    const segment = segments[index]!;
    if (segment === 'nulls' && options.sortExcludesNulls) continue;
    const first = after !== undefined && rows.length === 0 && segment === startSegment;
    // A page's first statement has its limit in the text (a number from 1 to 501, one statement
    // per limit in use), so Postgres can keep one generic plan for it: the values are hidden
    // behind sub-selects (hidden()), so its trial custom plans cost what the generic one does,
    // and after five calls it stops planning the statement afresh on every call (a page of 100
    // orders: 3.6 → 2.2 ms of Postgres's CPU, decision 0016). With the limit a placeholder the
    // generic plan would guess 10% of the rows, look far dearer than a custom plan, never be
    // chosen, and if forced be costly enough for JIT compilation on every call. A later
    // segment's limit (what the earlier ones left) stays a placeholder: custom plans, as before.
    const literalLimit = rows.length === 0 && Number.isSafeInteger(limit) ? limit + 1 : undefined;
    // The statement of this shape, sort, segment, start and limit, built and rendered once.
    const statementKey = `${options.list}|${options.shape}|${Object.keys(options.columns).join(',')}|${options.sort}|${segment}|${first}|${literalLimit ?? '$'}`;
    const statement = options.statements.get(statementKey, () => {
      const conditions: (SQL | undefined)[] = [...options.where];
      let order: AnyPgColumn[] = key;
      if (sortColumn && segment === 'values') {
        if (nullable) conditions.push(isNotNull(sortColumn));
        order = [sortColumn, ...key];
        if (first) conditions.push(rowCompare([sortColumn, ...key], [sql.placeholder('after.sort'), ...afterKey], compare));
      } else if (sortColumn) {
        conditions.push(isNull(sortColumn));
        if (first) conditions.push(rowCompare(key, afterKey, compare));
      } else if (first) {
        conditions.push(rowCompare(key, afterKey, compare));
      }
      const built = db
        .select(selection as never)
        .from(table)
        .where(and(...conditions))
        .orderBy(...order.map((c) => direction(c)))
        .limit((literalLimit === undefined ? sql.placeholder('limit') : sql.raw(String(literalLimit))) as never);
      // Prepared: postgres.js keeps one statement per distinct SQL text and connection, so the
      // handful of shapes a list produces are parsed once (4x cheaper than unnamed statements).
      const client = postgresJsClient(db);
      if (!client) return built.prepare('api_keyset_page') as Statement;
      // On postgres.js the rows are read raw, as arrays of the bytes Postgres sent: a page's
      // printed rows go to the response without being decoded to strings, joined and encoded
      // again, and without drizzle mapping each row (in the list run's profile, garbage
      // collection was 28% of the server's time and drizzle's row mapping 5%). A few pages are
      // read at once, the rest queue in the server in arrival order (listClient).
      const run = rawQuery(listClient(client), built.toSQL());
      const names = Object.keys(selection);
      const keyIndex = keyNames.map((k) => names.indexOf(k));
      const sortIndex = names.indexOf('__sort');
      return {
        execute: async (values) =>
          (await run(values)).map((fields) => {
            const row: Record<string, unknown> = {};
            names.forEach((name, i) => (row[name] = fields[i]));
            // The cursor's values are read: the key as the driver would parse it, the sort as text.
            keyIndex.forEach((at, i) => (row[keyNames[i]!] = keyValue(fields[at] as Buffer | null, key[i]!)));
            if (sortIndex >= 0) row['__sort'] = (fields[sortIndex] as Buffer | null)?.toString('utf8') ?? null;
            return row;
          }),
      };
    });
    const page = (await statement.execute({ ...options.values, ...afterValues, limit: limit + 1 - rows.length })) as Record<
      string,
      unknown
    >[];
    rows.push(...page);
  }

  const hasMore = rows.length > limit;
  if (hasMore) rows.length = limit;
  const last = rows.at(-1);
  const nextCursor =
    hasMore && last
      ? codec.encode({
          storeId: options.storeId,
          list: options.list,
          sort: options.sort,
          value: sortColumn ? ((last['__sort'] as string | null) ?? null) : null,
          key: keyNames.map((k) => last[k] as string | number),
        })
      : null;
  for (const row of rows) delete row['__sort'];
  return { rows, nextCursor };
}

type Statement = { execute(values: Record<string, unknown>): Promise<unknown> };

/** A key column's value from the bytes Postgres sent: integers (bigint in number mode, integer) as numbers, the rest as text. */
function keyValue(bytes: Buffer | null, column: AnyPgColumn): unknown {
  if (bytes === null) return null;
  const text = bytes.toString('utf8');
  return column.dataType === 'number' ? Number(text) : text;
}

/** Built list statements by shape; a route's lists have few shapes, and a flood of odd ones is capped. */
export type StatementCache = { get(key: string, build: () => Statement): Statement };

/** A StatementCache that forgets everything once it holds `max` statements. */
export function createStatementCache(max = 256): StatementCache {
  const statements = new Map<string, Statement>();
  return {
    get(key, build) {
      let statement = statements.get(key);
      if (!statement) {
        if (statements.size >= max) statements.clear();
        statements.set(key, (statement = build()));
      }
      return statement;
    },
  };
}

function rowCompare(columns: AnyPgColumn[], values: unknown[], op: SQL): SQL {
  const lhs = sql.join(
    columns.map((c) => sql`${c}`),
    sql`, `,
  );
  const rhs = sql.join(
    columns.map((c, i) => hidden(values[i], c.getSQLType())),
    sql`, `,
  );
  return sql`(${lhs}) ${op} (${rhs})`;
}

/**
 * `(select $n::type)`: a value the planner cannot see, so a list statement's plan does not depend
 * on it and Postgres keeps one generic plan (keysetPage). Still an index condition: the
 * sub-select is evaluated once, before the scan.
 */
export function hidden(value: unknown, sqlType: string): SQL {
  return sql`(select ${value}::${sql.raw(sqlType)})`;
}

const columnKeys = new WeakMap<PgTable, Map<AnyPgColumn, string>>();

/** The property name drizzle gives a column in selected rows (`orderId` for order_id). */
export function columnKey(table: PgTable, column: AnyPgColumn): string {
  let map = columnKeys.get(table);
  if (!map) {
    map = new Map(Object.entries(getTableColumns(table)).map(([k, c]) => [c as AnyPgColumn, k]));
    columnKeys.set(table, map);
  }
  const name = map.get(column);
  if (!name) throw new AppError('INTERNAL', `column ${column.name} is not in the table`);
  return name;
}

const valuePatterns: Record<string, RegExp> = {
  PgTimestamp: /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)?$/,
  PgNumeric: /^(-?\d{1,100}(\.\d{1,100})?|NaN)$/,
  PgInteger: /^-?\d{1,10}$/,
  PgBigInt53: /^-?\d{1,19}$/,
};

/**
 * A signed cursor is ours, but the checks stay: they keep a cursor from another deployment's
 * secret or an older version from reaching SQL as a value of the wrong type (a 500, not a 400).
 */
function checkCursorTypes(value: string | null, key: (string | number)[], sortColumn: AnyPgColumn | null, keyColumns: AnyPgColumn[]) {
  if (key.length !== keyColumns.length) throw badCursor('it does not fit this list');
  if (sortColumn && value === null && sortColumn.notNull) throw badCursor('it does not fit this sort');
  if (sortColumn && value !== null) {
    const pattern = valuePatterns[sortColumn.columnType];
    if ((pattern && !pattern.test(value)) || value.length > 1000) throw badCursor('it does not fit this sort');
  }
  keyColumns.forEach((column, i) => {
    const k = key[i];
    const ok = column.dataType === 'number' ? Number.isSafeInteger(k) : typeof k === 'string' && k.length <= 1000;
    if (!ok) throw badCursor('it does not fit this list');
  });
}
