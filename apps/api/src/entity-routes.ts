import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '@mirror/core';
import type { Db } from '@mirror/db';
import { and, eq, getTableColumns, isNull, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Context } from 'hono';
import type { ApiEnv } from './api-env.ts';
import type { CursorCodec } from './cursor.ts';
import { entitySchema, internalKeys, jsonTextKeys, printRow, type EntityDef } from './entities.ts';
import { createBatchedLookup, createRowPrinter, pipelinedClient, postgresJsClient, rawQuery } from './fast-rows.ts';
import { keysetPage } from './keyset.ts';
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

const includeDeletedParam = booleanParam.optional().openapi({ description: 'also return soft-deleted rows (deletedAt set); default false' });

/** list, get-by-id and history routes of one entity collection. */
export function addEntityRoutes(app: OpenAPIHono<ApiEnv>, def: EntityDef, { db, codec }: RouteContext): void {
  const schema = entitySchema(def).openapi(def.name);
  const base = `/v1/stores/{storeId}/${def.path}`;
  const tag = def.path;
  const columns = getTableColumns(def.table) as Record<string, AnyPgColumn>;
  const expanded = def.expand?.columns ?? {};
  const { doc: _doc, ...withoutDoc } = columns;
  // The document is read as text and spliced into the response unparsed (printRow).
  const docText = sql<string>`${def.table.doc}::text`.as('doc');
  const listColumns = { ...withoutDoc, ...expanded };
  const allColumns = { ...Object.fromEntries(Object.entries(columns).map(([k, c]) => [k, k === 'doc' ? docText : c])), ...expanded };
  const findOne = prepareFind(db, def, allColumns, { includeDeleted: false });
  const findOneDeleted = prepareFind(db, def, allColumns, { includeDeleted: true });
  const findForHistory = prepareFind(db, def, withoutDoc, { includeDeleted: true });
  const sortNames = Object.keys(def.sorts).flatMap((name) => [name, `-${name}`]);
  const filterDescriptions = Object.entries(def.filters).map(([name, f]) => [name, f.schema.optional().openapi({ description: f.description })]);

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
  const fastIdParams: FastCheck | undefined = parseId && ((c) => {
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
      summary: `List ${def.path.replace('-', ' ')}`,
      description:
        `Filters combine with AND. Pages follow \`nextCursor\` (keyset pagination: stable while rows are written). ` +
        `Sorts: ${sortNames.join(', ')}. Money fields are decimal strings.`,
      params: z.object({ storeId: storeIdParam }),
      query: listQuery,
      response: z.object({ data: z.array(schema), nextCursor: z.string().nullable() }).openapi(`${def.name}Page`),
      responseDescription: `a page of ${def.path}`,
    },
    async (c) => {
      const storeId = c.var.storeId;
      const query = valid<ListQuery>(c, 'query');
      const sort = query.sort ?? def.defaultSort;
      const sortColumn = def.sorts[sort.replace(/^-/, '')];
      if (sortColumn === undefined) throw new AppError('BAD_REQUEST', `invalid query parameter "sort"`, { details: { parameter: 'sort' } });
      const where: (SQL | undefined)[] = [eq(def.table.storeId, storeId)];
      if (!query.includeDeleted) where.push(isNull(def.table.deletedAt));
      for (const [name, filter] of Object.entries(def.filters)) {
        const value = query[name];
        if (value !== undefined) where.push(filter.where(value as never));
      }
      const page = await keysetPage({
        db,
        codec,
        list: def.path,
        table: def.table,
        where,
        columns: query.includeDoc ? allColumns : listColumns,
        key: def.key,
        sort,
        sortColumn,
        limit: query.limit,
        cursor: query.cursor,
      });
      return jsonText(c, `{"data":[${page.rows.map(printRow).join(',')}],"nextCursor":${JSON.stringify(page.nextCursor)}}`);
    },
  );

  addGetRoute(
    app,
    {
      path: `${base}/{${def.idParam}}`,
      tag,
      summary: `Get one of ${def.path.replace('-', ' ')} by ${def.idParam}`,
      description: 'The typed columns and `doc`, the full Ecwid document. A soft-deleted row is a 404 unless includeDeleted=true.',
      params: idParams,
      query: z.object({ includeDeleted: includeDeletedParam }),
      response: schema,
      responseDescription: `the ${def.name}`,
      fast: { query: fastNoQuery, ...(fastIdParams && { param: fastIdParams }) },
    },
    async (c) => {
      const storeId = c.var.storeId;
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
      summary: `Log records about one of ${def.path.replace('-', ' ')}, newest first`,
      description:
        `Webhooks, snapshots and tombstones with entity_kind \`${def.kind}\` about this entity, and the webhooks its snapshots answer (caused_by). ` +
        'Follow `nextCursor` for older records.',
      params: idParams,
      query: z.object({ limit: limitParam, cursor: cursorParam.optional() }),
      response: z.object({ data: z.array(logRecordSchema), nextCursor: z.string().nullable() }).openapi(`${def.name}History`),
      responseDescription: 'log records, newest first',
    },
    async (c) => {
      const storeId = c.var.storeId;
      const id = valid<Record<string, unknown>>(c, 'param')[def.idParam];
      const { limit, cursor } = valid<{ limit: number; cursor?: string }>(c, 'query');
      const [row] = await findForHistory.execute({ storeId, id });
      // Without a row (not projected yet) the URL's id is still worth looking up in the log.
      const entityIds = row ? (def.historyIds?.(row, storeId) ?? [String(id)]) : [String(id)];
      const page = await readEntityHistory(db, codec, { storeId, kind: def.kind, entityIds, limit, cursor, list: `${def.path}/history` });
      if (!row && page.rows.length === 0 && !cursor) throw new AppError('NOT_FOUND', `${def.idParam} ${String(id)} not found`);
      return c.json({ data: page.rows.map(printRecord), nextCursor: page.nextCursor }, 200);
    },
  );
}

/** A 200 with JSON already printed, with the header c.json would send. */
function jsonText(c: Context<ApiEnv>, text: string): Response {
  return c.body(text, 200, { 'Content-Type': 'application/json' });
}

/**
 * A primary-key lookup (store_id, id) with its child rows, built once as a prepared statement:
 * the hot path then skips query building and Postgres parses it once per connection. Invoices
 * are looked up by invoice id within the store. `executeJson` answers the row printed as JSON
 * text; on postgres.js concurrent lookups are batched into one `id = any(…)` statement
 * (createBatchedLookup) and rows are read as arrays and printed directly (createRowPrinter),
 * skipping drizzle's row mapping.
 */
function prepareFind(db: Db, def: EntityDef, columns: Record<string, unknown>, { includeDeleted }: { includeDeleted: boolean }) {
  const query = db
    .select(columns as never)
    .from(def.table)
    .where(
      and(
        eq(def.table.storeId, sql.placeholder('storeId')),
        eq(def.idColumn, sql.placeholder('id')),
        includeDeleted ? undefined : isNull(def.table.deletedAt),
      ),
    )
    .limit(1);
  const prepared = query.prepare(`api_find_${def.path}${includeDeleted ? '_all' : ''}`);
  const execute = (values: { storeId: number; id: unknown }) => prepared.execute(values) as Promise<Record<string, unknown>[]>;
  const client = postgresJsClient(db);
  const print = createRowPrinter(columns, jsonTextKeys, internalKeys);
  let executeJson = async (values: { storeId: number; id: unknown }) => {
    const [row] = await execute(values);
    return row && printRow(row);
  };
  if (client) {
    const idType = sql.raw(`${def.idColumn.getSQLType()}[]`);
    const batchQuery = db
      .select(columns as never)
      .from(def.table)
      .where(
        and(
          eq(def.table.storeId, sql.placeholder('storeId')),
          sql`${def.idColumn} = any(${sql.placeholder('ids')}::${idType})`,
          includeDeleted ? undefined : isNull(def.table.deletedAt),
        ),
      )
      .toSQL();
    // Every get-by-id route's batches share one connection while they run (pipelined).
    const raw = rawQuery(pipelinedClient(client), batchQuery);
    const idIndex = Object.values(columns).indexOf(def.idColumn);
    if (idIndex < 0) throw new Error(`${def.path}: the id column is not selected`);
    const lookup = createBatchedLookup({ run: (storeId, ids) => raw({ storeId, ids }), idIndex, print });
    executeJson = (values) => lookup(values.storeId, values.id as string | number);
  }
  return { execute, executeJson };
}
