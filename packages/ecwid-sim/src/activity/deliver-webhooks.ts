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

/** How one webhook is sent when its activity decides (a lossy day); otherwise the delivery draws it. */
export type DeliveryPlan = {
  /** Send a second copy, independently delayed. */
  duplicate: boolean;
  /** Extra wait before the first attempt, so later webhooks overtake this one. */
  holdMs: number;
};

export type DeliveryHooks = {
  /** Each copy's outcome: once when an attempt is accepted, or once when it is given up. */
  onSettled?: (webhook: SignedWebhook, delivered: boolean) => void;
};

/** Ecwid's delivery habits: delays, reordering, duplicates, retries with the same eventId. */
export function createDelivery(options: {
  target: string;
  fetch: typeof fetch;
  delivery: DeliveryOptions;
  random: () => number;
  hooks?: DeliveryHooks;
}) {
  const { delivery, random } = options;
  const onSettled = options.hooks?.onSettled;
  const stats: DeliveryStats = { sent: 0, delivered: 0, failed: 0, retried: 0, duplicates: 0 };
  const timers = new Map<NodeJS.Timeout, SignedWebhook>();
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
    timers.set(timer, webhook);
  }

  /** One HTTP attempt; true when Ecwid would count it as delivered. */
  async function attempt(webhook: SignedWebhook, retry: boolean): Promise<boolean> {
    stats.sent++;
    if (retry) stats.retried++;
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
    return delivered;
  }

  async function send(webhook: SignedWebhook, attemptNo: number) {
    const delivered = await attempt(webhook, attemptNo > 0);
    if (delivered) onSettled?.(webhook, true);
    else if (attemptNo < delivery.retryDelaysMs.length) schedule(webhook, attemptNo + 1, delivery.retryDelaysMs[attemptNo]!);
    else {
      stats.failed++;
      onSettled?.(webhook, false);
    }
  }

  function firstDelay() {
    const [min, max] = delivery.delayMs;
    return min + random() * (max - min) + random() * delivery.reorderWindowMs;
  }

  return {
    stats,
    /** Queues one webhook (without a plan, the duplicate is drawn from `duplicateRate`); true when it goes twice. */
    enqueue(webhook: SignedWebhook, plan?: DeliveryPlan): boolean {
      const hold = plan?.holdMs ?? 0;
      schedule(webhook, 0, firstDelay() + hold);
      const duplicate = plan ? plan.duplicate : random() < delivery.duplicateRate;
      if (duplicate) {
        stats.duplicates++;
        schedule(webhook, 0, firstDelay() + hold);
      }
      return duplicate;
    },
    /**
     * Sends one copy now, retrying at once instead of after `retryDelaysMs` (a simulated day
     * has no time to wait); resolves to whether it was delivered.
     */
    async deliverNow(webhook: SignedWebhook, duplicate = false): Promise<boolean> {
      if (duplicate) stats.duplicates++;
      for (let attemptNo = 0; attemptNo <= delivery.retryDelaysMs.length; attemptNo++) {
        if (await attempt(webhook, attemptNo > 0)) {
          onSettled?.(webhook, true);
          return true;
        }
      }
      stats.failed++;
      onSettled?.(webhook, false);
      return false;
    },
    /** Resolves when every queued webhook is delivered or given up. */
    flush(): Promise<void> {
      return pending === 0 ? Promise.resolve() : new Promise((resolve) => idle.push(resolve));
    },
    /** Drops attempts not yet started (counted as failed); in-flight ones finish. */
    cancel() {
      for (const [timer, webhook] of timers) {
        clearTimeout(timer);
        stats.failed++;
        onSettled?.(webhook, false);
        settle();
      }
      timers.clear();
    },
  };
}
