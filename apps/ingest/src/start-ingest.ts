import { serve, type ServerType } from '@hono/node-server';
import { createGroupCommitter, type Logger } from '@mirror/core';
import { appendWebhooks, type AppendOutcome, type Database, type WebhookAppend } from '@mirror/db';
import { createIngestApp, type IngestDeps } from './app.ts';
import type { IngestConfig } from './config.ts';

export type IngestOptions = Pick<
  IngestConfig,
  | 'ECWID_CLIENT_SECRET'
  | 'ECWID_WEBHOOK_VERIFY'
  | 'INGEST_BODY_LIMIT_BYTES'
  | 'INGEST_BATCH_MAX'
  | 'INGEST_BATCH_WINDOW_MS'
  | 'INGEST_PARALLEL_MIN_BATCH'
  | 'INGEST_APPEND_TIMEOUT_MS'
>;

/** Wires the ingest app to a database with group commit. Used by the CLI and the all-in-one server. */
export function createIngest(
  database: Database,
  config: IngestOptions,
  log: Logger,
  hooks: Pick<IngestDeps, 'onOutcome'> & { onFlush?: (info: { size: number; durationMs: number; failed: boolean }) => void } = {},
) {
  const committer = createGroupCommitter<WebhookAppend, AppendOutcome>({
    flush: (rows) => appendWebhooks(database.db, rows),
    maxBatch: config.INGEST_BATCH_MAX,
    windowMs: config.INGEST_BATCH_WINDOW_MS,
    parallelMinBatch: config.INGEST_PARALLEL_MIN_BATCH,
    ...(hooks.onFlush && { onFlush: hooks.onFlush }),
  });
  if (!config.ECWID_WEBHOOK_VERIFY) {
    log.warn('ECWID_WEBHOOK_VERIFY=false: accepting UNSIGNED webhooks; never use this in production');
  }
  const app = createIngestApp({
    append: (row) => committer.submit(row),
    checkReady: () => database.checkReady(),
    clientSecret: config.ECWID_WEBHOOK_VERIFY ? config.ECWID_CLIENT_SECRET : undefined,
    log,
    bodyLimitBytes: config.INGEST_BODY_LIMIT_BYTES,
    appendTimeoutMs: config.INGEST_APPEND_TIMEOUT_MS,
    ...(hooks.onOutcome && { onOutcome: hooks.onOutcome }),
  });
  return { app, drain: () => committer.drain() };
}

/** Listens on host:port; resolves once the socket is bound. */
export function listen(
  app: { fetch: (req: Request) => Response | Promise<Response> },
  port: number,
  host: string,
): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => resolve({ server, port: info.port }));
    server.once('error', reject);
  });
}
