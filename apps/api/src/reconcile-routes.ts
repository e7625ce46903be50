import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { publicKindName } from '@mirror/catalog';
import { reconcileRunsTable } from '@mirror/db';
import { and, desc, eq, lt } from 'drizzle-orm';
import type { ApiEnv } from './api-env.ts';
import type { RouteContext } from './entity-routes.ts';
import { beforeParam, idPage, limitParam, storeIdParam } from './query-params.ts';
import { addGetRoute, valid } from './routes.ts';
import { toJson } from './row-json.ts';

const time = z.string().nullable().openapi({ format: 'date-time' });

const runSchema = z
  .object({
    id: z.number().int(),
    entity: z.string().openapi({ description: "the entity kind's public name (as in the API paths)" }),
    mode: z.enum(['incremental', 'full']),
    trigger: z.string().openapi({ description: 'cli, schedule or api' }),
    status: z.enum(['running', 'done', 'failed']),
    startedAt: z.string().openapi({ format: 'date-time' }),
    finishedAt: time,
    since: time.openapi({ description: "incremental runs: Ecwid's changes since this time were compared" }),
    watermark: time.openapi({ description: 'the next incremental run compares changes since this time' }),
    requests: z.number().int().openapi({ description: 'Ecwid REST requests the run made' }),
    checked: z.number().int(),
    missing: z.number().int().openapi({ description: 'in Ecwid, not in the mirror' }),
    stale: z.number().int().openapi({ description: "in both, Ecwid's newer (or different, for kinds without an update time)" }),
    missedDeletes: z.number().int().openapi({ description: 'live in the mirror, gone from Ecwid (confirmed by a read)' }),
    healedTombstones: z.number().int().openapi({ description: 'deleted in the mirror, live in Ecwid: brought back' }),
    refreshed: z.number().int().openapi({
      description: 'different only in fields Ecwid derives without a webhook (a category’s product counts): taken again, not a miss',
    }),
    appended: z.number().int().openapi({ description: 'snapshot and tombstone records appended to repair it' }),
    error: z.string().nullable(),
  })
  .openapi('ReconcileRun');

/** GET /v1/stores/{storeId}/reconcile-runs: what reconcile found and repaired, newest first. */
export function addReconcileRoutes(app: OpenAPIHono<ApiEnv>, { db }: RouteContext): void {
  addGetRoute(
    app,
    {
      path: '/v1/stores/{storeId}/reconcile-runs',
      tag: 'reconcile',
      summary: "The store's reconcile runs, newest first",
      description:
        'Each run compared one entity kind with Ecwid (`mirror reconcile`, or the schedule) and repaired what differed by appending ' +
        'to the log. Follow `nextBefore` for older runs.',
      params: z.object({ storeId: storeIdParam }),
      query: z.object({
        limit: limitParam,
        before: beforeParam('run'),
      }),
      response: z.object({ data: z.array(runSchema), nextBefore: z.number().int().nullable() }).openapi('ReconcileRunPage'),
      responseDescription: 'reconcile runs, newest first',
    },
    async (c) => {
      const storeId = c.get('storeId');
      const { limit, before } = valid<{ limit: number; before?: number }>(c, 'query');
      const t = reconcileRunsTable;
      const { rows, next } = idPage(
        await db
          .select()
          .from(t)
          .where(and(eq(t.storeId, storeId), before === undefined ? undefined : lt(t.id, before)))
          .orderBy(desc(t.id))
          .limit(limit + 1),
        limit,
      );
      const data = rows.map(({ storeId: _, id, kind, progress: _progress, heartbeatAt: _heartbeat, ...run }) =>
        toJson({ id, entity: publicKindName(kind), ...run }),
      );
      return c.json({ data, nextBefore: next }, 200);
    },
  );
}
