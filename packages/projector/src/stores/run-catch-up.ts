import { describeError, sleep, type Logger, type SecretBox } from '@mirror/core';
import { storeTokensTable, type Db } from '@mirror/db';
import { createEcwidClient, type RateLimiterRegistry } from '@mirror/ecwid';
import { eq } from 'drizzle-orm';
import { backfill } from '../backfill/backfill.ts';
import { reconcile } from '../reconcile/reconcile.ts';
import { finishCatchUp, openStoreToken, storesToCatchUp } from './store-tokens.ts';

export type CatchUpOptions = {
  db: Db;
  box: SecretBox;
  log: Logger;
  signal: AbortSignal;
  baseUrl: string;
  /** The process's per-token limiters: the catch-up's requests count against the token's budget. */
  limiter: RateLimiterRegistry;
  /** How often to look for stores with a new token. */
  pollMs?: number;
  onAttempt?: (outcome: string) => void;
  maxRateLimitWaitMs?: number;
};

/**
 * What a new token asks for (`store_tokens.catch_up`), done by `mirror project` and `pnpm start`:
 * a store seen for the first time is backfilled, then reconciled (changes made during the
 * backfill); a store coming back after an uninstall is reconciled (what changed while the mirror
 * could not look). Progress shows in `mirror status` (backfill_state, reconcile_runs) and both
 * resume after a crash; the flag is cleared only once the work is done.
 */
export async function runCatchUp(options: CatchUpOptions): Promise<void> {
  const { db, log, signal, pollMs = 1000 } = options;
  while (!signal.aborted) {
    try {
      for (const { storeId, catchUp } of await storesToCatchUp(db)) {
        if (signal.aborted) break;
        await catchUpStore(options, storeId, catchUp);
      }
    } catch (err) {
      log.error({ error: describeError(err) }, 'catch-up failed');
    }
    await sleep(pollMs, signal);
  }
}

async function catchUpStore(options: CatchUpOptions, storeId: number, catchUp: 'backfill' | 'reconcile'): Promise<void> {
  const { db, box, log, signal } = options;
  const [row] = await db.select().from(storeTokensTable).where(eq(storeTokensTable.storeId, storeId));
  if (!row) return;
  const token = openStoreToken(box, row);
  let requests = 0;
  const client = createEcwidClient({
    baseUrl: options.baseUrl,
    storeId,
    token,
    limiter: options.limiter.forToken(token),
    onAttempt: (outcome) => {
      requests++;
      options.onAttempt?.(outcome);
    },
    log,
    ...(options.maxRateLimitWaitMs !== undefined && { maxRateLimitWaitMs: options.maxRateLimitWaitMs }),
  });
  log.info({ storeId, catchUp }, 'catch-up started');
  if (catchUp === 'backfill') {
    const summary = await backfill({ db, storeId, client, signal });
    if (signal.aborted) return;
    log.info({ storeId, snapshots: summary.reduce((n, s) => n + s.snapshots, 0) }, 'store backfilled');
  }
  const reports = await reconcile({ db, storeId, client, requestCount: () => requests, mode: 'incremental', trigger: 'install', signal });
  if (signal.aborted) return;
  const failed = reports.filter((r) => r.status === 'failed').map((r) => r.kind);
  if (failed.length > 0) {
    // Left set: the next poll tries again (reconcile resumes its runs).
    log.warn({ storeId, failed }, 'catch-up reconcile failed for some kinds; retrying');
    return;
  }
  await finishCatchUp(db, storeId, catchUp, row.addedAt);
  log.info({ storeId, catchUp, requests }, 'catch-up done');
}
