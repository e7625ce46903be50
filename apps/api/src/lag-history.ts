import type { Logger } from '@mirror/core';
import type { Db } from '@mirror/db';
import { listKnownStoreIds, readStoreHealth, type Lag } from './store-health.ts';

/** One reading of a store's lag, per stage. */
export type LagSample = { at: Date; enrichment: Lag; projection: Lag };

export type LagHistory = {
  /** The samples of one store taken at or after `since`, oldest first. */
  read(storeId: number, since: Date): LagSample[];
  /** Takes one sample of every store now (the timer calls it; tests call it directly). */
  sample(): Promise<void>;
  /** Samples every `intervalMs` until the signal aborts. */
  start(signal: AbortSignal): void;
  readonly intervalMs: number;
};

export type LagHistoryOptions = {
  db: Db;
  log: Logger;
  /** Default 10 s: 360 samples per store per hour. */
  intervalMs?: number;
  /** How long samples are kept (default one hour). */
  keepMs?: number;
  now?: () => Date;
};

/**
 * The lag chart's data: a ring of samples per store, kept in this process's memory. Nothing
 * outside the server is needed (no Prometheus), at the price of starting empty after a restart;
 * a few hundred small objects per store cost nothing worth a table.
 */
export function createLagHistory(options: LagHistoryOptions): LagHistory {
  const { db, log, intervalMs = 10_000, keepMs = 3_600_000, now = () => new Date() } = options;
  const byStore = new Map<number, LagSample[]>();
  let running: Promise<void> | undefined;

  async function sample(): Promise<void> {
    const at = now();
    const health = await readStoreHealth(db, await listKnownStoreIds(db), at);
    const oldest = at.getTime() - keepMs;
    for (const h of health) {
      let samples = byStore.get(h.storeId);
      if (!samples) byStore.set(h.storeId, (samples = []));
      samples.push({ at, enrichment: h.lag.enrichment, projection: h.lag.projection });
      const drop = samples.findIndex((s) => s.at.getTime() >= oldest);
      if (drop > 0) samples.splice(0, drop);
    }
  }

  return {
    intervalMs,
    read: (storeId, since) => (byStore.get(storeId) ?? []).filter((s) => s.at >= since),
    sample,
    start(signal) {
      const tick = () => {
        // One sample at a time: a slow database is not asked again before it answered.
        if (running || signal.aborted) return;
        running = sample()
          .catch((err: unknown) => log.warn({ err }, 'lag sample failed'))
          .finally(() => (running = undefined));
      };
      tick();
      const timer = setInterval(tick, intervalMs);
      timer.unref();
      signal.addEventListener('abort', () => clearInterval(timer), { once: true });
    },
  };
}
