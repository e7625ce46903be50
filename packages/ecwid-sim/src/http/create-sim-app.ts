import { Hono, type Context, type ErrorHandler } from 'hono';
import { routePath } from 'hono/route';
import type { SimStore } from '../store/sim-store.ts';
import { EcwidApiError } from './ecwid-error.ts';
import { injectFailures, shapeResponses, type FaultState } from './faults.ts';
import { gzipAnswers } from './gzip-answers.ts';
import type { createRateLimiter } from './rate-limiter.ts';
import type { createRequestStats } from './request-stats.ts';
import { responseFieldsMiddleware } from './response-fields.ts';
import { createBatchRoutes } from './routes/batch-routes.ts';
import { createCatalogRoutes } from './routes/catalog-routes.ts';
import { createCustomerRoutes } from './routes/customer-routes.ts';
import { createOrderRoutes } from './routes/order-routes.ts';
import { createDeletedRoutes, createStoreRoutes } from './routes/store-routes.ts';
import type { SimEnv } from './sim-env.ts';

export type SimAppDeps = {
  stores: ReadonlyMap<number, SimStore>;
  stats: ReturnType<typeof createRequestStats>;
  limiter: ReturnType<typeof createRateLimiter>;
  faults: FaultState;
  random: () => number;
  now: () => number;
  /** Aborted when the simulator's server closes: releases requests held by the timeout fault. */
  closing: AbortSignal;
  batchDelayMs: number;
};

const prefix = '/api/v3/:storeId';

const onError: ErrorHandler = (err, c) => {
  const error = err instanceof EcwidApiError ? err : new EcwidApiError('INTERNAL_ERROR', 'Internal error');
  return c.json(error.toBody(), error.status);
};

const onNotFound = (c: Context) => c.json(new EcwidApiError('RESOURCE_NOT_FOUND', `No resource at ${c.req.path}`).toBody(), 404);

function bearerToken(header: string | undefined): string {
  return /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '';
}

/**
 * The access scope a request needs (docs/ecwid.md §4, §6): the listing's own scope; invoices
 * need read_invoices; the store documents read_store_profile. Batch sub-requests are not
 * checked (the simulator runs them without auth).
 */
const scopeByListing: Readonly<Record<string, string>> = {
  profile: 'read_store_profile',
  application: 'read_store_profile',
  storage: 'read_store_profile',
  'latest-stats': 'read_store_profile',
  products: 'read_catalog',
  categories: 'read_catalog',
  classes: 'read_catalog',
  orders: 'read_orders',
  carts: 'read_orders',
  customers: 'read_customers',
  customer_groups: 'read_customers',
  discount_coupons: 'read_discount_coupons',
  promotions: 'read_promotion',
  reviews: 'read_reviews',
};

function scopeOf(path: string): string | undefined {
  if (/^\/orders\/[^/]+\/invoices/.test(path)) return 'read_invoices';
  const first = /^\/([a-z_-]+)/.exec(path)?.[1];
  return first === undefined ? undefined : scopeByListing[first];
}

/** The HTTP face of the simulator: Ecwid REST v3 under `/api/v3/{storeId}`. */
export function createSimApp(deps: SimAppDeps): Hono {
  const api = new Hono<SimEnv>();
  const insideStore = new Map<number, Hono<SimEnv>>();
  // Batch sub-requests reach the routes directly: no auth, rate limit or faults on the way.
  function execute(store: SimStore, path: string): Promise<Response> {
    let app = insideStore.get(store.storeId);
    if (!app) {
      app = new Hono<SimEnv>().use(async (c, next) => {
        c.set('store', store);
        await next();
      });
      app.route('/', api).onError(onError).notFound(onNotFound);
      insideStore.set(store.storeId, app);
    }
    return Promise.resolve(app.request(path));
  }
  // `?responseFields=` trims every answer, batch sub-requests included (docs/ecwid.md §4.1).
  api.use(responseFieldsMiddleware);
  api
    .route('/', createDeletedRoutes())
    .route('/', createOrderRoutes())
    .route('/', createCatalogRoutes())
    .route('/', createCustomerRoutes())
    .route('/', createStoreRoutes())
    .route('/', createBatchRoutes({ execute, delayMs: deps.batchDelayMs }));

  // Store resolution, auth, rate limit and faults: the path a client's request takes.
  const scoped = new Hono<SimEnv>();
  scoped.use(async (c, next) => {
    const store = deps.stores.get(Number(c.req.param('storeId')));
    if (!store) throw new EcwidApiError('STORE_NOT_FOUND', `Store ${c.req.param('storeId')} not found`);
    // A token belongs to exactly one store; an uninstalled app's store has none that works.
    const token = bearerToken(c.req.header('authorization'));
    if (store.token === undefined || token !== store.token) {
      throw new EcwidApiError('INVALID_API_TOKEN', 'Invalid access token');
    }
    c.set('store', store);
    c.set('token', token);
    const scope = scopeOf(c.req.path.replace(/^\/api\/v3\/\d+/, ''));
    if (scope && store.scopes && !store.scopes.has(scope)) {
      throw new EcwidApiError('INSUFFICIENT_APP_SCOPE', `The app has no ${scope} access scope in this store`);
    }
    await next();
  });
  scoped.use(async (c, next) => {
    const decision = deps.faults.current.rateLimitBurst
      ? { allowed: false as const, retryAfterSeconds: 10 }
      : deps.limiter.take(c.var.token);
    if (!decision.allowed) {
      c.header('Retry-After', String(decision.retryAfterSeconds));
      throw new EcwidApiError('RATE_LIMITED', 'Too many requests');
    }
    await next();
  });
  scoped.use(injectFailures(deps.faults, deps.random, deps.closing));
  scoped.route('/', api);

  const app = new Hono();
  app.onError(onError).notFound(onNotFound);
  app.use(async (c, next) => {
    const at = deps.now();
    await next();
    // Unmatched paths only reach the catch-all middleware pattern: report them verbatim.
    const route = routePath(c, -1);
    const pattern = route.endsWith('*') ? c.req.path.replace(/^\/api\/v3\/\d+/, '') : route.replace(prefix, '');
    deps.stats.record(bearerToken(c.req.header('authorization')), `${c.req.method} ${pattern}`, at);
  });
  app.use(gzipAnswers());
  app.use(shapeResponses(deps.faults, deps.random));
  app.route(prefix, scoped);
  return app;
}
