import { answerUnknownRoutes, listen, mountHealth } from '@mirror/core/http';
import {
  createClientFactory,
  runCatchUp,
  runEnrichment,
  runProjection,
  runPersonalDataWorker,
  runReconcileSchedule,
  sealPlaintextTokens,
  envTokenHeld,
  envTokenReinstalled,
  honouredBy,
  syncEnvTokens,
  workerRateLimitWaitMs,
} from '@mirror/projector';
import { createLogSignal, listenForAppends } from '@mirror/db';
import type { Command } from 'commander';
import { Hono } from 'hono';
import {
  baseSections,
  ecwidSection,
  enrichmentSection,
  httpSection,
  loadConfig,
  metricsSection,
  personalDataSection,
  projectionSection,
  reconcileSection,
  requireSecretBox,
  secretKeySection,
} from '../config.ts';
import { createMirrorMetrics, ecwidHooks, mountMetrics, reconcileHooks } from '../server/metrics.ts';
import { createRootLogger, onShutdown, openDatabase } from '../runtime.ts';
import { exitTwoOnBadArguments } from './command-kit.ts';

/** `mirror project`: the worker, enrichment and projection in one long-lived process. */
export function registerProject(program: Command): void {
  exitTwoOnBadArguments(
    program
      .command('project')
      .description(
        'run the projector: enrich webhooks into snapshots (Ecwid REST), project them into the entity tables, reconcile each store with Ecwid on a schedule (RECONCILE_INTERVAL), and carry out personal-data requests',
      ),
  ).action(async () => {
    const config = loadConfig(process.env, {
      ...baseSections,
      ecwid: ecwidSection,
      enrichment: enrichmentSection,
      projection: projectionSection,
      reconcile: reconcileSection,
      personalData: personalDataSection,
      metrics: metricsSection,
      http: httpSection,
      secretKey: secretKeySection,
    });
    const box = requireSecretBox(config.secretKey);
    const log = createRootLogger(config.log);
    const database = await openDatabase(config.database, log, { serve: true });
    await database.migrate();
    // Without ECWID_STORES this worker uses the tokens already in store_tokens (syncEnvTokens
    // leaves them alone when given none).
    // One limiter registry for the process: every client of a token shares its budget (docs/ecwid.md §4.2).
    // The metrics count its calls and waits whether or not they are served.
    const metrics = createMirrorMetrics(database.db);
    const { limiter, onAttempt, onFetched, onNote } = ecwidHooks(metrics, config.ecwid.ratePerMinute);
    const clientFor = createClientFactory({
      baseUrl: config.ecwid.apiBaseUrl,
      limiter,
      onAttempt,
      log,
      maxRateLimitWaitMs: workerRateLimitWaitMs,
    });
    await sealPlaintextTokens(database.db, box);
    const env = await syncEnvTokens(database.db, box, config.ecwid.stores, { honoured: honouredBy(clientFor, log) });
    for (const storeId of env.uninstalled) log.warn({ storeId }, envTokenHeld);
    for (const storeId of env.reinstalled) log.info({ storeId }, envTokenReinstalled);
    let server: Awaited<ReturnType<typeof listen>>['server'] | undefined;
    if (config.metrics.port !== undefined) {
      const app = new Hono();
      answerUnknownRoutes(app);
      mountMetrics(app, metrics);
      mountHealth(app, () => database.checkReady());
      const listening = await listen(app, config.metrics.port, config.http.host);
      server = listening.server;
      log.info({ port: listening.port, url: `http://localhost:${listening.port}/metrics` }, 'projector metrics listening');
    }
    const controller = new AbortController();
    const { signal } = controller;
    // Ingest's commits (NOTIFY) wake enrichment, enrichment's wake projection; polling remains.
    const appended = createLogSignal();
    const stopListening = await listenForAppends(database, appended);
    const enrichment = runEnrichment({
      db: database.db,
      log: log.child({ stage: 'enrichment' }),
      clientFor,
      box,
      signal,
      concurrency: config.enrichment.concurrency,
      pollIntervalMs: config.enrichment.pollMs,
      maxAttempts: config.enrichment.maxAttempts,
      batchSize: config.enrichment.batchSize,
      onFetched,
      onNote,
      appended,
      openSession: database.openSession,
    });
    const projection = runProjection({
      db: database.db,
      log: log.child({ stage: 'projection' }),
      signal,
      idleMs: config.projection.idleMs,
      appended,
      openDedicated: database.openDedicated,
    });
    // What webhooks missed, found by asking Ecwid (docs/reconcile.md), within a share of each token's budget.
    const sweep = runReconcileSchedule({
      db: database.db,
      box,
      log: log.child({ stage: 'reconcile' }),
      signal,
      baseUrl: config.ecwid.apiBaseUrl,
      limiter,
      ratePerMinute: config.ecwid.ratePerMinute,
      maxShare: config.reconcile.maxShare,
      intervalMs: config.reconcile.intervalMs,
      fullIntervalMs: config.reconcile.fullIntervalMs,
      maxRateLimitWaitMs: workerRateLimitWaitMs,
      onAttempt,
      ...reconcileHooks(metrics),
    });
    // A store's new token (OAuth install, `mirror stores add`, ECWID_STORES): its backfill and
    // first reconcile, or after a reinstall what changed meanwhile.
    const catchUp = runCatchUp({
      db: database.db,
      box,
      log: log.child({ stage: 'catch-up' }),
      signal,
      baseUrl: config.ecwid.apiBaseUrl,
      limiter,
      onAttempt,
      maxRateLimitWaitMs: workerRateLimitWaitMs,
    });
    // Ecwid's personal-data requests (and the operator's): erasures and exports (docs/personal-data.md).
    const personalData = runPersonalDataWorker({
      db: database.db,
      log: log.child({ stage: 'personal-data' }),
      signal,
      erasureWebhooks: config.personalData.erasureWebhooks,
    });
    log.info(
      { stores: config.ecwid.stores.length, apiBaseUrl: config.ecwid.apiBaseUrl, reconcileIntervalMs: config.reconcile.intervalMs },
      'projector running',
    );
    onShutdown(log, async () => {
      // In-flight batches commit whole or roll back; nothing half-done survives a stop.
      controller.abort();
      await Promise.all([enrichment, projection, sweep, personalData, catchUp]);
      await stopListening();
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
    });
    await Promise.all([enrichment, projection, sweep, personalData, catchUp]);
  });
}
