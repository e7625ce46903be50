import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { isKind, kinds, publicKindName } from '@mirror/catalog';
import { AppError } from '@mirror/core';
import { backfillStateTable, execRows, parkedEventsTable, type Db } from '@mirror/db';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { addActionRoute, requireAdmin } from './action-routes.ts';
import type { ApiEnv } from './api-env.ts';
import type { LagHistory } from './lag-history.ts';
import { decimalParam, idPage, storeIdParam } from './query-params.ts';
import { addGetRoute, valid } from './routes.ts';
import { listKnownStoreIds, readStoreHealth } from './store-health.ts';
import { appLifecycleFields } from './store-routes.ts';
import { describeStores } from './stores.ts';

/*
 * What the operator console reads and does, under /v1 with the API's auth: a store key sees and
 * reads its own store; actions (retry, verify) need the admin token. Retrying and verifying call
 * Ecwid, which this app never does itself: the server that mounts it passes `actions` (the
 * composition root wires the projector's code), and without them those routes answer 503.
 */

/** One parked webhook retried: fetched and resolved, or still failing (with the new error). */
export type ParkedRetryOutcome = { id: number; outcome: 'resolved' | 'failed' | 'already_resolved'; error?: string | undefined };

/** One kind compared by a verify, with a few ids of each finding. */
export type VerifyKind = {
  entity: string;
  status: 'done' | 'skipped' | 'failed';
  reason?: string | undefined;
  checked: number;
  missing: number;
  stale: number;
  missedDeletes: number;
  healedTombstones: number;
  samples: { missing: string[]; stale: string[]; missedDeletes: string[]; healedTombstones: string[] };
};

/** A store's latest "verify now", kept by the process that runs it. */
export type VerifyState = {
  status: 'running' | 'done' | 'failed';
  startedAt: Date;
  finishedAt: Date | null;
  error: string | null;
  kinds: VerifyKind[];
};

/** The actions that call Ecwid, supplied by the server that mounts the API. */
export type OperatorActions = {
  retryParked(storeId: number, ids: readonly number[]): Promise<ParkedRetryOutcome[]>;
  /** Starts a verify of the store (compare only, nothing changes) unless one is running; returns its state. */
  startVerify(storeId: number): VerifyState;
  verifyState(storeId: number): VerifyState | undefined;
};

const time = z.string().nullable().openapi({ format: 'date-time' });
const lagSchema = z.object({
  records: z.number().int().openapi({ description: 'records this stage has not handled yet' }),
  seconds: z.number().openapi({ description: 'age of the oldest of them; 0 when caught up' }),
});

const storeHealthSchema = z
  .object({
    storeId: z.number().int(),
    storeName: z.string().nullable(),
    status: z.string().openapi({ description: '`active`, `waiting_for_token`, `blocked`, `paused` or `uninstalled`' }),
    reason: z.string().nullable().openapi({ description: 'why the store is not active: the last error' }),
    retryAt: time.openapi({ description: 'a paused or blocked store is tried again at this time' }),
    hasToken: z.boolean(),
    lastWebhookAt: time,
    lastFetchAt: time.openapi({ description: 'the newest document fetched from Ecwid (live, backfill or reconcile)' }),
    lastReconcileAt: time,
    parkedOpen: z.number().int().openapi({ description: 'parked webhooks not retried successfully yet' }),
    lag: z.object({ enrichment: lagSchema, projection: lagSchema }),
    ...appLifecycleFields,
  })
  .openapi('StoreHealth');

const statusSchema = z
  .object({
    logHead: z.number().int().openapi({
      description: "the newest position in the log; for a store key, the newest of its store's records (0: none)",
    }),
    projection: z
      .object({
        position: z
          .number()
          .int()
          .openapi({
            description:
              "the projector's checkpoint; for a store key, the newest of its store's records at or before it (0: none), " +
              "so the figure says nothing of other stores' records",
          }),
        lagRecords: z.number().int().openapi({
          description: "fetched documents after the checkpoint, not yet in the tables; for a store key, its store's only",
        }),
      })
      .openapi({ description: 'how far the tables are behind the log' }),
    rebuild: z
      .object({
        position: z.number().int().openapi({ description: 'the slowest share has projected up to here' }),
        head: z.number().int(),
        updatedAt: z.string().openapi({ format: 'date-time' }),
        active: z.boolean().openapi({ description: 'renewed within the last 10 minutes (its lease)' }),
      })
      .nullable()
      .openapi({ description: 'a rebuild in progress (admin token only; null otherwise)' }),
    stores: z.array(storeHealthSchema),
  })
  .openapi('MirrorStatus');

const parkedSchema = z
  .object({
    id: z.number().int(),
    position: z.number().int().openapi({ description: 'the webhook record in the log' }),
    eventType: z.string().nullable(),
    entity: z.string().nullable(),
    entityId: z.string().nullable(),
    error: z.string(),
    attempts: z.number().int(),
    parkedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('ParkedWebhook');

const retryResultSchema = z
  .object({
    results: z.array(
      z.object({ id: z.number().int(), outcome: z.enum(['resolved', 'failed', 'already_resolved']), error: z.string().optional() }),
    ),
  })
  .openapi('ParkedRetryResults');

const verifySchema = z
  .object({
    status: z.enum(['none', 'running', 'done', 'failed']),
    startedAt: time,
    finishedAt: time,
    error: z.string().nullable(),
    kinds: z.array(
      z.object({
        entity: z.string(),
        status: z.enum(['done', 'skipped', 'failed']),
        reason: z.string().optional(),
        checked: z.number().int(),
        missing: z.number().int(),
        stale: z.number().int(),
        missedDeletes: z.number().int(),
        healedTombstones: z.number().int(),
        samples: z.object({
          missing: z.array(z.string()),
          stale: z.array(z.string()),
          missedDeletes: z.array(z.string()),
          healedTombstones: z.array(z.string()),
        }),
      }),
    ),
  })
  .openapi('Verify');

const backfillSchema = z
  .object({
    data: z.array(
      z.object({
        entity: z.string(),
        phase: z.string().openapi({ description: '`scan` (reading the listing), `deleted` (the deleted-items listing) or `done`' }),
        offset: z.number().int().openapi({ description: 'listed items read by the run so far' }),
        total: z.number().int().nullable().openapi({ description: "the listing's size, when the run recorded it" }),
        startedAt: time,
        completedAt: time,
        watermark: time.openapi({ description: 'the next run asks Ecwid for changes since this time' }),
      }),
    ),
  })
  .openapi('BackfillProgress');

const lagHistorySchema = z
  .object({
    intervalSeconds: z.number(),
    samples: z.array(z.object({ at: z.string().openapi({ format: 'date-time' }), enrichment: lagSchema, projection: lagSchema })),
  })
  .openapi('LagHistory');

const storeParams = z.object({ storeId: storeIdParam });
const parkedIdParam = decimalParam(1, 2_147_483_647, 'must be a parked webhook id: an integer ≥ 1 in decimal digits').openapi({
  param: { name: 'id', in: 'path' },
  type: 'integer',
});

export type OperationsContext = { db: Db; lagHistory?: LagHistory | undefined; actions?: OperatorActions | undefined };

export function addOperationsRoutes(app: OpenAPIHono<ApiEnv>, { db, lagHistory, actions }: OperationsContext): void {
  const needActions = (): OperatorActions => {
    if (!actions)
      throw new AppError('UNAVAILABLE', 'this server does not call Ecwid: use `pnpm mirror parked retry` or `pnpm mirror verify`');
    return actions;
  };

  addGetRoute(
    app,
    {
      path: '/v1/me',
      tag: 'operations',
      summary: 'Who this key is',
      description: 'The admin token reads every store and may act on them; a store key reads its own store.',
      response: z.object({ role: z.enum(['admin', 'store']), storeId: z.number().int().nullable() }).openapi('Me'),
      responseDescription: 'the caller',
    },
    async (c) => {
      const p = c.get('principal');
      return c.json(p.kind === 'admin' ? { role: 'admin', storeId: null } : { role: 'store', storeId: p.storeId }, 200);
    },
  );

  addGetRoute(
    app,
    {
      path: '/v1/status',
      tag: 'operations',
      summary: 'How far behind each store is, stage by stage',
      description:
        'Per store: its state (and why, when it is blocked or paused), the newest webhook, fetch and reconcile, open parked ' +
        'webhooks, and the lag of each stage: enrichment (webhooks whose entity has not been fetched yet) and projection ' +
        "(fetched documents not yet in the tables), and the app's lifecycle (install and uninstall, scopes, token " +
        'fingerprint, a pending catch-up). A store key sees its own store only, and the log figures over its own records: ' +
        '`logHead` is its newest record, `projection.position` its newest record the projector has passed (not the ' +
        "checkpoint itself, which counts every store's records), `projection.lagRecords` its documents still to project.",
      response: statusSchema,
      responseDescription: 'the mirror as a whole and each store',
    },
    async (c) => {
      const principal = c.get('principal');
      const ids = principal.kind === 'admin' ? await listKnownStoreIds(db) : [principal.storeId];
      const [health, names, [head]] = await Promise.all([
        readStoreHealth(db, ids),
        describeStores(db, ids),
        execRows<{ head: string | number | null; position: string | number | null; lag: string | number }>(
          db,
          principal.kind === 'admin'
            ? sql`with c as (select coalesce((select position from consumer_checkpoints where name = 'projection'), 0) as position)
                select (select max(position) from event_log) as head, c.position,
                       (select count(*) from event_log l where l.position > c.position and l.kind <> 'webhook') as lag
                from c`
            : // A store key sees its own records only: the whole log's head and backlog would show other
              // stores' activity. `between` rather than `=` keeps the newest-record probes on the
              // (store_id, position) index: with `=` the planner may walk the position index backwards
              // through every other store's records (130 ms on a 600k-record log for a store whose newest
              // record lies 100k back; under 1 ms this way). The count is a range after the checkpoint.
              sql`with c as (select coalesce((select position from consumer_checkpoints where name = 'projection'), 0) as position)
                select (select l.position from event_log l where l.store_id between ${principal.storeId} and ${principal.storeId}
                          order by l.store_id desc, l.position desc limit 1) as head,
                       (select l.position from event_log l where l.store_id between ${principal.storeId} and ${principal.storeId}
                          and l.position <= c.position order by l.store_id desc, l.position desc limit 1) as position,
                       (select count(*) from event_log l where l.store_id = ${principal.storeId} and l.position > c.position
                          and l.kind <> 'webhook') as lag
                from c`,
        ),
      ]);
      // A store key asking about a store the mirror has never heard of sees an empty list.
      const known = principal.kind === 'admin' ? health : health.filter((h) => h.hasToken || h.lastWebhookAt || h.lastFetchAt);
      // The app's lifecycle as GET /v1/stores tells it (install times, scopes, token fingerprint),
      // so the console's stores page needs this one request only.
      const describedBy = new Map(names.map((n) => [n['storeId'] as number, n]));
      const logHead = Number(head?.head ?? 0);
      return c.json(
        {
          logHead,
          projection: { position: Number(head?.position ?? 0), lagRecords: Number(head?.lag ?? 0) },
          rebuild: principal.kind === 'admin' ? await readRebuild(db, logHead) : null,
          stores: known.map((h) => {
            const d = describedBy.get(h.storeId);
            return {
              ...h,
              // Enrichment alone cannot tell an uninstalled store from one never given a token.
              status: d?.['status'] === 'uninstalled' ? 'uninstalled' : h.status,
              storeName: (d?.['storeName'] as string | null | undefined) ?? null,
              installedAt: (d?.['installedAt'] as string | null | undefined) ?? null,
              uninstalledAt: (d?.['uninstalledAt'] as string | null | undefined) ?? null,
              scopes: (d?.['scopes'] as string[] | null | undefined) ?? null,
              tokenFingerprint: (d?.['tokenFingerprint'] as string | null | undefined) ?? null,
              catchUp: (d?.['catchUp'] as 'backfill' | 'reconcile' | null | undefined) ?? null,
              retryAt: iso(h.retryAt),
              lastWebhookAt: iso(h.lastWebhookAt),
              lastFetchAt: iso(h.lastFetchAt),
              lastReconcileAt: iso(h.lastReconcileAt),
            };
          }),
        },
        200,
      );
    },
  );

  addGetRoute(
    app,
    {
      path: '/v1/stores/{storeId}/lag-history',
      tag: 'operations',
      summary: "The store's lag over the last hour, per stage",
      description:
        'Sampled by this server every few seconds and kept in its memory for an hour (so it starts empty after a restart). ' +
        'Oldest first.',
      params: storeParams,
      query: z.object({
        minutes: decimalParam(1, 60, 'must be a number of minutes from 1 to 60')
          .default(60)
          .openapi({ type: 'integer', minimum: 1, maximum: 60, default: 60, description: 'how far back' }),
      }),
      response: lagHistorySchema,
      responseDescription: 'samples, oldest first',
    },
    async (c) => {
      const { minutes } = valid<{ minutes: number }>(c, 'query');
      const since = new Date(Date.now() - minutes * 60_000);
      const samples = lagHistory?.read(c.get('storeId'), since) ?? [];
      return c.json(
        {
          intervalSeconds: (lagHistory?.intervalMs ?? 0) / 1000,
          samples: samples.map((s) => ({ at: s.at.toISOString(), enrichment: s.enrichment, projection: s.projection })),
        },
        200,
      );
    },
  );

  addGetRoute(
    app,
    {
      path: '/v1/stores/{storeId}/parked',
      tag: 'operations',
      summary: "The store's parked webhooks",
      description:
        'Webhooks whose entity could not be fetched after several tries (a 4xx other than 429, a document the mirror cannot ' +
        'read, a feature the store has switched off). They wait here, oldest first, until a retry fetches them. Up to 1,000 ' +
        'a page: follow `nextAfter` for the rest.',
      params: storeParams,
      query: z.object({
        limit: decimalParam(1, 1000)
          .default(1000)
          .openapi({ type: 'integer', minimum: 1, maximum: 1000, default: 1000, description: 'rows per page, in decimal digits' }),
        after: decimalParam(1, Number.MAX_SAFE_INTEGER, 'must be a parked webhook id: an integer ≥ 1 in decimal digits')
          .optional()
          .openapi({
            type: 'integer',
            minimum: 1,
            description: 'parked webhooks with a higher id than this (the previous page’s nextAfter)',
          }),
      }),
      response: z.object({ data: z.array(parkedSchema), nextAfter: z.number().int().nullable() }).openapi('ParkedList'),
      responseDescription: 'open parked webhooks, oldest first',
    },
    async (c) => {
      const { limit, after } = valid<{ limit: number; after?: number }>(c, 'query');
      const { rows, next } = idPage(
        await execRows<{
          id: number;
          position: string | number;
          event_type: string | null;
          entity_kind: string | null;
          entity_id: string | null;
          error: string;
          attempts: number;
          parked_at: Date | string;
        }>(
          db,
          sql`select p.id, p.position, l.event_type, p.entity_kind, p.entity_id, p.error, p.attempts, p.parked_at
            from parked_events p left join event_log l on l.position = p.position
            where p.store_id = ${c.get('storeId')} and p.resolved_at is null and p.id > ${after ?? 0}
            order by p.id limit ${limit + 1}`,
        ),
        limit,
      );
      return c.json(
        {
          nextAfter: next,
          data: rows.map((r) => ({
            id: r.id,
            position: Number(r.position),
            eventType: r.event_type,
            entity: publicKindName(r.entity_kind),
            entityId: r.entity_id,
            error: r.error,
            attempts: r.attempts,
            parkedAt: new Date(r.parked_at).toISOString(),
          })),
        },
        200,
      );
    },
  );

  const openParked = (storeId: number, id?: number) =>
    db
      .select({ id: parkedEventsTable.id })
      .from(parkedEventsTable)
      .where(
        and(
          eq(parkedEventsTable.storeId, storeId),
          isNull(parkedEventsTable.resolvedAt),
          id === undefined ? undefined : eq(parkedEventsTable.id, id),
        ),
      )
      .orderBy(asc(parkedEventsTable.id));

  addActionRoute(
    app,
    {
      method: 'post',
      path: '/v1/stores/{storeId}/parked/{id}/retry',
      tag: 'operations',
      summary: 'Retry one parked webhook (admin token only)',
      description:
        "Fetches the webhook's entity from Ecwid again. On success the snapshot (or tombstone) is appended and the webhook leaves " +
        'the parked list; on failure it stays, with the new error and one more attempt.',
      params: z.object({ storeId: storeIdParam, id: parkedIdParam }),
      status: 200,
      response: retryResultSchema,
      responseDescription: 'the outcome',
    },
    async (c, { params }) => {
      requireAdmin(c, 'retrying parked webhooks');
      const id = params['id'] as number;
      const storeId = c.get('storeId');
      if ((await openParked(storeId, id)).length === 0) throw new AppError('NOT_FOUND', `no open parked webhook ${id} in store ${storeId}`);
      return c.json({ results: await needActions().retryParked(storeId, [id]) }, 200);
    },
  );

  addActionRoute(
    app,
    {
      method: 'post',
      path: '/v1/stores/{storeId}/parked/retry',
      tag: 'operations',
      summary: "Retry all of the store's parked webhooks (admin token only)",
      description: 'As retrying each one, oldest first. The answer lists every outcome.',
      params: storeParams,
      status: 200,
      response: retryResultSchema,
      responseDescription: 'each outcome',
    },
    async (c) => {
      requireAdmin(c, 'retrying parked webhooks');
      const storeId = c.get('storeId');
      const ids = (await openParked(storeId)).map((r) => r.id);
      return c.json({ results: ids.length === 0 ? [] : await needActions().retryParked(storeId, ids) }, 200);
    },
  );

  const verifyBody = (state: VerifyState) => ({
    ...state,
    startedAt: state.startedAt.toISOString(),
    finishedAt: iso(state.finishedAt),
  });

  addActionRoute(
    app,
    {
      method: 'post',
      path: '/v1/stores/{storeId}/verify',
      tag: 'operations',
      summary: 'Compare the store with Ecwid now (admin token only)',
      description:
        'Starts `mirror verify` for the store in this server: every kind is listed in Ecwid and compared with the mirror, and ' +
        'nothing is changed. It runs in the background (a large store takes minutes, under the rate limit): poll ' +
        '`GET …/verify`. A verify already running is not started twice.',
      params: storeParams,
      status: 202,
      response: verifySchema,
      responseDescription: 'started (or already running)',
    },
    async (c) => {
      requireAdmin(c, 'verify');
      return c.json(verifyBody(needActions().startVerify(c.get('storeId'))), 202);
    },
  );

  addGetRoute(
    app,
    {
      path: '/v1/stores/{storeId}/verify',
      tag: 'operations',
      summary: "The store's latest verify: what differs from Ecwid",
      description:
        'Per kind: ids in Ecwid but not in the mirror (missing), newer in Ecwid (stale), deleted in Ecwid but live here (missed ' +
        'deletes), deleted here but live in Ecwid (healed tombstones), with up to 20 ids of each. `status` is `none`, with no ' +
        'kinds, until one was started on this server.',
      params: storeParams,
      response: verifySchema,
      responseDescription: 'the latest verify',
    },
    async (c) => {
      const state = actions?.verifyState(c.get('storeId'));
      // None yet is a state of the store's verify, not a missing page: a console asking every
      // few seconds would otherwise log an error each time.
      if (!state) return c.json({ status: 'none', startedAt: null, finishedAt: null, error: null, kinds: [] }, 200);
      return c.json(verifyBody(state), 200);
    },
  );

  addGetRoute(
    app,
    {
      path: '/v1/stores/{storeId}/backfill',
      tag: 'operations',
      summary: "The store's backfill, kind by kind",
      description: 'Each kind: the run in progress, or the last one (`mirror backfill`, or the demo).',
      params: storeParams,
      response: backfillSchema,
      responseDescription: 'one row per kind',
    },
    async (c) => {
      const rows = await db
        .select()
        .from(backfillStateTable)
        .where(eq(backfillStateTable.storeId, c.get('storeId')));
      // In the catalogue's order (the order a backfill walks them), unknown kinds last.
      const rank = (entity: string) => (isKind(entity) ? kinds.indexOf(entity) : kinds.length);
      rows.sort((a, b) => rank(a.entity) - rank(b.entity) || a.entity.localeCompare(b.entity));
      return c.json(
        {
          data: rows.map((r) => {
            const details = (r.details ?? {}) as { phase?: unknown; total?: unknown };
            return {
              entity: publicKindName(r.entity),
              phase: typeof details.phase === 'string' ? details.phase : r.completedAt ? 'done' : 'scan',
              offset: r.offset,
              total: typeof details.total === 'number' ? details.total : null,
              startedAt: iso(r.startedAt),
              completedAt: iso(r.completedAt),
              watermark: iso(r.watermark),
            };
          }),
        },
        200,
      );
    },
  );
}

/** A rebuild in progress: its checkpoints (`rebuild`, `rebuild:<share>`, `rebuild:tail`) against the log head. */
async function readRebuild(db: Db, head: number) {
  const rows = await execRows<{ name: string; position: string | number; updated_at: Date | string }>(
    db,
    sql`select name, position, updated_at from consumer_checkpoints where name like 'rebuild:%' or name = 'rebuild'`,
  );
  if (rows.length === 0) return null;
  const shares = rows.filter((r) => r.name !== 'rebuild');
  const tail = shares.find((r) => r.name === 'rebuild:tail');
  const positions = (tail ? [tail] : shares).map((r) => Number(r.position));
  const updated = Math.max(...rows.map((r) => new Date(r.updated_at).getTime()));
  return {
    position: positions.length > 0 ? Math.min(...positions) : 0,
    head,
    updatedAt: new Date(updated).toISOString(),
    active: Date.now() - updated < 10 * 60_000,
  };
}

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}
