import type { OperatorActions, VerifyState } from '@mirror/api';
import { kindName } from '@mirror/catalog';
import { describeError, type Logger, type SecretBox } from '@mirror/core';
import type { Db } from '@mirror/db';
import { createEcwidClient, type RateLimiterRegistry } from '@mirror/ecwid';
import { readStoreToken, reconcile, retryParked, type ClientFactory } from '@mirror/projector';

export type OperatorActionsOptions = {
  db: Db;
  log: Logger;
  /** Ecwid clients for retries: the process's factory, so retries share each token's rate limit. */
  clientFor: ClientFactory;
  /** Opens the stores' sealed tokens (MIRROR_SECRET_KEY); without it the buttons say what to set. */
  box: SecretBox | undefined;
  baseUrl: string;
  /** The process's per-token limiters: a verify's requests count against the token's budget too. */
  limiter: RateLimiterRegistry;
  /** Stops running verifies when the server stops. */
  signal: AbortSignal;
  maxRateLimitWaitMs?: number;
};

/**
 * What the console's buttons do, in the server process: retry parked webhooks (the projector's
 * retry, as `mirror parked retry`) and verify a store against Ecwid (as `mirror verify`: compare,
 * change nothing), one verify per store at a time, its outcome kept in memory for the console.
 */
export function createOperatorActions(options: OperatorActionsOptions): OperatorActions & { idle(): Promise<void> } {
  const { db, log, signal } = options;
  const verifies = new Map<number, VerifyState>();
  const running = new Set<Promise<void>>();

  async function runVerify(storeId: number, state: VerifyState): Promise<void> {
    try {
      if (!options.box) throw new Error("MIRROR_SECRET_KEY is not set: the stores' tokens cannot be opened");
      const token = await readStoreToken(db, options.box, storeId);
      if (!token) throw new Error(`store ${storeId} has no access token: add one with \`pnpm mirror stores add ${storeId}\``);
      let requests = 0;
      const client = createEcwidClient({
        baseUrl: options.baseUrl,
        storeId,
        token,
        limiter: options.limiter.forToken(token),
        onAttempt: () => void requests++,
        log,
        ...(options.maxRateLimitWaitMs !== undefined && { maxRateLimitWaitMs: options.maxRateLimitWaitMs }),
      });
      const reports = await reconcile({
        db,
        storeId,
        client,
        requestCount: () => requests,
        mode: 'full',
        dryRun: true,
        trigger: 'api',
        signal,
      });
      state.kinds = reports.map((r) => ({
        entity: kindName(r.kind),
        status: r.status,
        reason: r.reason,
        checked: r.checked,
        missing: r.missing,
        stale: r.stale,
        missedDeletes: r.missedDeletes,
        healedTombstones: r.healedTombstones,
        samples: r.samples,
      }));
      state.status = 'done';
      const found = reports.reduce((n, r) => n + r.missing + r.stale + r.missedDeletes + r.healedTombstones, 0);
      log.info({ storeId, found, requests }, 'verify finished');
    } catch (err) {
      state.status = 'failed';
      state.error = describeError(err);
      log.warn({ storeId, error: state.error }, 'verify failed');
    } finally {
      state.finishedAt = new Date();
    }
  }

  return {
    async retryParked(storeId, ids) {
      const outcomes = [];
      const box = options.box;
      if (!box)
        return ids.map((id) => ({
          id,
          outcome: 'failed' as const,
          error: "MIRROR_SECRET_KEY is not set: the stores' tokens cannot be opened",
        }));
      for (const id of ids) {
        const [result] = await retryParked({ db, clientFor: options.clientFor, box, log, id });
        // Gone between the listing and the retry (another retry resolved it): already resolved.
        outcomes.push(result ?? { id, storeId, position: 0, outcome: 'already_resolved' as const });
      }
      return outcomes.map((r) => ({ id: r.id, outcome: r.outcome, ...(r.error !== undefined && { error: r.error }) }));
    },
    startVerify(storeId) {
      const current = verifies.get(storeId);
      if (current?.status === 'running') return current;
      const state: VerifyState = { status: 'running', startedAt: new Date(), finishedAt: null, error: null, kinds: [] };
      verifies.set(storeId, state);
      const work = runVerify(storeId, state).finally(() => running.delete(work));
      running.add(work);
      return state;
    },
    verifyState: (storeId) => verifies.get(storeId),
    async idle() {
      await Promise.all(running);
    },
  };
}
