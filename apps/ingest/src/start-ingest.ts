import { createGroupCommitter, type FlushInfo, type Logger } from '@mirror/core';
import {
  commitWebhooks,
  listMirroredStores,
  waitForCommittedWebhooks,
  type AppendOutcome,
  type Database,
  type WebhookAppend,
} from '@mirror/db';
import { createIngestApp, type IngestDeps } from './app.ts';
import type { IngestOptions } from './config.ts';
import { createMirroredStoreCache } from './mirrored-store-cache.ts';

/**
 * The pause before a flush-wait that follows another at once. Webhook senders answered by one
 * flush send their next webhooks straight away; begun at once, the next flush-wait would start
 * before those commit and they would wait for the one after: about two disk flushes each. A
 * pause of a fraction of a flush lets them ride the next one (docs/decisions/0014).
 */
export function flushGap(ratio: number): ((lastMs: number) => number) | undefined {
  if (ratio === 0) return undefined;
  return (lastMs) => Math.min(maxFlushGapMs, lastMs * ratio);
}

const maxFlushGapMs = 2;

/** Wires the ingest app to a database with group commit. Used by the CLI and the all-in-one server. */
export function createIngest(
  database: Database,
  options: IngestOptions,
  log: Logger,
  hooks: Pick<IngestDeps, 'onOutcome'> & { onFlush?: (info: FlushInfo) => void } = {},
) {
  const committer = createGroupCommitter<WebhookAppend, AppendOutcome>({
    // A group commits (visible, not yet durable), frees its slot for the next group, then waits
    // for the WAL flush before its webhooks are answered: the flush no longer holds up the next
    // commit (docs/decisions/0014-ingest-per-request-cost.md).
    flush: (rows) => commitWebhooks(database.db, rows),
    durable: () => waitForCommittedWebhooks(database.db),
    durableGapMs: flushGap(options.flushGapRatio),
    // Inserts serialise on the log's commit-order lock anyway: a second one in flight would only
    // wait there, and take the webhooks that would have made this one fuller.
    maxInFlight: 1,
    maxBatch: options.batchMax,
    windowMs: options.batchWindowMs,
    parallelMinBatch: options.parallelMinBatch,
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
