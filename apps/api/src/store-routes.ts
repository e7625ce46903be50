import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '@mirror/core';
import { entityCatalog, kindName, kinds, type SingletonApi } from '@mirror/catalog';
import { and, eq, isNull } from 'drizzle-orm';
import type { ApiEnv } from './api-env.ts';
import type { RouteContext } from './entity-routes.ts';
import type { EntityTable } from './entities.ts';
import { logRecordSchema, printRecord, readEntityHistory, readStoreEvents } from './log-records.ts';
import { booleanParam, cursorParam, decimalParam, limitParam, storeIdParam } from './query-params.ts';
import { addGetRoute, valid } from './routes.ts';
import { rowSchema, toJson } from './row-json.ts';
import { describeStores, listStoreIds, storeExists } from './stores.ts';

/** A store's app lifecycle, as `GET /v1/stores` and `GET /v1/status` both print it. */
export const appLifecycleFields = {
  installedAt: z.string().nullable().openapi({ format: 'date-time', description: 'the latest install of the app' }),
  uninstalledAt: z.string().nullable().openapi({ format: 'date-time', description: 'the latest uninstall of the app' }),
  scopes: z.array(z.string()).nullable().openapi({ description: 'scopes Ecwid granted (OAuth installs); null when unknown' }),
  tokenFingerprint: z
    .string()
    .nullable()
    .openapi({ description: '`sha256:` and 12 hex digits of the access token’s SHA-256 (never the token); null: no token' }),
  catchUp: z.enum(['backfill', 'reconcile']).nullable().openapi({ description: "a new token's backfill or reconcile still to do" }),
};

const storeSchema = z
  .object({
    storeId: z.number().int(),
    status: z.enum(['active', 'paused', 'blocked', 'uninstalled']).nullable().openapi({
      description:
        '`active`; `paused`: Ecwid unavailable (5xx, 429, timeouts), retried at `retryAt`; `blocked`: Ecwid refuses (401/402/403) or the mirror has no token; `uninstalled`: the app was uninstalled (Ecwid refused the token), its data stays readable',
    }),
    statusReason: z.string().nullable().openapi({ description: 'why the store is paused or blocked' }),
    retryAt: z.string().nullable().openapi({ format: 'date-time', description: 'a paused or blocked store is tried again then' }),
    ...appLifecycleFields,
    lastWebhookAt: z.string().nullable().openapi({ format: 'date-time' }),
    lastFetchAt: z.string().nullable().openapi({ format: 'date-time', description: 'the latest document fetched from Ecwid' }),
    lastReconcileAt: z.string().nullable().openapi({ format: 'date-time', description: 'the latest reconcile run that finished' }),
    lagRecords: z.number().int().openapi({ description: 'webhooks logged and not yet handled' }),
    lagSeconds: z.number().openapi({ description: 'how long the oldest of them has waited' }),
    storeName: z.string().nullable(),
    storeUrl: z.string().nullable(),
    currency: z.string().nullable(),
  })
  .openapi('Store');

const storeParams = z.object({ storeId: storeIdParam });

/** GET /v1/stores, the change feed, and the one-per-store documents (profile, subscription). */
export function addStoreRoutes(app: OpenAPIHono<ApiEnv>, { db, codec }: RouteContext): void {
  addGetRoute(
    app,
    {
      path: '/v1/stores',
      tag: 'stores',
      summary: 'The stores this key may read',
      description: 'The admin token sees every store with data; a store key sees its own store (once it has data).',
      response: z.object({ data: z.array(storeSchema) }).openapi('StoreList'),
      responseDescription: 'stores',
    },
    async (c) => {
      const principal = c.get('principal');
      const ids =
        principal.kind === 'admin' ? await listStoreIds(db) : (await storeExists(db, principal.storeId)) ? [principal.storeId] : [];
      return c.json({ data: await describeStores(db, ids) }, 200);
    },
  );

  addGetRoute(
    app,
    {
      path: '/v1/stores/{storeId}/events',
      tag: 'events',
      summary: "Follow the store's changes: its log records in commit order",
      description:
        'Records with a position greater than `after`, oldest first. Positions are assigned in commit order, so resuming from ' +
        '`nextAfter` never skips a record that committed late. Poll with the last `nextAfter`.',
      params: storeParams,
      query: z.object({
        after: decimalParam(0, Number.MAX_SAFE_INTEGER, 'must be a log position: an integer ≥ 0 in decimal digits').default(0).openapi({
          type: 'integer',
          minimum: 0,
          maximum: Number.MAX_SAFE_INTEGER,
          default: 0,
          description: 'exclusive; 0 reads from the start; decimal digits',
        }),
        limit: limitParam,
      }),
      response: z.object({ data: z.array(logRecordSchema), nextAfter: z.number().int() }).openapi('EventFeed'),
      responseDescription: 'log records, oldest first',
    },
    async (c) => {
      const { after, limit } = valid<{ after: number; limit: number }>(c, 'query');
      const { rows, nextAfter } = await readStoreEvents(db, { storeId: c.get('storeId'), after, limit });
      return c.json({ data: rows.map(printRecord), nextAfter }, 200);
    },
  );

  // The kinds with one document per store (the catalogue's singletons).
  const singletons = kinds.flatMap((kind) => {
    const { api, table } = entityCatalog[kind];
    if (api?.shape !== 'singleton') return [];
    const { component, what } = api as SingletonApi;
    return [{ path: kindName(kind), name: component, kind, table: table as EntityTable, what }];
  });
  for (const s of singletons) {
    addGetRoute(
      app,
      {
        path: `/v1/stores/{storeId}/${s.path}`,
        tag: s.path,
        summary: `Read the ${s.what}`,
        params: storeParams,
        query: z.object({ includeDeleted: booleanParam.optional() }),
        response: z.object(rowSchema(s.table, ['storeId'])).openapi(s.name),
        responseDescription: s.name,
      },
      async (c) => {
        const { includeDeleted } = valid<{ includeDeleted?: boolean }>(c, 'query');
        const [row] = (await db
          .select()
          .from(s.table)
          .where(and(eq(s.table.storeId, c.get('storeId')), includeDeleted ? undefined : isNull(s.table.deletedAt)))
          .limit(1)) as Record<string, unknown>[];
        if (!row) throw new AppError('NOT_FOUND', `no ${s.path} mirrored for store ${c.get('storeId')} yet`);
        const { storeId: _, ...rest } = row;
        return c.json(toJson(rest), 200);
      },
    );
    addGetRoute(
      app,
      {
        path: `/v1/stores/{storeId}/${s.path}/history`,
        tag: s.path,
        summary: `The history of the ${s.what}: every change, newest first`,
        params: storeParams,
        query: z.object({ limit: limitParam, cursor: cursorParam.optional() }),
        response: z.object({ data: z.array(logRecordSchema), nextCursor: z.string().nullable() }).openapi(`${s.name}History`),
        responseDescription: 'log records, newest first',
      },
      async (c) => {
        const { limit, cursor } = valid<{ limit: number; cursor?: string }>(c, 'query');
        const storeId = c.get('storeId');
        const page = await readEntityHistory(db, codec, {
          storeId,
          kind: s.kind,
          entityIds: [String(storeId)],
          limit,
          cursor,
          list: `${s.path}/history`,
        });
        return c.json({ data: page.rows.map(printRecord), nextCursor: page.nextCursor }, 200);
      },
    );
  }
}
