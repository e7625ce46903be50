import { randomBytes } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import { AppError, type Logger } from '@mirror/core';
import type { Db } from '@mirror/db';
import { routePath } from 'hono/route';
import type { ApiEnv } from './api-env.ts';
import { authenticate } from './auth.ts';
import { createCursorCodec } from './cursor.ts';
import { docsPage } from './docs-page.ts';
import { entities } from './entities.ts';
import { addEntityRoutes } from './entity-routes.ts';
import { errorResponse, validationError } from './on-error.ts';
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
};

/** The query API over the mirrored tables and the log, under /v1 (read-only but for personal-data requests). */
export function createApiApp(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const { db, log, onRequest } = deps;
  const codec = createCursorCodec(deps.cursorSecret ?? randomBytes(32));
  const app = new OpenAPIHono<ApiEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target);
    },
  });

  app.onError((err, c) => {
    if (!(err instanceof AppError)) log.error({ err, route: routePath(c, -1) }, 'request failed');
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
  for (const def of entities) addEntityRoutes(app, def, { db, codec });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'MIRROR_ADMIN_TOKEN (every store) or a store key from `pnpm mirror api-keys create --store <id>`',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Ecwid store mirror — query API',
      version: '1.0.0',
      description:
        'Read access to the mirrored Ecwid stores and their event log (and, for the admin token, personal-data requests: the one thing ' +
        'it can ask for). Money fields are decimal strings (exact), times ISO 8601 (UTC). ' +
        'Lists use keyset pagination: pass `nextCursor` back as `cursor`. Lists omit `doc` unless includeDoc=true; get-by-id always includes it. ' +
        'Parameters are read exactly or refused with a 400 naming the parameter: an unknown or repeated query parameter, an escape that is not ' +
        'UTF-8 or a NUL, a number not in plain decimal digits, or a date that does not exist.',
    },
  });
  app.get('/docs', (c) => c.html(docsPage('/openapi.json')));

  return app;
}

function storeNotFound(storeId: number): AppError {
  return new AppError('NOT_FOUND', `store ${storeId} not found`);
}
