import { createHash } from 'node:crypto';
import { getTableColumns, getTableName, sql, type SQL } from 'drizzle-orm';
import { PgDialect, type AnyPgColumn } from 'drizzle-orm/pg-core';
import { entityCatalog, kinds, type Kind, type KindDecl } from './entity-catalog.ts';
import { parentKeyOf, printedFields, rowJson } from './row-printer.ts';

/*
 * Stored list renderings (decision 0022). Printing a page of 100 orders with their items cost
 * Postgres about 2.4 ms, three quarters of it printing (row_to_json of ~40 columns, a subquery
 * per order for its items and one for its refunds); reading the same rows printed beforehand
 * costs about 0.9 ms. So the projection prints each row of a kind with child rows once, when it
 * writes it, into `<table>_rendered`, with the same printer the API uses (row-printer.ts), and
 * the lists read that.
 *
 * A stored rendering is only ever a cache: each records the parent row's `source_position` and
 * `xmin` it was printed from, and which printer printed it (a hash of the printer's SQL), and the
 * list reads it only while all three still match the live row and the API's printer, printing
 * the row afresh otherwise (a new column, a new format: the old renderings are passed over until
 * the rows are rendered again). Every write of a row changes its `xmin`, and a change of a
 * child row is written with its parent's (projection writes children only beside their
 * parent's upsert; erasure re-renders what it rewrote). So a writer that forgets to render
 * (an older version, a hand-made fix, a path added later) costs a slower list, never a wrong
 * one.
 */

/** The kinds whose rows are stored printed. */
export const renderedKinds: readonly Kind[] = kinds.filter((kind) => (entityCatalog[kind] as KindDecl).rendered !== undefined);

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const dialect = new PgDialect();

type Parts = {
  /** The parent table's name and its key column's, quoted; the key column. */
  p: string;
  k: string;
  key: AnyPgColumn;
  /** The rendered table's name, quoted. */
  rendered: string;
  /** The printer's SQL over the live tables (children found on the search path), and its id. */
  printer: string;
  printerId: string;
  /** A stored rendering `r` is the row's own: its position, row version and printer match. */
  valid: string;
};

const parts = new Map<Kind, Parts>();

function partsOf(kind: Kind): Parts {
  const known = parts.get(kind);
  if (known) return known;
  const decl: KindDecl = entityCatalog[kind];
  if (!decl.rendered) throw new Error(`${kind}: its rows are not stored printed`);
  const key = parentKeyOf(kind);
  const renderedKey = Object.values(getTableColumns(decl.rendered) as Record<string, AnyPgColumn>).find((c) => c.name === key.name);
  if (!renderedKey || renderedKey.getSQLType() !== key.getSQLType())
    throw new Error(`${kind}: ${getTableName(decl.rendered)} is not keyed as its table`);
  // What the API runs, and what names the printer in every rendering, wherever it was written.
  const printer = printerIn(kind);
  const printerId = createHash('sha256').update(printer).digest('base64url').slice(0, 16);
  const p = q(getTableName(decl.table));
  const made: Parts = {
    p,
    k: q(key.name),
    key,
    rendered: q(getTableName(decl.rendered)),
    printer,
    printerId,
    valid: `r.row_position = ${p}.source_position and r.row_version = ${p}.xmin and r.printer = '${printerId}'`,
  };
  parts.set(kind, made);
  return made;
}

/** The printer's SQL text, its child tables in `schema` (a rebuild's shadow) or on the search path. */
function printerIn(kind: Kind, schema?: string): string {
  const printer = dialect.sqlToQuery(rowJson(printedFields(kind, { doc: false, ...(schema !== undefined && { schema }) })));
  if (printer.params.length > 0) throw new Error(`${kind}: the printer has parameters`);
  return printer.sql;
}

/**
 * A list row's JSON for the API: the stored rendering while it matches the live row, else the row
 * printed now (the same printer). COALESCE evaluates the printer only when the first is null.
 */
export function storedListJson(kind: Kind): SQL<string> {
  const { p, k, rendered, printer, valid } = partsOf(kind);
  return sql.raw(
    `coalesce((select r.json from ${rendered} r where r.store_id = ${p}.store_id and r.${k} = ${p}.${k} and ${valid}), ${printer})`,
  ) as SQL<string>;
}

/**
 * The statement that prints the rows of `kind` in `schema` that `where` selects (SQL text over
 * the parent table, named by its table name) into their rendered table, replacing what was there.
 * Rows are taken in key order, so concurrent writers lock renderings in one order.
 */
export function renderStatementText(kind: Kind, schema: string, where: string): string {
  const { p, k, rendered, printerId } = partsOf(kind);
  return `insert into ${q(schema)}.${rendered} as t (store_id, ${k}, row_position, row_version, printer, json)
  select ${p}.store_id, ${p}.${k}, ${p}.source_position, ${p}.xmin, '${printerId}', ${printerIn(kind, schema)}
  from ${q(schema)}.${p} as ${p}
  where ${where}
  order by ${p}.store_id, ${p}.${k}
  on conflict (store_id, ${k}) do update set
    row_position = excluded.row_position, row_version = excluded.row_version, printer = excluded.printer, json = excluded.json`;
}

/**
 * `where` text for renderStatementText: the rows a projection batch over log positions
 * `{{from}}`–`{{to}}` wrote, found by their records' entity ids (a tombstone naming an order
 * only by its internal id is not found: that row is printed on request until its next write).
 * The batch holds at most `limit` records: read through `limit`, the planner expects that many
 * keys, each a probe of the primary key, however long the log (the live projector keeps one
 * generic plan per statement; build-statements.ts, Bound).
 */
export function batchRowsWhere(kind: Kind, limit: number): string {
  const { p, k, key } = partsOf(kind);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`invalid limit: ${limit}`);
  const id = key.getSQLType() === 'bigint' ? `case when entity_id ~ '^[0-9]{1,18}$' then entity_id::bigint end` : 'entity_id';
  return `(${p}.store_id, ${p}.${k}) in (select store_id, ${id} from (select store_id, entity_id from event_log
      where position > {{from}} and position <= {{to}} and entity_kind = '${kind}' and kind in ('snapshot', 'tombstone')
      order by position limit ${limit}) b)
    and ${p}.source_position > {{from}} and ${p}.source_position <= {{to}}`;
}

/** `where` text for renderStatementText: share `index` of `count` of a kind's rows, by a hash of the key (rebuild). */
export function shareRowsWhere(kind: Kind, index: number, count: number): string {
  const { p, k } = partsOf(kind);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 0 || index >= count)
    throw new Error(`invalid share ${index} of ${count}`);
  return count === 1 ? 'true' : `abs(hashtext(${p}.${k}::text)::bigint) % ${count} = ${index}`;
}

/** `where` SQL for renderStatementText: these keys of one store (erasure). */
export function keyRowsWhere(kind: Kind, storeId: number, keys: readonly string[]): SQL {
  const { p, k, key } = partsOf(kind);
  return sql`${sql.raw(p)}.store_id = ${storeId} and ${sql.raw(`${p}.${k}`)} in (select (jsonb_array_elements_text(${JSON.stringify(keys)}::jsonb))::${sql.raw(key.getSQLType())})`;
}

/** renderStatementText with a drizzle `where` (bound values). */
export function renderStatement(kind: Kind, schema: string, where: SQL): SQL {
  const [before, after] = renderStatementText(kind, schema, '\u0000').split('\u0000') as [string, string];
  return sql`${sql.raw(before)}${where}${sql.raw(after)}`;
}

/**
 * A statement counting a kind's rows in `schema` by their stored printing: `missing` (none),
 * `stale` (one the API would pass over: another row version, position or printer), `wrong` (one
 * the API would read, whose text is not what the printer prints now). For tests and checks.
 */
export function renderingAuditText(kind: Kind, schema: string): string {
  const { p, k, rendered, valid } = partsOf(kind);
  return `select count(*)::int as rows,
    count(*) filter (where r.store_id is null)::int as missing,
    count(*) filter (where r.store_id is not null and not (${valid}))::int as stale,
    count(*) filter (where ${valid} and r.json <> ${printerIn(kind, schema)})::int as wrong
  from ${q(schema)}.${p} as ${p} left join ${q(schema)}.${rendered} r on r.store_id = ${p}.store_id and r.${k} = ${p}.${k}`;
}
