import { randomBytes, randomInt } from 'node:crypto';
import type { ServerType } from '@hono/node-server';
import { createApiKey, startApi, type ApiOptions } from '@mirror/api';
import type { Logger, SecretBox } from '@mirror/core';
import { answerUnknownRoutes, listen } from '@mirror/core/http';
import { apiKeysTable, createLogSignal, listenForAppends, type Database } from '@mirror/db';
import { and, eq, isNull } from 'drizzle-orm';
import { createActivity, createSimulator, type Activity } from '@mirror/ecwid-sim';
import { createIngest, type IngestOptions } from '@mirror/ingest';
import {
  backfill,
  createClientFactory,
  removeDemoTokens,
  runCatchUp,
  runEnrichment,
  runPersonalDataWorker,
  runProjection,
  runReconcileSchedule,
  saveSealedToken,
  sealPlaintextTokens,
  envTokenHeld,
  envTokenReinstalled,
  honouredBy,
  syncEnvTokens,
  workerRateLimitWaitMs,
} from '@mirror/projector';
import { Hono } from 'hono';
import type {
  DemoOptions,
  EcwidOptions,
  EnrichmentOptions,
  HttpOptions,
  OAuthOptions,
  PersonalDataOptions,
  ProjectionOptions,
  ReconcileOptions,
} from '../config.ts';
import { createOAuthApp } from '../oauth/oauth-app.ts';
import { createOperatorActions } from './operator-actions.ts';
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
  /** What becomes of an erasure Ecwid's webhook asks for (default: it awaits confirmation). */
  personalData?: PersonalDataOptions;
  demo: DemoOptions;
  /** How often the console's lag chart samples each store (default 10 s; tests go faster). */
  lagSampleMs?: number;
  /** The OAuth install flow, when ECWID_CLIENT_ID is set. */
  oauth: OAuthOptions | undefined;
  /** Seals and opens the stores' tokens (MIRROR_SECRET_KEY, or the demo's own key). */
  box: SecretBox;
  /** No real store configured (start.ts decides: no ECWID_STORES, no ECWID_CLIENT_ID, none in the database). */
  demoMode: boolean;
};

export type Demo = { storeId: number; apiKey: string };

export type RunningMirror = {
  port: number;
  /** Set when no store was configured and a simulated one was started. */
  demo: Demo | undefined;
  close(): Promise<void>;
};

const demoStoreId = 1003;
/** The label of the key demo mode makes (and revokes at its next start). */
const demoKeyLabel = 'demo';

/**
 * Ingest, projector and query API in one process on one port. With stores configured it mirrors
 * them; without, it starts a simulated Ecwid store, backfills it and lets it send live webhooks,
 * so a newcomer sees data within seconds.
 */
export async function startAll(database: Database, options: StartAllOptions, log: Logger): Promise<RunningMirror> {
  const { stores } = options.ecwid;
  const { box, demoMode } = options;
  const metrics = createMirrorMetrics(database.db);

  // The demo store signs its webhooks with a secret made here, unless one was given.
  const clientSecret = options.ingest.clientSecret ?? (demoMode ? randomBytes(16).toString('hex') : undefined);
  const demoToken = `secret_demo_${randomBytes(12).toString('hex')}`;
  const sim = demoMode
    ? createSimulator({ stores: [{ storeId: demoStoreId, token: demoToken, seed: options.demo.seed }], clientSecret })
    : undefined;
  const simServer = sim ? await sim.listen(0) : undefined;
  const apiBaseUrl = simServer?.url ?? options.ecwid.apiBaseUrl;

  const { limiter, onAttempt, onFetched, onNote } = ecwidHooks(metrics, options.ecwid.ratePerMinute);
  const clientFor = createClientFactory({
    baseUrl: apiBaseUrl,
    limiter,
    onAttempt,
    log: log.child({ component: 'ecwid' }),
    maxRateLimitWaitMs: workerRateLimitWaitMs,
  });

  await sealPlaintextTokens(database.db, box);
  // The demo store is the simulator's, made for this run: its token only, no lifecycle record.
  if (demoMode) await saveSealedToken(database.db, box, { storeId: demoStoreId, token: demoToken, source: 'demo' });
  else {
    await removeDemoTokens(database.db);
    const env = await syncEnvTokens(database.db, box, stores, { honoured: honouredBy(clientFor, log) });
    for (const storeId of env.uninstalled) log.warn({ storeId }, envTokenHeld);
    for (const storeId of env.reinstalled) log.info({ storeId }, envTokenReinstalled);
  }

  // Wakes enrichment when ingest (here, or in another process through NOTIFY) commits webhooks,
  // and projection when enrichment commits snapshots; polling stays as the fallback.
  const appended = createLogSignal();
  const stopListening = await listenForAppends(database, appended);
  const controller = new AbortController();
  const actions = createOperatorActions({
    db: database.db,
    log: log.child({ component: 'console' }),
    clientFor,
    box,
    baseUrl: apiBaseUrl,
    limiter,
    signal: controller.signal,
    maxRateLimitWaitMs: workerRateLimitWaitMs,
  });

  const hooks = ingestHooks(metrics);
  const ingest = createIngest(database, { ...options.ingest, clientSecret }, log.child({ component: 'ingest' }), {
    ...hooks,
    onFlush: (info) => {
      hooks.onFlush(info);
      // Listening, the database's notification wakes enrichment and names the stores; this one
      // could not, and would have it read every store at each commit.
      if (!info.failed && !appended.listening) appended.notify(['webhook']);
    },
  });
  const api = startApi(database, options.api, log.child({ component: 'api' }), {
    ...apiHooks(metrics),
    actions,
    signal: controller.signal,
    ...(options.lagSampleMs !== undefined && { lagSampleMs: options.lagSampleMs }),
  });
  const root = new Hono();
  answerUnknownRoutes(root);
  mountMetrics(root, metrics);
  if (options.oauth)
    root.route('/', createOAuthApp({ db: database.db, box, oauth: options.oauth, log: log.child({ component: 'oauth' }) }));
  root.route('/', ingest.app);
  root.route('/', api);
  const { server, port } = await listen(root, options.http.port, options.http.host);

  const workers = Promise.all([
    runPersonalDataWorker({
      db: database.db,
      log: log.child({ stage: 'personal-data' }),
      signal: controller.signal,
      erasureWebhooks: options.personalData?.erasureWebhooks ?? 'confirm',
    }),
    runEnrichment({
      db: database.db,
      log: log.child({ stage: 'enrichment' }),
      clientFor,
      box,
      signal: controller.signal,
      concurrency: options.enrichment.concurrency,
      pollIntervalMs: options.enrichment.pollMs,
      maxAttempts: options.enrichment.maxAttempts,
      batchSize: options.enrichment.batchSize,
      onFetched,
      onNote,
      appended,
      openSession: database.openSession,
    }),
    runProjection({
      db: database.db,
      log: log.child({ stage: 'projection' }),
      signal: controller.signal,
      idleMs: options.projection.idleMs,
      appended,
      openDedicated: database.openDedicated,
    }),
    // A store's new token (OAuth install, `mirror stores add`, ECWID_STORES): its backfill and
    // first reconcile, or after a reinstall what changed meanwhile.
    runCatchUp({
      db: database.db,
      box,
      log: log.child({ stage: 'catch-up' }),
      signal: controller.signal,
      baseUrl: apiBaseUrl,
      limiter,
      onAttempt,
      maxRateLimitWaitMs: workerRateLimitWaitMs,
    }),
  ]);
  // The sweep that finds what webhooks missed (docs/reconcile.md). The demo store is swept once
  // its backfill is done (a backfill counts as a full run), not beside it.
  let sweep: Promise<void> = Promise.resolve();
  const startSweep = () => {
    sweep = runReconcileSchedule({
      db: database.db,
      box,
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
  log.info(
    { port, stores: stores.length, demo: demoMode, oauth: options.oauth !== undefined },
    'mirror running: ingest, projector and query API',
  );

  let demo: Demo | undefined;
  let activity: Activity | undefined;
  let demoWork: Promise<void> = Promise.resolve();
  if (sim) {
    // One demo key at a time: the previous start's is revoked (it was printed, never stored in
    // clear, so it cannot be shown again), instead of a new live key piling up at every start.
    const key = await database.db.transaction(async (tx) => {
      await tx
        .update(apiKeysTable)
        .set({ revokedAt: new Date() })
        .where(and(eq(apiKeysTable.storeId, demoStoreId), eq(apiKeysTable.label, demoKeyLabel), isNull(apiKeysTable.revokedAt)));
      return (await createApiKey(tx, { storeId: demoStoreId, label: demoKeyLabel })).key;
    });
    demo = { storeId: demoStoreId, apiKey: key };
    activity = createActivity(sim, {
      storeId: demoStoreId,
      target: `http://127.0.0.1:${port}/webhooks/ecwid`,
      ratePerSecond: options.demo.rate,
      // The store is the same at every start (MIRROR_DEMO_SEED); its changes must not be. A seed
      // draws the eventIds too, and Ecwid sends an eventId again only as a retry: with a fixed one
      // a later start would resend the previous start's ids, which ingest rightly drops as
      // duplicates, and its demo would show no live changes.
      seed: randomInt(2 ** 31),
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
      await actions.idle();
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
