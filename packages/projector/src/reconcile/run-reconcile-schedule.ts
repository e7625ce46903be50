import { describeError, sleep, type Logger, type SecretBox } from '@mirror/core';
import { backfillStateTable, enrichmentStateTable, execRows, reconcileRunsTable, storeTokensTable, type Db } from '@mirror/db';
import { readStoreTokens } from '../stores/store-tokens.ts';
import { createEcwidClient, createRateLimiter, limitShare, type RateLimiterRegistry } from '@mirror/ecwid';
import { and, eq, max, sql } from 'drizzle-orm';
import { notReachedReason, reconcile, type KindReport, type ReconcileMode } from './reconcile.ts';

export type ReconcileScheduleOptions = {
  db: Db;
  /** Opens the sealed tokens (MIRROR_SECRET_KEY). */
  box: SecretBox;
  log: Logger;
  signal: AbortSignal;
  baseUrl: string;
  /** The process's per-token limiters: a reconcile's requests count against the token's budget too. */
  limiter: RateLimiterRegistry;
  /** Ecwid's limit per token, per minute. */
  ratePerMinute: number;
  /** At most this share of the token's rate goes to reconciling (live enrichment is never starved). */
  maxShare: number;
  /** Incremental reconcile of each store this often; 0 turns the schedule off. */
  intervalMs: number;
  /** Full reconcile of each store this often. */
  fullIntervalMs: number;
  /**
   * The longest the schedule sleeps between looks for stores that are due (a store just added, or
   * one that recovered). It wakes sooner when a store it knows is due sooner, so the intervals
   * hold even when shorter than this.
   */
  pollMs?: number;
  now?: () => Date;
  /** Each request's outcome (metrics: the REST calls by status). */
  onAttempt?: (outcome: string) => void;
  /** Each finished kind (metrics, tests). */
  onReport?: (storeId: number, report: KindReport) => void;
  maxRateLimitWaitMs?: number;
};

/**
 * The sweep that runs by itself (`mirror project`, `pnpm start`): each store with a token whose
 * enrichment is healthy gets an incremental reconcile every `intervalMs` and a full one every
 * `fullIntervalMs`, one store at a time, its requests limited to `maxShare` of the token's rate.
 * A store that was paused or blocked is skipped while it is, and caught up once it recovers
 * (its last run is then older than the interval). A backfill counts as a full run.
 */
export async function runReconcileSchedule(options: ReconcileScheduleOptions): Promise<void> {
  const { db, log, signal, intervalMs, fullIntervalMs, pollMs = 60_000, now = () => new Date() } = options;
  if (intervalMs <= 0) return;
  while (!signal.aborted) {
    // When the next store it knows of is due: the sleep below ends then (or at the poll).
    let nextDue = Infinity;
    try {
      for (const { storeId, token } of await dueStores(db, options.box)) {
        if (signal.aborted) break;
        const { mode, nextAt } = await dueMode(db, storeId, now(), intervalMs, fullIntervalMs);
        if (!mode) {
          nextDue = Math.min(nextDue, nextAt);
          continue;
        }
        let requests = 0;
        const client = createEcwidClient({
          baseUrl: options.baseUrl,
          storeId,
          token,
          limiter: limitShare(
            createRateLimiter({ perMinute: Math.max(1, Math.floor(options.ratePerMinute * options.maxShare)) }),
            options.limiter.forToken(token),
          ),
          onAttempt: (outcome) => {
            requests++;
            options.onAttempt?.(outcome);
          },
          log,
          ...(options.maxRateLimitWaitMs !== undefined && { maxRateLimitWaitMs: options.maxRateLimitWaitMs }),
        });
        log.info({ storeId, mode }, 'reconcile started');
        const reached = await reconcile({ db, storeId, client, requestCount: () => requests, mode, trigger: 'schedule', signal, now });
        // Kinds a shutdown stopped it before: not failures of the sweep (the next start runs them).
        const reports = reached.filter((r) => r.reason !== notReachedReason);
        for (const report of reports) options.onReport?.(storeId, report);
        const found = reports.reduce((n, r) => n + r.missing + r.stale + r.missedDeletes + r.healedTombstones, 0);
        const failed = reports.filter((r) => r.status === 'failed').map((r) => r.kind);
        log[found > 0 || failed.length > 0 ? 'warn' : 'info']({ storeId, mode, found, requests, failed }, 'reconcile finished');
        // Due again an interval from the run's end (a failed run too: it is tried again then).
        nextDue = Math.min(nextDue, now().getTime() + intervalMs);
      }
    } catch (err) {
      log.error({ error: describeError(err) }, 'reconcile schedule failed');
    }
    // At least a second: a run's end time and the clock may disagree by a few ms.
    await sleep(Math.min(pollMs, Math.max(1000, nextDue - now().getTime())), signal);
  }
}

/**
 * Stores with a token whose enrichment is not blocked, paused or uninstalled, and not waiting for
 * their catch-up (a new token's backfill or reconcile runs first, in runCatchUp).
 */
async function dueStores(db: Db, box: SecretBox): Promise<{ storeId: number; token: string }[]> {
  const rows = await db
    .select({ storeId: storeTokensTable.storeId, catchUp: storeTokensTable.catchUp, status: enrichmentStateTable.status })
    .from(storeTokensTable)
    .leftJoin(enrichmentStateTable, eq(enrichmentStateTable.storeId, storeTokensTable.storeId));
  const tokens = await readStoreTokens(db, box);
  return rows.flatMap((r) => {
    const token = tokens.get(r.storeId);
    return token !== undefined && r.catchUp === null && (r.status === null || r.status === 'active') ? [{ storeId: r.storeId, token }] : [];
  });
}

/**
 * Which run a store is due for, if any: full when its last full one (or backfill) is older than
 * the full interval; and when it is due next (ms since the epoch) when it is not due now.
 */
async function dueMode(
  db: Db,
  storeId: number,
  now: Date,
  intervalMs: number,
  fullIntervalMs: number,
): Promise<{ mode: ReconcileMode | undefined; nextAt: number }> {
  const [runs] = await db
    .select({
      full: sql<Date | string | null>`max(${reconcileRunsTable.finishedAt}) filter (where ${reconcileRunsTable.mode} = 'full')`,
      any: max(reconcileRunsTable.finishedAt),
    })
    .from(reconcileRunsTable)
    .where(and(eq(reconcileRunsTable.storeId, storeId), eq(reconcileRunsTable.status, 'done')));
  const [backfilled] = await execRows<{ at: Date | string | null }>(
    db,
    sql`select max(${backfillStateTable.completedAt}) as at from ${backfillStateTable} where ${backfillStateTable.storeId} = ${storeId}`,
  );
  const time = (value: Date | string | null | undefined) => (value ? new Date(value).getTime() : -Infinity);
  const lastFull = Math.max(time(runs?.full), time(backfilled?.at));
  const lastAny = Math.max(lastFull, time(runs?.any));
  const nextAt = Math.min(lastFull + fullIntervalMs, lastAny + intervalMs);
  if (now.getTime() - lastFull >= fullIntervalMs) return { mode: 'full', nextAt };
  if (now.getTime() - lastAny >= intervalMs) return { mode: 'incremental', nextAt };
  return { mode: undefined, nextAt };
}
