import type { SignedWebhook } from './build-webhook.ts';

export type DeliveryOptions = {
  /** Share of webhooks sent twice. */
  duplicateRate: number;
  /** Each webhook waits a random extra 0..window ms, so close events arrive out of order. */
  reorderWindowMs: number;
  /** Base delay before the first attempt, uniformly within [min, max]. */
  delayMs: [number, number];
  /** Pause before each retry; Ecwid's real schedule is 15 min, 30 min, … (docs/ecwid.md §3). */
  retryDelaysMs: number[];
  /** Ecwid waits 10 s for an answer. */
  timeoutMs: number;
};

export const defaultDeliveryOptions: DeliveryOptions = {
  duplicateRate: 0.02,
  reorderWindowMs: 500,
  delayMs: [0, 200],
  retryDelaysMs: [1_000, 5_000, 15_000, 60_000],
  timeoutMs: 10_000,
};

export type DeliveryStats = {
  /** HTTP attempts made, retries and duplicates included. */
  sent: number;
  /** Attempts answered with a success code. */
  delivered: number;
  /** Webhooks given up after the last retry (or dropped by `cancel`). */
  failed: number;
  /** Attempts that were retries. */
  retried: number;
  /** Extra copies enqueued on purpose. */
  duplicates: number;
};

// Ecwid counts only these as delivered; any other 2xx or 3xx is a failure (docs/ecwid.md §3).
const acceptedStatuses = new Set([200, 201, 202, 204, 209]);

/** Ecwid's delivery habits: delays, reordering, duplicates, retries with the same eventId. */
export function createDelivery(options: { target: string; fetch: typeof fetch; delivery: DeliveryOptions; random: () => number }) {
  const { delivery, random } = options;
  const stats: DeliveryStats = { sent: 0, delivered: 0, failed: 0, retried: 0, duplicates: 0 };
  const timers = new Set<NodeJS.Timeout>();
  let pending = 0;
  let idle: (() => void)[] = [];

  function settle() {
    pending--;
    if (pending > 0) return;
    const waiting = idle;
    idle = [];
    for (const resolve of waiting) resolve();
  }

  function schedule(webhook: SignedWebhook, attempt: number, delay: number) {
    pending++;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void send(webhook, attempt).finally(settle);
    }, delay);
    timers.add(timer);
  }

  async function send(webhook: SignedWebhook, attempt: number) {
    stats.sent++;
    if (attempt > 0) stats.retried++;
    const url = new URL(options.target);
    url.searchParams.set('eventtype', webhook.body.eventType);
    let delivered = false;
    try {
      const res = await options.fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json; charset=UTF-8',
          'Cache-Control': 'no-cache',
          'X-Ecwid-Webhook-Signature': webhook.signature,
        },
        body: webhook.json,
        signal: AbortSignal.timeout(delivery.timeoutMs),
      });
      await res.body?.cancel();
      delivered = acceptedStatuses.has(res.status);
    } catch {
      // A timeout or a refused connection is a failed attempt, like a 500.
    }
    if (delivered) stats.delivered++;
    else if (attempt < delivery.retryDelaysMs.length) schedule(webhook, attempt + 1, delivery.retryDelaysMs[attempt]!);
    else stats.failed++;
  }

  function firstDelay() {
    const [min, max] = delivery.delayMs;
    return min + random() * (max - min) + random() * delivery.reorderWindowMs;
  }

  return {
    stats,
    enqueue(webhook: SignedWebhook) {
      schedule(webhook, 0, firstDelay());
      if (random() < delivery.duplicateRate) {
        stats.duplicates++;
        schedule(webhook, 0, firstDelay());
      }
    },
    /** Resolves when every queued webhook is delivered or given up. */
    flush(): Promise<void> {
      return pending === 0 ? Promise.resolve() : new Promise((resolve) => idle.push(resolve));
    },
    /** Drops attempts not yet started (counted as failed); in-flight ones finish. */
    cancel() {
      for (const timer of timers) {
        clearTimeout(timer);
        stats.failed++;
        settle();
      }
      timers.clear();
    },
  };
}
