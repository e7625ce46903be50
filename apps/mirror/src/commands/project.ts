import { listen, mountHealth } from '@mirror/ingest';
import {
  createClientFactory,
  parseEcwidStores,
  runEnrichment,
  runProjection,
  StoreTokensFormatError,
  syncEnvTokens,
  workerRateLimitWaitMs,
} from '@mirror/projector';
import type { Command } from 'commander';
import { Hono } from 'hono';
import { z } from 'zod';
import { ConfigError, parseEnv } from '../config.ts';
import { createMirrorMetrics, ecwidHooks, mountMetrics } from '../server/metrics.ts';
import { createRootLogger, onShutdown, openDatabase } from '../runtime.ts';
import { ecwidConfigSchema, exitTwoOnBadArguments } from './command-kit.ts';

const projectConfigSchema = ecwidConfigSchema.extend({
  ENRICHMENT_CONCURRENCY: z.coerce.number().int().positive().default(4),
  ENRICHMENT_POLL_MS: z.coerce.number().int().positive().default(100),
  ENRICHMENT_MAX_ATTEMPTS: z.coerce.number().int().positive().default(5),
  ENRICHMENT_BATCH_SIZE: z.coerce.number().int().positive().default(500),
  PROJECTION_IDLE_MS: z.coerce.number().int().positive().default(100),
  // Unset: no HTTP server. Set: /metrics, /healthz and /readyz on that port (0 picks a free one).
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  HOST: z.string().min(1).default('0.0.0.0'),
});

/** `mirror project`: the worker, enrichment and projection in one long-lived process. */
export function registerProject(program: Command): void {
  exitTwoOnBadArguments(
    program
      .command('project')
      .description('run the projector: enrich webhooks into snapshots (Ecwid REST) and project them into the entity tables'),
  ).action(async () => {
    const config = parseEnv(projectConfigSchema, process.env);
    const log = createRootLogger(config);
    let envTokens;
    try {
      envTokens = parseEcwidStores(config.ECWID_STORES);
    } catch (err) {
      if (err instanceof StoreTokensFormatError) throw new ConfigError(err.message);
      throw err;
    }
    const database = await openDatabase(config, log);
    await database.migrate();
    // Without ECWID_STORES this worker uses the tokens already in store_tokens (syncEnvTokens
    // leaves them alone when given none).
    await syncEnvTokens(database.db, envTokens);
    // One limiter registry for the process: every client of a token shares its budget (docs/ecwid.md §4.2).
    // The metrics count its calls and waits whether or not they are served.
    const metrics = createMirrorMetrics(database.db);
    const { limiter, onAttempt } = ecwidHooks(metrics, config.ECWID_RATE_LIMIT_PER_MINUTE);
    const clientFor = createClientFactory({
      baseUrl: config.ECWID_API_BASE_URL,
      limiter,
      onAttempt,
      log,
      maxRateLimitWaitMs: workerRateLimitWaitMs,
    });
    let server: Awaited<ReturnType<typeof listen>>['server'] | undefined;
    if (config.METRICS_PORT !== undefined) {
      const app = new Hono();
      mountMetrics(app, metrics);
      mountHealth(app, () => database.checkReady());
      const listening = await listen(app, config.METRICS_PORT, config.HOST);
      server = listening.server;
      log.info({ port: listening.port, url: `http://localhost:${listening.port}/metrics` }, 'projector metrics listening');
    }
    const controller = new AbortController();
    const { signal } = controller;
    const enrichment = runEnrichment({
      db: database.db,
      log: log.child({ stage: 'enrichment' }),
      clientFor,
      signal,
      concurrency: config.ENRICHMENT_CONCURRENCY,
      pollIntervalMs: config.ENRICHMENT_POLL_MS,
      maxAttempts: config.ENRICHMENT_MAX_ATTEMPTS,
      batchSize: config.ENRICHMENT_BATCH_SIZE,
    });
    const projection = runProjection({
      db: database.db,
      log: log.child({ stage: 'projection' }),
      signal,
      idleMs: config.PROJECTION_IDLE_MS,
    });
    log.info({ stores: envTokens.length, apiBaseUrl: config.ECWID_API_BASE_URL }, 'projector running');
    onShutdown(log, async () => {
      // In-flight batches commit whole or roll back; nothing half-done survives a stop.
      controller.abort();
      await Promise.all([enrichment, projection]);
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
    });
    await Promise.all([enrichment, projection]);
  });
}
