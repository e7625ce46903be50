import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@mirror/core';
import type { Db, DedicatedDb, LogSignal } from '@mirror/db';
import { projectNextBatch, type BatchOutcome, type ProjectBatchOptions } from './project-batch.ts';

export type RunProjectionOptions = ProjectBatchOptions & {
  db: Db;
  signal: AbortSignal;
  log: Logger;
  /** Pause when caught up (and after a failure, times the attempt, capped at 30 s). */
  idleMs?: number;
  /** Wakes the worker when snapshots or tombstones are appended; `idleMs` is then only the fallback poll. */
  appended?: LogSignal;
  /**
   * Opens the connection the batches run on (Database.openDedicated), closed when the worker
   * stops; without it they run on `db`'s pool. One connection plans each statement once and
   * keeps the plan (`reusePlans`): a pool would plan them again on each of its connections, at
   * tens of ms per statement on a busy machine (decision 0023). Batches run one at a time, so
   * one connection is all they use.
   */
  openDedicated?: ((name: string) => DedicatedDb) | undefined;
  /** Called after each batch that did not fail (metrics, tests, benchmarks), with its wall time. */
  onBatch?: ((outcome: BatchOutcome, ms: number) => void) | undefined;
};

/**
 * The long-lived projection worker: applies batches until it reaches the head of the log, then
 * waits for `appended` to signal new records, polling every `idleMs` in any case. Resolves once `signal` aborts (the batch in flight commits or rolls back
 * first, so stopping never leaves a half-applied batch). A failing batch is logged and retried
 * with a growing pause; the checkpoint did not move, so nothing is lost.
 */
export async function runProjection(options: RunProjectionOptions): Promise<void> {
  // The live tables: plans may be kept (ProjectBatchOptions.reusePlans).
  const { db: shared, signal, log, idleMs = 100, appended, reusePlans = true, openDedicated, onBatch, ...rest } = options;
  const batch = { ...rest, reusePlans };
  const own = openDedicated?.('projection');
  const db = own?.db ?? shared;
  try {
    await project(db, batch, { signal, log, idleMs, appended, onBatch });
  } finally {
    await own?.close();
  }
}

async function project(
  db: Db,
  batch: ProjectBatchOptions,
  { signal, log, idleMs, appended, onBatch }: Pick<RunProjectionOptions, 'signal' | 'log' | 'appended' | 'onBatch'> & { idleMs: number },
) {
  let failures = 0;
  while (!signal.aborted) {
    let pause = 0;
    let wakeOnAppend = false;
    // Where the log has been read to, once caught up: a wake for records at or before it is none.
    let seen: number | undefined;
    // Before the batch reads the head: an append committed after that read wakes the wait below.
    const mark = appended?.mark() ?? 0;
    try {
      const started = performance.now();
      const outcome = await projectNextBatch(db, batch);
      failures = 0;
      onBatch?.(outcome, performance.now() - started);
      if (outcome.records > 0) log.debug({ records: outcome.records, to: outcome.to }, 'projected batch');
      // Another projector holds the checkpoint: let it work rather than queue behind it.
      if (outcome.caughtUp || outcome.conflict) pause = idleMs;
      wakeOnAppend = outcome.caughtUp && !outcome.conflict;
      if (wakeOnAppend) seen = outcome.to;
    } catch (err) {
      failures += 1;
      pause = Math.min(30_000, idleMs * 2 ** Math.min(failures, 8));
      log.error({ err, failures, retryInMs: pause }, 'projection batch failed');
    }
    if (pause > 0 && wakeOnAppend && appended) await appended.wait(['snapshot', 'tombstone'], mark, pause, signal, seen);
    else if (pause > 0) await sleep(pause, undefined, { signal }).catch(() => {});
  }
}
