import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { printedFields, renderedKinds, rowJson, storedListJson } from '@mirror/catalog';
import { AppError } from '@mirror/core';
import { execRows, type Db } from '@mirror/db';
import { and, eq, getTableColumns, isNull, sql, type SQL } from 'drizzle-orm';
import { PgDialect, type AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Context } from 'hono';
import type { ApiEnv } from './api-env.ts';
import type { CursorCodec } from './cursor.ts';
import { entitySchema, type EntityDef, type Filter } from './entities.ts';
import { createBatchedLookup, postgresJsClient, rawQuery } from './fast-rows.ts';
import { jsonRowsQuery, renderedOnce } from './json-rows.ts';
import { createStatementCache, hidden, keysetPage } from './keyset.ts';
import { logRecordSchema, printRecord, readEntityHistory } from './log-records.ts';
import { booleanParam, cursorParam, fastIdParser, limitParam, storeIdParam } from './query-params.ts';
import { addGetRoute, valid, type FastCheck } from './routes.ts';

export type RouteContext = { db: Db; codec: CursorCodec };

type ListQuery = {
  limit: number;
  cursor?: string;
  sort?: string;
  includeDeleted?: boolean;
  includeDoc?: boolean;
} & Record<string, unknown>;

const includeDeletedParam = booleanParam
  .optional()
  .openapi({ description: 'also return soft-deleted rows (deletedAt set); default false' });

/** list, get-by-id and history routes of one entity collection. */
export function addEntityRoutes(app: OpenAPIHono<ApiEnv>, def: EntityDef, { db, codec }: RouteContext): void {
  const schema = entitySchema(def).openapi(def.name);
  const base = `/v1/stores/{storeId}/${def.path}`;
  const tag = def.path;
  const columns = getTableColumns(def.table) as Record<string, AnyPgColumn>;
  const { doc: _doc, ...withoutDoc } = columns;
  // Lists have Postgres print each row (rowJson), as get-by-id does, or read it printed when the
  // projection stored it so and it is still the row's (kinds with child rows, decision 0022);
  // keysetPage selects the key and sort value beside it for the cursor. Rendered once: drizzle
  // would otherwise walk the printer's SQL (every field, the child subqueries) on each request.
  const listJson = renderedKinds.includes(def.kind) ? storedListJson(def.kind) : rowJson(printedFields(def.kind, { doc: false }));
  const listSelection = { __json: renderedOnce(listJson).as('__json') };
  const docSelection = { __json: renderedOnce(rowJson(printedFields(def.kind, { doc: true }))).as('__json') };
  const statements = createStatementCache();
  const findOne = prepareFindJson(db, def, { includeDeleted: false });
  const findOneDeleted = prepareFindJson(db, def, { includeDeleted: true });
  const findForHistory = prepareFind(db, def, withoutDoc);
  const sortNames = Object.keys(def.sorts).flatMap((name) => [name, `-${name}`]);
  const filterDescriptions = Object.entries(def.filters).map(([name, f]) => [
    name,
    f.schema.optional().openapi({ description: f.description }),
  ]);

  const listQuery = z.object({
    limit: limitParam,
    cursor: cursorParam.optional(),
    sort: z
      .enum(sortNames as [string, ...string[]], { error: `must be one of ${sortNames.join(', ')}` })
      .optional()
      .openapi({ description: `sort field, \`-\` for descending; default ${def.defaultSort}` }),
    includeDeleted: includeDeletedParam,
    includeDoc: booleanParam.optional().openapi({ description: "include each row's full Ecwid document (`doc`); default false in lists" }),
    ...Object.fromEntries(filterDescriptions),
  });
  const idParams = z.object({ storeId: storeIdParam, [def.idParam]: def.idSchema.openapi({ param: { name: def.idParam, in: 'path' } }) });
  // get-by-id is the hot route: its common requests are checked without zod (same results; zod
  // still decides, and words, anything unusual). The store middleware has checked storeId.
  const parseId = fastIdParser(def.idSchema);
  const fastIdParams: FastCheck | undefined =
    parseId &&
    ((c) => {
      const storeId = c.get('storeId');
      const id = parseId(c.req.param(def.idParam) ?? '');
      return storeId === undefined || id === undefined ? undefined : { storeId, [def.idParam]: id };
    });
  // No query string: zod's answer is {} (includeDeleted absent).
  const fastNoQuery: FastCheck = (c) => (c.req.url.includes('?') ? undefined : {});

  addGetRoute(
    app,
    {
      path: base,
      tag,
      summary: `List the store's ${def.path.replaceAll('-', ' ')}`,
      description:
        `The ${def.path.replaceAll('-', ' ')} as last fetched from Ecwid, a page at a time. Every filter you pass must match (they ` +
        `combine with AND). For the next page, pass \`nextCursor\` back as \`cursor\`: pages stay consistent while new rows arrive. ` +
        `Sort by ${sortNames.join(', ')} (a leading \`-\` for descending). Money fields are decimal strings.`,
      params: z.object({ storeId: storeIdParam }),
      query: listQuery,
      response: z.object({ data: z.array(schema), nextCursor: z.string().nullable() }).openapi(`${def.name}Page`),
      responseDescription: `a page of ${def.path}`,
    },
    async (c) => {
      const storeId = c.get('storeId');
      const query = valid<ListQuery>(c, 'query');
      const sort = query.sort ?? def.defaultSort;
      const sortColumn = def.sorts[sort.replace(/^-/, '')];
      if (sortColumn === undefined) throw new AppError('BAD_REQUEST', `invalid query parameter "sort"`, { details: { parameter: 'sort' } });
      // Values are bound through placeholders, so one query shape (which filters, how many
      // statuses, …) is built and rendered by drizzle once and then only executed. Each is
      // hidden behind a sub-select, so Postgres plans the statement once (keysetPage).
      const values: Record<string, unknown> = { storeId };
      const shape: string[] = [query.includeDeleted ? 'all' : 'live', query.includeDoc ? 'doc' : 'row'];
      const where: (SQL | undefined)[] = [eq(def.table.storeId, hidden(sql.placeholder('storeId'), def.table.storeId.getSQLType()))];
      if (!query.includeDeleted) where.push(isNull(def.table.deletedAt));
      const bound = (filter: Filter, name: string) =>
        filter.valueType === undefined ? sql.placeholder(name) : hidden(sql.placeholder(name), filter.valueType);
      let sortExcludesNulls = false;
      for (const [name, filter] of Object.entries(def.filters)) {
        const value = query[name];
        if (value === undefined) continue;
        if (sortColumn !== null && filter.column === sortColumn) sortExcludesNulls = true;
        if (filter.byValue) {
          shape.push(`${name}=${String(value)}`);
          where.push(filter.where(value as never));
        } else if (Array.isArray(value)) {
          shape.push(`${name}[${value.length}]`);
          where.push(filter.where(value.map((v, i) => ((values[`${name}.${i}`] = v), bound(filter, `${name}.${i}`))) as never));
        } else {
          shape.push(name);
          values[name] = value;
          where.push(filter.where(bound(filter, name) as never));
        }
      }
      const page = await keysetPage({
        shape: shape.join('&'),
        values,
        statements,
        db,
        codec,
        storeId,
        list: def.path,
        table: def.table,
        where,
        columns: query.includeDoc ? docSelection : listSelection,
        key: def.key,
        sort,
        sortColumn,
        limit: query.limit,
        cursor: query.cursor,
        sortExcludesNulls,
      });
      return jsonText(c, pageJson(page.rows, page.nextCursor));
    },
  );

  addGetRoute(
    app,
    {
      path: `${base}/{${def.idParam}}`,
      tag,
      summary: `Read one ${def.noun}`,
      description:
        `The ${def.noun} with \`${def.idParam}\`: its columns and \`doc\`, the full document as Ecwid last returned it. One deleted ` +
        'in Ecwid answers 404 unless you pass includeDeleted=true.',
      params: idParams,
      query: z.object({ includeDeleted: includeDeletedParam }),
      response: schema,
      responseDescription: `the ${def.name}`,
      fast: { query: fastNoQuery, ...(fastIdParams && { param: fastIdParams }) },
    },
    async (c) => {
      const storeId = c.get('storeId');
      const id = valid<Record<string, unknown>>(c, 'param')[def.idParam];
      const { includeDeleted } = valid<{ includeDeleted?: boolean }>(c, 'query');
      const json = await (includeDeleted ? findOneDeleted : findOne).executeJson({ storeId, id });
      if (json === undefined) throw new AppError('NOT_FOUND', `${def.idParam} ${String(id)} not found`);
      return jsonText(c, json);
    },
  );

  addGetRoute(
    app,
    {
      path: `${base}/{${def.idParam}}/history`,
      tag,
      summary: `The history of one ${def.noun}: every change, newest first`,
      description:
        `Webhooks, snapshots and tombstones with entity_kind \`${def.kind}\` about this entity, and the webhooks its snapshots answer (caused_by). ` +
        `${def.historyScope ? `${def.historyScope} ` : ''}Follow \`nextCursor\` for older records.`,
      params: idParams,
      query: z.object({ limit: limitParam, cursor: cursorParam.optional() }),
      response: z.object({ data: z.array(logRecordSchema), nextCursor: z.string().nullable() }).openapi(`${def.name}History`),
      responseDescription: 'log records, newest first',
    },
    async (c) => {
      const storeId = c.get('storeId');
      const id = valid<Record<string, unknown>>(c, 'param')[def.idParam];
      const { limit, cursor } = valid<{ limit: number; cursor?: string }>(c, 'query');
      const [row] = await findForHistory.execute({ storeId, id });
      // Without a row (not projected yet) the URL's id is still worth looking up in the log.
      const entityIds = row ? (def.historyIds?.(row, storeId) ?? [String(id)]) : [String(id)];
      // The list is this entity's history: a cursor of another entity's is refused.
      const list = `${def.path}/${String(id)}/history`;
      const page = await readEntityHistory(db, codec, { storeId, kind: def.kind, entityIds, limit, cursor, list });
      if (!row && page.rows.length === 0 && !cursor) throw new AppError('NOT_FOUND', `${def.idParam} ${String(id)} not found`);
      return c.json({ data: page.rows.map(printRecord), nextCursor: page.nextCursor }, 200);
    },
  );
}

/** A 200 with JSON already printed (text or its UTF-8 bytes), with the header c.json would send. */
function jsonText(c: Context<ApiEnv>, text: string | Uint8Array): Response {
  // A Buffer's memory is an ArrayBuffer (never shared) in postgres.js; hono's type asks for that.
  return c.body(text as string | Uint8Array<ArrayBuffer>, 200, { 'Content-Type': 'application/json' });
}

const pageHead = Buffer.from('{"data":[');
const comma = Buffer.from(',');

/**
 * `{"data":[<row>,…],"nextCursor":…}` from the rows' printed JSON: on postgres.js the bytes
 * Postgres sent, copied once into the answer (keyset.ts); elsewhere strings.
 */
function pageJson(rows: Record<string, unknown>[], nextCursor: string | null): string | Uint8Array {
  const tail = `],"nextCursor":${JSON.stringify(nextCursor)}}`;
  const printed = rows.map((row) => row['__json'] as string | Buffer);
  if (!printed.some((json) => Buffer.isBuffer(json))) return `{"data":[${printed.join(',')}${tail}`;
  const parts: Buffer[] = [pageHead];
  printed.forEach((json, i) => {
    if (i > 0) parts.push(comma);
    parts.push(typeof json === 'string' ? Buffer.from(json) : json);
  });
  parts.push(Buffer.from(tail));
  return Buffer.concat(parts);
}

/** One row by primary key (store_id, id), deleted or not, as drizzle maps it; a prepared statement. */
function prepareFind(db: Db, def: EntityDef, columns: Record<string, unknown>) {
  const prepared = db
    .select(columns as never)
    .from(def.table)
    .where(and(eq(def.table.storeId, sql.placeholder('storeId')), eq(def.idColumn, sql.placeholder('id'))))
    .limit(1)
    .prepare(`api_find_${def.path}_row`);
  return { execute: (values: { storeId: number; id: unknown }) => prepared.execute(values) as Promise<Record<string, unknown>[]> };
}

/**
 * The get-by-id statement of an entity: `(storeId, ids)` → the rows of those ids, each as
 * `[id, json]`, the JSON with the list's keys in the list's order (json-rows.ts).
 */
export function findJsonStatement(
  def: EntityDef,
  { includeDeleted }: { includeDeleted: boolean },
): (storeId: unknown, ids: unknown) => SQL {
  const fields = printedFields(def.kind, { doc: true });
  const idKey = Object.keys(fields).find((key) => fields[key] === def.idColumn);
  if (idKey === undefined) throw new Error(`${def.path}: the id column is not selected`);
  const idArray = sql.raw(`${def.idColumn.getSQLType()}[]`);
  return (storeId, ids) =>
    jsonRowsQuery({
      table: def.table,
      fields,
      idKey,
      // The values behind sub-selects, not `store_id = $1 and id = any($2)`: Postgres plans a
      // prepared statement afresh for each call (a "custom plan") while that looks cheaper than
      // its one generic plan, and a custom plan sees the array's length (the generic one guesses
      // 10) and the store's own row count, so batches under 10 ids, and any store smaller than
      // the average, were planned again every time (~0.2 ms a call, as long as reading five
      // orders). Out of the planner's sight, the values cost the same in both plans and Postgres
      // keeps the generic one after its five trial plans (tested in lists.int.test.ts).
      where: and(
        sql`${def.table.storeId} = (select ${storeId}::${sql.raw(def.table.storeId.getSQLType())})`,
        sql`${def.idColumn} = any((select ${ids}::${idArray})::${idArray})`,
        includeDeleted ? undefined : isNull(def.table.deletedAt),
      )!,
    });
}

/**
 * get-by-id: one row with its child rows, printed as JSON by Postgres (json-rows.ts), so the
 * server only passes text through: no per-column parsing, date handling or printing in Node,
 * which is the busier process under load. Concurrent lookups of one store are batched into one
 * `id = any(…)` statement (createBatchedLookup); on postgres.js it is a prepared statement on
 * the pool, elsewhere (PGlite) it runs through drizzle with the values bound.
 */
function prepareFindJson(db: Db, def: EntityDef, options: { includeDeleted: boolean }) {
  const statement = findJsonStatement(def, options);
  const client = postgresJsClient(db);
  let run: (storeId: number, ids: string) => Promise<unknown[][]>;
  if (client) {
    // On the pool, not on one connection shared by every batch in flight (as from decision 0011
    // until 0024): the two statements in flight usually run on two backends, so one that the
    // OS sets aside for a few ms on these two busy cores stalls half the lookups, not all.
    // bench:api, alternated: p99 6.76 and 6.42 ms against 9.79 and 10.8, at ~5% fewer answers.
    // Read raw: the JSON's bytes go to the socket without being decoded and encoded again.
    const raw = rawQuery(client, new PgDialect().sqlToQuery(statement(sql.placeholder('storeId'), sql.placeholder('ids'))));
    run = (storeId, ids) => raw({ storeId, ids });
  } else {
    run = async (storeId, ids) =>
      (await execRows<{ id: string; json: string }>(db, statement(storeId, ids))).map((row) => [row.id, row.json]);
  }
  const lookup = createBatchedLookup({ run, idIndex: 0, print: (row) => row[1] as string | Uint8Array });
  return { executeJson: (values: { storeId: number; id: unknown }) => lookup(values.storeId, values.id as string | number) };
}
