import { randomBytes } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import { AppError, type Logger } from '@mirror/core';
import type { Db } from '@mirror/db';
import { routePath } from 'hono/route';
import type { ApiEnv } from './api-env.ts';
import { authenticate } from './auth.ts';
import { createCursorCodec } from './cursor.ts';
import { mountConsole } from '@mirror/console';
import { addApiKeyRoutes } from './api-key-routes.ts';
import { mountDocs } from './docs-page.ts';
import { entities } from './entities.ts';
import { addEntityRoutes } from './entity-routes.ts';
import { errorResponse, unexpectedErrorLogFields, validationError } from './on-error.ts';
import type { LagHistory } from './lag-history.ts';
import { addOperationsRoutes, type OperatorActions } from './operations-routes.ts';
import { addPersonalDataRoutes } from './personal-data-routes.ts';
import { addReconcileRoutes } from './reconcile-routes.ts';
import { addStoreRoutes } from './store-routes.ts';
import { storeExists } from './stores.ts';

export type RequestInfo = { method: string; route: string; status: number; durationMs: number };

export type ApiDeps = {
  db: Db;
  /** Reads every store; compared in constant time. Without it only per-store keys work. */
  adminToken?: string | undefined;
  log: Logger;
  /** Signs cursors. Without it a random one per process: cursors then die with the process. */
  cursorSecret?: string | undefined;
  /** How long an API key lookup is reused (ms, default 5000): a revoked key works at most this long. */
  keyCacheMs?: number;
  /** Called once per request, for metrics: the route pattern (not the URL), status and duration. */
  onRequest?: (info: RequestInfo) => void;
  /** The clock (ms) for the key cache; tests pass a fake. */
  now?: () => number;
  /** Samples of each store's lag, for the console's chart (GET /v1/stores/{id}/lag-history). */
  lagHistory?: LagHistory | undefined;
  /** Retry and verify, which call Ecwid: supplied by the server; without them those routes answer 503. */
  actions?: OperatorActions | undefined;
};

/**
 * The query API over the mirrored tables and the log, under /v1, with the operator console at /
 * and the API reference at /docs. Writes only what an operator asks for: personal-data
 * requests, store keys, retries of parked webhooks.
 */
export function createApiApp(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const { db, log, onRequest } = deps;
  const codec = createCursorCodec(deps.cursorSecret ?? randomBytes(32));
  const app = new OpenAPIHono<ApiEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target);
    },
  });

  app.onError((err, c) => {
    if (!(err instanceof AppError)) log.error({ route: routePath(c, -1), ...unexpectedErrorLogFields(err) }, 'request failed');
    return errorResponse(c, err);
  });
  app.notFound((c) => errorResponse(c, new AppError('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`)));

  if (onRequest) {
    app.use(async (c, next) => {
      const started = performance.now();
      await next();
      onRequest({ method: c.req.method, route: routePath(c, -1), status: c.res.status, durationMs: performance.now() - started });
    });
  }

  app.use(
    '/v1/*',
    authenticate({
      db,
      adminToken: deps.adminToken,
      ...(deps.keyCacheMs !== undefined && { keyCacheMs: deps.keyCacheMs }),
      ...(deps.now && { now: deps.now }),
    }),
  );

  // Stores never disappear from the mirror (rows are soft-deleted), so a store seen once is known.
  const knownStores = new Set<number>();
  app.use('/v1/stores/:storeId/*', async (c, next) => {
    const raw = c.req.param('storeId');
    if (!/^\d{1,15}$/.test(raw)) {
      throw new AppError('BAD_REQUEST', 'invalid path parameter "storeId": must be an integer id: 1 to 15 decimal digits', {
        details: { parameter: 'storeId' },
      });
    }
    const storeId = Number(raw);
    const principal = c.get('principal');
    // Another store's key gets exactly what a missing store gets: no hint that it exists.
    if (principal.kind === 'store' && principal.storeId !== storeId) throw storeNotFound(storeId);
    if (!knownStores.has(storeId)) {
      if (!(await storeExists(db, storeId))) throw storeNotFound(storeId);
      knownStores.add(storeId);
    }
    c.set('storeId', storeId);
    await next();
  });

  addStoreRoutes(app, { db, codec });
  addReconcileRoutes(app, { db, codec });
  addPersonalDataRoutes(app, { db, codec });
  addOperationsRoutes(app, { db, lagHistory: deps.lagHistory, actions: deps.actions });
  addApiKeyRoutes(app, { db });
  for (const def of entities) addEntityRoutes(app, def, { db, codec });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'MIRROR_ADMIN_TOKEN (every store) or a store key from `pnpm mirror api-keys create --store <id>`',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    tags: [
      { name: 'stores', description: 'The stores your key may read.' },
      { name: 'events', description: "The log itself: follow a store's changes as they happen." },
      { name: 'operations', description: 'How the mirror is doing (the operator console reads these) and what an operator can do.' },
      { name: 'api-keys', description: 'Keys that read one store each. The admin token manages them.' },
      { name: 'reconcile', description: 'What the comparisons with Ecwid found and repaired.' },
      { name: 'personal-data', description: "Erasures and exports of a customer's data." },
    ],
    info: {
      title: 'Ecwid store mirror — query API',
      version: '1.0.0',
      description:
        'Your Ecwid stores, as mirrored into your own Postgres: orders, products, customers and the rest, each with its full history ' +
        'of changes, plus the change feed of the log itself.\n\n' +
        '**Keys.** Every call needs `Authorization: Bearer <key>` (press *Authorize*). A store key (`pnpm mirror api-keys create ' +
        '--store <id>`) reads its own store; the admin token (`MIRROR_ADMIN_TOKEN`) reads every store and may also act: retry parked ' +
        'webhooks, verify a store against Ecwid, manage keys and ask for personal-data erasures and exports.\n\n' +
        '**Reading the answers.** Money is a decimal string (exact), times are ISO 8601 in UTC. Lists come in pages: pass ' +
        '`nextCursor` back as `cursor` for the next one. Lists leave out the full Ecwid document (`doc`) unless you ask with ' +
        '`includeDoc=true`; reading one item always includes it.\n\n' +
        '**Strict parameters.** A parameter that is unknown, repeated, not plain decimal digits, not valid UTF-8, or a date that does ' +
        'not exist is refused with a 400 whose `error.parameter` names it.',
    },
  });
  mountDocs(app);
  mountConsole(app);

  return app;
}

function storeNotFound(storeId: number): AppError {
  return new AppError('NOT_FOUND', `store ${storeId} not found`);
}
