import { sleep as delay } from '@mirror/core';

/** Counters for metrics: how much the limiter slowed its callers. */
export type RateLimiterStats = {
  granted: number;
  /** Sum over callers of the time spent queued, in ms (waits of concurrent callers add up). */
  waitedMs: number;
  /** Times a 429 paused the limiter. */
  pauses: number;
  queued: number;
  inFlight: number;
};

/** Options of {@link createRateLimiter}. Scale `perMinute` and `windowMs` together in tests. */
export type RateLimiterOptions = {
  /** Requests allowed per window: Ecwid allows 600 per minute per token (docs/ecwid.md §4.2). */
  perMinute?: number;
  windowMs?: number;
  /** Extra window length, in case Ecwid's counting is coarser than ours; 1/60 of the window. */
  marginMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called once per grant that had to wait, with the time that caller waited. */
  onWait?: (waitedMs: number) => void;
};

/** Leave to send one request; `release()` once its response (or failure) has arrived. */
export type RatePermit = { waitedMs: number; release(): void };

/** One token's budget, shared by every caller that uses the token. */
export type RateLimiter = {
  /** Resolves when the caller may send one request. */
  acquire(): Promise<RatePermit>;
  /** Holds every caller for `ms` (a 429's `Retry-After`); overlapping pauses keep the later end. */
  pause(ms: number): void;
  stats(): RateLimiterStats;
};

type Waiter = { enqueuedAt: number; resolve: (permit: RatePermit) => void };
// `doneAt` is undefined while the request is in flight.
type Slot = { doneAt: number | undefined };

/**
 * A sliding-window limiter with a FIFO queue: callers are served in arrival order, and one pump
 * loop does all the waiting, so concurrent callers cannot race past the count.
 *
 * Ecwid counts a request when it arrives, which is somewhere between our grant and the
 * response. So a request occupies the window until `windowMs` after its response: a new
 * request (arriving after now) can then never share an Ecwid window with it, whatever the
 * latency. In-flight requests always count.
 */
export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const { perMinute = 600, windowMs = 60_000, marginMs = Math.ceil(windowMs / 60), now = Date.now, sleep = delay, onWait } = options;
  if (!(perMinute >= 1)) throw new RangeError('perMinute must be at least 1');

  let slots: Slot[] = [];
  const queue: Waiter[] = [];
  const stats = { granted: 0, waitedMs: 0, pauses: 0 };
  let pausedUntil = 0;
  let pumping = false;
  let wakeOnRelease: (() => void) | undefined;

  function grant(waiter: Waiter, at: number): void {
    const slot: Slot = { doneAt: undefined };
    slots.push(slot);
    const waitedMs = at - waiter.enqueuedAt;
    stats.granted += 1;
    stats.waitedMs += waitedMs;
    if (waitedMs > 0) onWait?.(waitedMs);
    waiter.resolve({
      waitedMs,
      release() {
        if (slot.doneAt !== undefined) return;
        slot.doneAt = now();
        wakeOnRelease?.();
      },
    });
  }

  async function pump(): Promise<void> {
    pumping = true;
    try {
      for (let waiter = queue[0]; waiter; waiter = queue[0]) {
        const t = now();
        if (pausedUntil > t) {
          await sleep(pausedUntil - t);
          continue;
        }
        const horizon = t - windowMs - marginMs;
        slots = slots.filter((slot) => slot.doneAt === undefined || slot.doneAt > horizon);
        if (slots.length < perMinute) {
          queue.shift();
          grant(waiter, t);
          continue;
        }
        const released = slots.filter((slot) => slot.doneAt !== undefined).map((slot) => slot.doneAt!);
        if (released.length > 0) {
          // Later releases cannot free a slot sooner than the earliest released one.
          await sleep(Math.min(...released) - horizon);
        } else {
          // Every slot is in flight: nothing frees up until a response arrives.
          await new Promise<void>((resolve) => (wakeOnRelease = resolve));
          wakeOnRelease = undefined;
        }
      }
    } finally {
      pumping = false;
    }
  }

  return {
    acquire() {
      return new Promise<RatePermit>((resolve) => {
        queue.push({ enqueuedAt: now(), resolve });
        if (!pumping) void pump();
      });
    },
    pause(ms) {
      stats.pauses += 1;
      pausedUntil = Math.max(pausedUntil, now() + ms);
    },
    stats: () => ({
      ...stats,
      queued: queue.length,
      inFlight: slots.filter((slot) => slot.doneAt === undefined).length,
    }),
  };
}

/**
 * A caller's own budget within a shared one: each request takes a slot of `own` (say a fifth of
 * the token's rate, for background work) and then of `shared` (the token's limiter, which every
 * caller of the token uses), so the caller never takes more than its share and never pushes the
 * token past its limit. A 429 pauses both.
 */
export function limitShare(own: RateLimiter, shared: RateLimiter): RateLimiter {
  return {
    async acquire() {
      const first = await own.acquire();
      const second = await shared.acquire();
      return {
        waitedMs: first.waitedMs + second.waitedMs,
        release() {
          first.release();
          second.release();
        },
      };
    },
    pause(ms) {
      own.pause(ms);
      shared.pause(ms);
    },
    stats: () => own.stats(),
  };
}
