import { randomBytes } from 'node:crypto';
import type { ServerType } from '@hono/node-server';
import { createApiKey, listen, startApi, type ApiConfig } from '@mirror/api';
import type { Logger } from '@mirror/core';
import type { Database } from '@mirror/db';
import { createActivity, createSimulator, type Activity } from '@mirror/ecwid-sim';
import { createIngest, type IngestConfig } from '@mirror/ingest';
import {
  addStoreToken,
  backfill,
  createClientFactory,
  runEnrichment,
  runProjection,
  syncEnvTokens,
  workerRateLimitWaitMs,
  type StoreToken,
} from '@mirror/projector';
import { Hono } from 'hono';
import { apiHooks, createMirrorMetrics, ecwidHooks, ingestHooks, mountMetrics } from './metrics.ts';

export type StartAllConfig = Pick<
  IngestConfig,
  | 'PORT'
  | 'HOST'
  | 'ECWID_WEBHOOK_VERIFY'
  | 'INGEST_BODY_LIMIT_BYTES'
  | 'INGEST_BATCH_MAX'
  | 'INGEST_BATCH_WINDOW_MS'
  | 'INGEST_PARALLEL_MIN_BATCH'
  | 'INGEST_APPEND_TIMEOUT_MS'
> &
  Pick<ApiConfig, 'MIRROR_ADMIN_TOKEN' | 'API_CURSOR_SECRET' | 'API_KEY_CACHE_MS'> & {
    ECWID_CLIENT_SECRET: string | undefined;
    ECWID_API_BASE_URL: string;
    ECWID_RATE_LIMIT_PER_MINUTE: number;
    ENRICHMENT_CONCURRENCY: number;
    ENRICHMENT_POLL_MS: number;
    ENRICHMENT_MAX_ATTEMPTS: number;
    ENRICHMENT_BATCH_SIZE: number;
    PROJECTION_IDLE_MS: number;
    MIRROR_DEMO_RATE: number;
    MIRROR_DEMO_SEED: number;
  };

export type Demo = { storeId: number; apiKey: string };

export type RunningMirror = {
  port: number;
  /** Set when no store was configured and a simulated one was started. */
  demo: Demo | undefined;
  close(): Promise<void>;
};

const demoStoreId = 1003;

/**
 * Ingest, projector and query API in one process on one port. With stores configured it mirrors
 * them; without, it starts a simulated Ecwid store, backfills it and lets it send live webhooks,
 * so a newcomer sees data within seconds.
 */
export async function startAll(
  database: Database,
  config: StartAllConfig,
  stores: readonly StoreToken[],
  log: Logger,
): Promise<RunningMirror> {
  const metrics = createMirrorMetrics(database.db);
  const demoMode = stores.length === 0;

  // The demo store signs its webhooks with a secret made here, unless one was given.
  const clientSecret = config.ECWID_CLIENT_SECRET ?? (demoMode ? randomBytes(16).toString('hex') : undefined);
  const demoToken = `secret_demo_${randomBytes(12).toString('hex')}`;
  const sim = demoMode
    ? createSimulator({ stores: [{ storeId: demoStoreId, token: demoToken, seed: config.MIRROR_DEMO_SEED }], clientSecret })
    : undefined;
  const simServer = sim ? await sim.listen(0) : undefined;
  const apiBaseUrl = simServer?.url ?? config.ECWID_API_BASE_URL;

  if (demoMode) await addStoreToken(database.db, demoStoreId, demoToken);
  else await syncEnvTokens(database.db, stores);

  const ingest = createIngest(
    database,
    { ...config, ECWID_CLIENT_SECRET: clientSecret },
    log.child({ component: 'ingest' }),
    ingestHooks(metrics),
  );
  const api = startApi(database, config, log.child({ component: 'api' }), apiHooks(metrics));
  const root = new Hono();
  mountMetrics(root, metrics);
  root.route('/', ingest.app);
  root.route('/', api);
  const { server, port } = await listen(root, config.PORT, config.HOST);

  const { limiter, onAttempt } = ecwidHooks(metrics, config.ECWID_RATE_LIMIT_PER_MINUTE);
  const clientFor = createClientFactory({
    baseUrl: apiBaseUrl,
    limiter,
    onAttempt,
    log: log.child({ component: 'ecwid' }),
    maxRateLimitWaitMs: workerRateLimitWaitMs,
  });
  const controller = new AbortController();
  const workers = Promise.all([
    runEnrichment({
      db: database.db,
      log: log.child({ stage: 'enrichment' }),
      clientFor,
      signal: controller.signal,
      concurrency: config.ENRICHMENT_CONCURRENCY,
      pollIntervalMs: config.ENRICHMENT_POLL_MS,
      maxAttempts: config.ENRICHMENT_MAX_ATTEMPTS,
      batchSize: config.ENRICHMENT_BATCH_SIZE,
    }),
    runProjection({
      db: database.db,
      log: log.child({ stage: 'projection' }),
      signal: controller.signal,
      idleMs: config.PROJECTION_IDLE_MS,
    }),
  ]);
  log.info({ port, stores: stores.length, demo: demoMode }, 'mirror running: ingest, projector and query API');

  let demo: Demo | undefined;
  let activity: Activity | undefined;
  let demoWork: Promise<void> = Promise.resolve();
  if (sim) {
    const { key } = await createApiKey(database.db, { storeId: demoStoreId, label: 'demo' });
    demo = { storeId: demoStoreId, apiKey: key };
    activity = createActivity(sim, {
      storeId: demoStoreId,
      target: `http://127.0.0.1:${port}/webhooks/ecwid`,
      ratePerSecond: config.MIRROR_DEMO_RATE,
    });
    const started = activity;
    demoWork = (async () => {
      const summary = await backfill({
        db: database.db,
        storeId: demoStoreId,
        client: clientFor(demoStoreId, demoToken),
        signal: controller.signal,
      });
      log.info({ storeId: demoStoreId, snapshots: summary.reduce((n, s) => n + s.snapshots, 0) }, 'demo store backfilled');
      if (!controller.signal.aborted) started.start();
    })().catch((err: unknown) => log.error({ err }, 'demo backfill failed'));
  }

  return {
    port,
    demo,
    async close() {
      controller.abort();
      await demoWork;
      await activity?.stop();
      await closeServer(server);
      await ingest.drain();
      await workers;
      await simServer?.close();
    },
  };
}

function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Keep-alive connections would hold close() open; the handlers above have finished.
    if ('closeAllConnections' in server) server.closeAllConnections();
  });
}
