import { AppError, describeError, errorReply, sleep, type Logger } from '@mirror/core';
import { answerUnknownRoutes, listen } from '@mirror/core/http';
import { sqlState } from '@mirror/db';
import { createIngest, ingestSection } from '@mirror/ingest';
import type { Command } from 'commander';
import { Hono } from 'hono';
import { createMirrorMetrics, ingestHooks, mountMetrics } from '../server/metrics.ts';
import { baseSections, httpSection, loadConfig } from '../config.ts';
import { createRootLogger, onShutdown, openDatabase, type OpenedDatabase } from '../runtime.ts';

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description('receive Ecwid webhooks at POST /webhooks/ecwid and append them to the log (PORT, default 3000)')
    .action(async () => {
      const config = loadConfig(process.env, { ...baseSections, http: httpSection, ingest: ingestSection });
      const log = createRootLogger(config.log);
      const database = await openDatabase(config.database, log, { serve: true });
      // Listening comes first: a database that is not up yet (both started together, or
      // Postgres restarting) is a 503 for webhooks, which Ecwid retries, and a /readyz that says
      // why, not a process that exits and leaves nothing to ask (issue 2's /readyz).
      const stopping = new AbortController();
      let migrated = false;
      const migration = migrateWhenReachable(database, log, stopping.signal).then(
        (done) => void (migrated = done),
        (err: unknown) => {
          log.fatal({ error: describeError(err) }, 'migrations failed; exiting');
          process.exit(1);
        },
      );
      const metrics = createMirrorMetrics(database.db);
      const hooks = ingestHooks(metrics);
      // Ready once this process has migrated, whatever the database says before that.
      const gated = {
        ...database,
        checkReady: async () =>
          migrated ? database.checkReady() : ({ ready: false, reason: 'database not reachable yet, or migrations running' } as const),
      };
      const { app, drain } = createIngest(gated, config.ingest, log, hooks);
      const root = new Hono();
      answerUnknownRoutes(root);
      mountMetrics(root, metrics);
      root.use('/webhooks/*', async (c, next) => {
        if (migrated) return next();
        // Counted as any 503 is (outcome `unavailable`), which the ingest alert watches.
        hooks.onOutcome('unavailable', undefined);
        const { status, headers, body } = errorReply(new AppError('UNAVAILABLE', 'the database is not reachable yet; retry later'));
        return c.json(body, status as 503, headers);
      });
      root.route('/', app);
      const { server, port } = await listen(root, config.http.port, config.http.host);
      log.info({ port, url: `http://localhost:${port}/webhooks/ecwid` }, 'ingest listening');
      onShutdown(log, async () => {
        stopping.abort();
        await migration;
        // Stop taking requests, let the in-flight ones commit and answer, then close the pool.
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await drain();
        await database.close();
      });
    });
}

/** Errors that say the database cannot be reached (yet), as opposed to one that refused something. */
const unreachable = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'CONNECT_TIMEOUT']);
// 57P03: the server is starting up or shutting down.
const isUnreachable = (err: unknown) =>
  sqlState(err) === '57P03' ||
  unreachable.has(String((err as { code?: unknown } | null)?.code ?? (err as { cause?: { code?: unknown } } | null)?.cause?.code));

/**
 * Runs the migrations once the database answers, trying again (1 s, doubling up to 15 s) while
 * it cannot be reached; any other failure is thrown. True once migrated; false when `signal`
 * aborted first.
 */
async function migrateWhenReachable(database: OpenedDatabase, log: Logger, signal: AbortSignal): Promise<boolean> {
  for (let waitMs = 1000, warned = false; !signal.aborted; waitMs = Math.min(waitMs * 2, 15_000)) {
    try {
      await database.migrate();
      if (warned) log.info('database reachable; migrations applied, taking webhooks');
      return true;
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      if (!warned) log.warn({ error: describeError(err) }, 'database not reachable: webhooks get 503 and /readyz says so until it is');
      warned = true;
      await sleep(waitMs, signal);
    }
  }
  return false;
}
