import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { createSimApp } from './http/create-sim-app.ts';
import { createOAuthRoutes, type SimOAuth } from './http/routes/oauth-routes.ts';
import { createFaultState, type FaultOptions } from './http/faults.ts';
import { createRateLimiter } from './http/rate-limiter.ts';
import { createRequestStats, type RequestStats } from './http/request-stats.ts';
import { createRandom } from './random.ts';
import type { SimMoney } from './documents/money.ts';
import { defaultSize, generateStore, type SimSize } from './store/generate-store.ts';
import type { SimStore } from './store/sim-store.ts';

export type SimStoreOptions = {
  storeId: number;
  token: string;
  seed?: number;
  size?: Partial<SimSize>;
  /** Currency, time zone and taxes; by default one of four presets, chosen by seed. */
  money?: SimMoney;
  /** The access scopes the store granted (default: every one); others are refused with 403 INSUFFICIENT_APP_SCOPE. */
  scopes?: readonly string[];
};

export type SimulatorOptions = {
  stores: SimStoreOptions[];
  /** Signs webhooks; random when not given. */
  clientSecret?: string;
  /** Per token, within a sliding 60 s window; Ecwid's is 600 (docs/ecwid.md §4.2). */
  rateLimitPerMinute?: number;
  faults?: Partial<FaultOptions>;
  /** Milliseconds since the epoch; stamps live changes and drives the rate limiter. */
  now?: () => number;
  /** How long a batch stays QUEUED before it runs. */
  batchDelayMs?: number;
  /** Seeds fault decisions (which request fails), independent of the store data. */
  faultSeed?: number;
  /** The app's OAuth client_id (`/api/oauth/authorize` and `/token`); its client_secret is `clientSecret`. */
  clientId?: string;
  /** Scopes Ecwid configured for the app; default: every read scope the mirror asks for. */
  appScopes?: readonly string[];
  /** How long an authorization code can be exchanged (Ecwid: a few minutes). */
  oauthCodeTtlMs?: number;
};

export type SimServer = {
  /** REST API root (`…/api/v3`), what ECWID_API_BASE_URL takes. */
  url: string;
  /** OAuth root (`…/api/oauth`, with `/authorize` and `/token`), what ECWID_OAUTH_BASE_URL takes. */
  oauthUrl: string;
  port: number;
  close(): Promise<void>;
};

export type Simulator = {
  /** Serves `/api/v3/{storeId}/...`; call `app.request()` in tests. */
  app: Hono;
  /** Starts a real HTTP server on 127.0.0.1 (port 0 picks a free one). */
  listen(port?: number): Promise<SimServer>;
  /** Live, mutable data of one store; throws for an unknown id. */
  store(storeId: number): SimStore;
  stats: RequestStats;
  setFaults(faults: Partial<FaultOptions>): void;
  clientSecret: string;
  /** The app's client_id for the OAuth endpoints. */
  clientId: string;
  /** The OAuth side: whose merchant is signed in (authorize grants for that store), and counts. */
  oauth: SimOAuth;
  now: () => number;
};

const defaultAppScopes = [
  'read_store_profile',
  'read_catalog',
  'read_orders',
  'read_customers',
  'read_discount_coupons',
  'read_promotion',
  'read_reviews',
  'read_invoices',
];

/** An in-memory Ecwid: REST API v3 for one or more generated stores, with faults on demand. */
export function createSimulator(options: SimulatorOptions): Simulator {
  const now = options.now ?? Date.now;
  const stores = new Map<number, SimStore>();
  for (const store of options.stores) {
    const generated = generateStore({
      storeId: store.storeId,
      token: store.token,
      seed: store.seed ?? store.storeId,
      size: { ...defaultSize, ...store.size },
      now,
      money: store.money,
    });
    if (store.scopes) generated.scopes = new Set(store.scopes);
    stores.set(store.storeId, generated);
  }
  const stats = createRequestStats();
  const clientSecret = options.clientSecret ?? randomBytes(16).toString('hex');
  const clientId = options.clientId ?? 'mirror-sim-app';
  const oauth: SimOAuth = { merchantStoreId: options.stores[0]?.storeId, stats: { authorized: 0, exchanged: 0, refused: 0 } };
  const faults = createFaultState(options.faults);
  const closing = new AbortController();
  const app = createSimApp({
    stores,
    stats,
    limiter: createRateLimiter({ limit: options.rateLimitPerMinute ?? 600, now }),
    faults,
    random: createRandom(options.faultSeed ?? 1),
    now,
    closing: closing.signal,
    batchDelayMs: options.batchDelayMs ?? 100,
  });
  app.route(
    '/api/oauth',
    createOAuthRoutes({
      stores,
      now,
      state: oauth,
      options: { clientId, clientSecret, appScopes: options.appScopes ?? defaultAppScopes, codeTtlMs: options.oauthCodeTtlMs ?? 300_000 },
    }),
  );

  return {
    app,
    clientSecret,
    clientId,
    oauth,
    stats,
    now,
    setFaults: faults.set,
    store(storeId) {
      const store = stores.get(storeId);
      if (!store) throw new Error(`the simulator has no store ${storeId}`);
      return store;
    },
    listen(port = 0) {
      return new Promise((resolve) => {
        const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info: AddressInfo) => {
          resolve({
            url: `http://127.0.0.1:${info.port}/api/v3`,
            oauthUrl: `http://127.0.0.1:${info.port}/api/oauth`,
            port: info.port,
            close: () =>
              new Promise<void>((done) => {
                closing.abort();
                server.close(() => done());
                if ('closeAllConnections' in server) server.closeAllConnections();
              }),
          });
        });
      });
    },
  };
}
