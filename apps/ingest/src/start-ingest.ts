import { createGroupCommitter, type FlushInfo, type Logger } from '@mirror/core';
import { appendWebhooks, listMirroredStores, type AppendOutcome, type Database, type WebhookAppend } from '@mirror/db';
import { createIngestApp, type IngestDeps } from './app.ts';
import type { IngestOptions } from './config.ts';
import { createMirroredStoreCache } from './mirrored-store-cache.ts';

/** Wires the ingest app to a database with group commit. Used by the CLI and the all-in-one server. */
export function createIngest(
  database: Database,
  options: IngestOptions,
  log: Logger,
  hooks: Pick<IngestDeps, 'onOutcome'> & { onFlush?: (info: FlushInfo) => void } = {},
) {
  const committer = createGroupCommitter<WebhookAppend, AppendOutcome>({
    // A group is one statement that commits synchronously: durable when it returns, one round
    // trip (docs/decisions/0019-ingest-commits-synchronously.md).
    flush: (rows) => appendWebhooks(database.db, rows),
    // Groups serialise on the log's commit-order lock, held through each one's flush: a second
    // one in flight would only wait there, and take the webhooks that would have made this one
    // fuller.
    maxInFlight: 1,
    maxBatch: options.batchMax,
    windowMs: options.batchWindowMs,
    ...(hooks.onFlush && { onFlush: hooks.onFlush }),
  });
  if (!options.verifySignatures) {
    log.warn('ECWID_WEBHOOK_VERIFY=false: accepting UNSIGNED webhooks; never use this in production');
  }
  const app = createIngestApp({
    append: (row) => committer.submit(row),
    checkReady: () => database.checkReady(),
    clientSecret: options.verifySignatures ? options.clientSecret : undefined,
    log,
    bodyLimitBytes: options.bodyLimitBytes,
    appendTimeoutMs: options.appendTimeoutMs,
    maxEventAgeMs: options.maxEventAgeMs,
    ...(options.maxFutureSkewMs !== undefined && { maxFutureSkewMs: options.maxFutureSkewMs }),
    isMirroredStore: createMirroredStoreCache({ load: () => listMirroredStores(database.db) }),
    ...(hooks.onOutcome && { onOutcome: hooks.onOutcome }),
  });
  return { app, drain: () => committer.drain() };
}
