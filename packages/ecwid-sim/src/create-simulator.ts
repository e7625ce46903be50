import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { createSimApp } from './http/create-sim-app.ts';
import { createFaultState, type FaultOptions } from './http/faults.ts';
import { createRateLimiter } from './http/rate-limiter.ts';
import { createRequestStats, type RequestStats } from './http/request-stats.ts';
import { createRandom } from './random.ts';
import { defaultSize, generateStore, type SimSize } from './store/generate-store.ts';
import type { SimStore } from './store/sim-store.ts';

export type SimStoreOptions = {
  storeId: number;
  token: string;
  seed?: number;
  size?: Partial<SimSize>;
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
};

export type SimServer = { url: string; port: number; close(): Promise<void> };

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
  now: () => number;
};

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
    });
    if (store.scopes) generated.scopes = new Set(store.scopes);
    stores.set(store.storeId, generated);
  }
  const stats = createRequestStats();
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

  return {
    app,
    clientSecret: options.clientSecret ?? randomBytes(16).toString('hex'),
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
