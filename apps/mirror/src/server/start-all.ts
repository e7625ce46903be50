import { randomBytes } from 'node:crypto';
import type { ServerType } from '@hono/node-server';
import { createApiKey, startApi, type ApiOptions } from '@mirror/api';
import type { Logger } from '@mirror/core';
import { listen } from '@mirror/core/http';
import { createLogSignal, listenForAppends, type Database } from '@mirror/db';
import { createActivity, createSimulator, type Activity } from '@mirror/ecwid-sim';
import { createIngest, type IngestOptions } from '@mirror/ingest';
import {
  addStoreToken,
  backfill,
  createClientFactory,
  runEnrichment,
  runPersonalDataWorker,
  runProjection,
  runReconcileSchedule,
  syncEnvTokens,
  workerRateLimitWaitMs,
} from '@mirror/projector';
import { Hono } from 'hono';
import type { DemoOptions, EcwidOptions, EnrichmentOptions, HttpOptions, ProjectionOptions, ReconcileOptions } from '../config.ts';
import { apiHooks, createMirrorMetrics, ecwidHooks, ingestHooks, mountMetrics, reconcileHooks } from './metrics.ts';

export type StartAllOptions = {
  http: HttpOptions;
  /** With no stores configured, a simulated demo store is mirrored. */
  ecwid: EcwidOptions;
  /** Demo mode: `clientSecret` undefined means the demo makes one. */
  ingest: IngestOptions;
  api: ApiOptions;
  enrichment: EnrichmentOptions;
  projection: ProjectionOptions;
  reconcile: ReconcileOptions;
  demo: DemoOptions;
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
export async function startAll(database: Database, options: StartAllOptions, log: Logger): Promise<RunningMirror> {
  const { stores } = options.ecwid;
  const metrics = createMirrorMetrics(database.db);
  const demoMode = stores.length === 0;

  // The demo store signs its webhooks with a secret made here, unless one was given.
  const clientSecret = options.ingest.clientSecret ?? (demoMode ? randomBytes(16).toString('hex') : undefined);
  const demoToken = `secret_demo_${randomBytes(12).toString('hex')}`;
  const sim = demoMode
    ? createSimulator({ stores: [{ storeId: demoStoreId, token: demoToken, seed: options.demo.seed }], clientSecret })
    : undefined;
  const simServer = sim ? await sim.listen(0) : undefined;
  const apiBaseUrl = simServer?.url ?? options.ecwid.apiBaseUrl;

  if (demoMode) await addStoreToken(database.db, demoStoreId, demoToken);
  else await syncEnvTokens(database.db, stores);

  // Wakes enrichment when ingest (here, or in another process through NOTIFY) commits webhooks,
  // and projection when enrichment commits snapshots; polling stays as the fallback.
  const appended = createLogSignal();
  const stopListening = await listenForAppends(database, appended);
  const hooks = ingestHooks(metrics);
  const ingest = createIngest(database, { ...options.ingest, clientSecret }, log.child({ component: 'ingest' }), {
    ...hooks,
    onFlush: (info) => {
      hooks.onFlush(info);
      if (!info.failed) appended.notify(['webhook']);
    },
  });
  const api = startApi(database, options.api, log.child({ component: 'api' }), apiHooks(metrics));
  const root = new Hono();
  mountMetrics(root, metrics);
  root.route('/', ingest.app);
  root.route('/', api);
  const { server, port } = await listen(root, options.http.port, options.http.host);

  const { limiter, onAttempt, onFetched, onNote } = ecwidHooks(metrics, options.ecwid.ratePerMinute);
  const clientFor = createClientFactory({
    baseUrl: apiBaseUrl,
    limiter,
    onAttempt,
    log: log.child({ component: 'ecwid' }),
    maxRateLimitWaitMs: workerRateLimitWaitMs,
  });
  const controller = new AbortController();
  const workers = Promise.all([
    runPersonalDataWorker({ db: database.db, log: log.child({ stage: 'personal-data' }), signal: controller.signal }),
    runEnrichment({
      db: database.db,
      log: log.child({ stage: 'enrichment' }),
      clientFor,
      signal: controller.signal,
      concurrency: options.enrichment.concurrency,
      pollIntervalMs: options.enrichment.pollMs,
      maxAttempts: options.enrichment.maxAttempts,
      batchSize: options.enrichment.batchSize,
      onFetched,
      onNote,
      appended,
    }),
    runProjection({
      db: database.db,
      log: log.child({ stage: 'projection' }),
      signal: controller.signal,
      idleMs: options.projection.idleMs,
      appended,
    }),
  ]);
  // The sweep that finds what webhooks missed (docs/reconcile.md). The demo store is swept once
  // its backfill is done (a backfill counts as a full run), not beside it.
  let sweep: Promise<void> = Promise.resolve();
  const startSweep = () => {
    sweep = runReconcileSchedule({
      db: database.db,
      log: log.child({ stage: 'reconcile' }),
      signal: controller.signal,
      baseUrl: apiBaseUrl,
      limiter,
      ratePerMinute: options.ecwid.ratePerMinute,
      maxShare: options.reconcile.maxShare,
      intervalMs: options.reconcile.intervalMs,
      fullIntervalMs: options.reconcile.fullIntervalMs,
      maxRateLimitWaitMs: workerRateLimitWaitMs,
      onAttempt,
      ...reconcileHooks(metrics),
    });
  };
  if (!demoMode) startSweep();
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
      ratePerSecond: options.demo.rate,
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
      if (!controller.signal.aborted) {
        started.start();
        startSweep();
      }
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
      await sweep;
      await stopListening();
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
