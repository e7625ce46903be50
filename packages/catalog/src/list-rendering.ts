import { createHash } from 'node:crypto';
import { getTableColumns, getTableName, sql, type SQL } from 'drizzle-orm';
import { PgDialect, type AnyPgColumn, type PgTable } from 'drizzle-orm/pg-core';
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
  table: PgTable;
  rendered: PgTable;
  parent: string;
  key: AnyPgColumn;
  renderedTable: string;
  printer: string;
  printerId: string;
};

function partsOf(kind: Kind): Parts {
  const decl: KindDecl = entityCatalog[kind];
  if (!decl.rendered) throw new Error(`${kind}: its rows are not stored printed`);
  const key = parentKeyOf(kind);
  const renderedKey = Object.values(getTableColumns(decl.rendered) as Record<string, AnyPgColumn>).find((c) => c.name === key.name);
  if (!renderedKey || renderedKey.getSQLType() !== key.getSQLType())
    throw new Error(`${kind}: ${getTableName(decl.rendered)} is not keyed as its table`);
  // The printer over the live tables (children found on the search path): what the API runs,
  // and what names the printer in every rendering, wherever the rendering was written.
  const printer = dialect.sqlToQuery(rowJson(printedFields(kind, { doc: false })));
  if (printer.params.length > 0) throw new Error(`${kind}: the printer has parameters`);
  const printerId = createHash('sha256').update(printer.sql).digest('base64url').slice(0, 16);
  return {
    table: decl.table,
    rendered: decl.rendered,
    parent: getTableName(decl.table),
    key,
    renderedTable: getTableName(decl.rendered),
    printer: printer.sql,
    printerId,
  };
}

/**
 * A list row's JSON for the API: the stored rendering while it matches the live row, else the row
 * printed now (the same printer). COALESCE evaluates the printer only when the first is null.
 */
export function storedListJson(kind: Kind): SQL<string> {
  const { parent, key, renderedTable, printer, printerId } = partsOf(kind);
  const p = q(parent);
  const k = q(key.name);
  return sql.raw(`coalesce((select r.json from ${q(renderedTable)} r
    where r.store_id = ${p}.store_id and r.${k} = ${p}.${k} and r.row_position = ${p}.source_position
      and r.row_version = ${p}.xmin and r.printer = '${printerId}'), ${printer})`) as SQL<string>;
}

/**
 * The statement that prints the rows of `kind` in `schema` that `where` selects (SQL text over
 * the parent table, named by its table name) into their rendered table, replacing what was there.
 * Rows are taken in key order, so concurrent writers lock renderings in one order.
 */
export function renderStatementText(kind: Kind, schema: string, where: string): string {
  const { parent, key, renderedTable, printerId } = partsOf(kind);
  const p = q(parent);
  const k = q(key.name);
  // The same printer with the child tables in `schema` (a rebuild's shadow).
  const printer = dialect.sqlToQuery(rowJson(printedFields(kind, { doc: false, schema })));
  return `insert into ${q(schema)}.${q(renderedTable)} as t (store_id, ${k}, row_position, row_version, printer, json)
  select ${p}.store_id, ${p}.${k}, ${p}.source_position, ${p}.xmin, '${printerId}', ${printer.sql}
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
  const { parent, key } = partsOf(kind);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`invalid limit: ${limit}`);
  const p = q(parent);
  const k = q(key.name);
  const id = key.getSQLType() === 'bigint' ? `case when entity_id ~ '^[0-9]{1,18}$' then entity_id::bigint end` : 'entity_id';
  return `(${p}.store_id, ${p}.${k}) in (select store_id, ${id} from (select store_id, entity_id from event_log
      where position > {{from}} and position <= {{to}} and entity_kind = '${kind}' and kind in ('snapshot', 'tombstone')
      order by position limit ${limit}) b)
    and ${p}.source_position > {{from}} and ${p}.source_position <= {{to}}`;
}

/** `where` text for renderStatementText: share `index` of `count` of a kind's rows, by a hash of the key (rebuild). */
export function shareRowsWhere(kind: Kind, index: number, count: number): string {
  const { parent, key } = partsOf(kind);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 0 || index >= count)
    throw new Error(`invalid share ${index} of ${count}`);
  return count === 1 ? 'true' : `abs(hashtext(${q(parent)}.${q(key.name)}::text)::bigint) % ${count} = ${index}`;
}

/** `where` SQL for renderStatementText: these keys of one store (erasure). */
export function keyRowsWhere(kind: Kind, storeId: number, keys: readonly string[]): SQL {
  const { parent, key } = partsOf(kind);
  return sql`${sql.raw(q(parent))}.store_id = ${storeId} and ${sql.raw(`${q(parent)}.${q(key.name)}`)} in (select (jsonb_array_elements_text(${JSON.stringify(keys)}::jsonb))::${sql.raw(key.getSQLType())})`;
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
  const { parent, key, renderedTable, printerId } = partsOf(kind);
  const p = q(parent);
  const k = q(key.name);
  const printer = dialect.sqlToQuery(rowJson(printedFields(kind, { doc: false, schema })));
  const valid = `r.row_position = ${p}.source_position and r.row_version = ${p}.xmin and r.printer = '${printerId}'`;
  return `select count(*)::int as rows,
    count(*) filter (where r.store_id is null)::int as missing,
    count(*) filter (where r.store_id is not null and not (${valid}))::int as stale,
    count(*) filter (where ${valid} and r.json <> ${printer.sql})::int as wrong
  from ${q(schema)}.${p} as ${p} left join ${q(schema)}.${q(renderedTable)} r on r.store_id = ${p}.store_id and r.${k} = ${p}.${k}`;
}
