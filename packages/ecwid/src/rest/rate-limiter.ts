/** Counters for metrics: how much the limiter slowed its callers. */
export type RateLimiterStats = {
  granted: number;
  /** Sum over callers of the time spent queued, in ms (waits of concurrent callers add up). */
  waitedMs: number;
  /** Times a 429 paused the limiter. */
  pauses: number;
  queued: number;
};

/** Options of {@link createRateLimiter}. Scale `perMinute` and `windowMs` together in tests. */
export type RateLimiterOptions = {
  /** Requests allowed per window: Ecwid allows 600 per minute per token (ecwid-api.md §4.2). */
  perMinute?: number;
  windowMs?: number;
  /**
   * Extra window length. Ecwid counts arrivals, not our grants; a request granted early that
   * travels slowly can land in the same Ecwid window as later ones. Defaults to 1/60 of the
   * window (1 s per minute).
   */
  marginMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called once per grant that had to wait, with the time that caller waited. */
  onWait?: (waitedMs: number) => void;
};

/** One token's budget, shared by every caller that uses the token. */
export type RateLimiter = {
  /** Resolves when the caller may send one request; returns how long it waited (ms). */
  acquire(): Promise<number>;
  /** Holds every caller for `ms` (a 429's `Retry-After`); overlapping pauses keep the later end. */
  pause(ms: number): void;
  stats(): RateLimiterStats;
};

type Waiter = { enqueuedAt: number; resolve: (waitedMs: number) => void };

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A sliding-window log limiter with a FIFO queue: at most `perMinute` grants in any window,
 * callers served in arrival order. One pump loop per limiter does all the waiting, so
 * concurrent callers can never race past the count.
 */
export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const {
    perMinute = 600,
    windowMs = 60_000,
    marginMs = Math.ceil(windowMs / 60),
    now = Date.now,
    sleep = realSleep,
    onWait,
  } = options;
  if (!(perMinute >= 1)) throw new RangeError('perMinute must be at least 1');

  const grants: number[] = [];
  const queue: Waiter[] = [];
  const stats = { granted: 0, waitedMs: 0, pauses: 0 };
  let pausedUntil = 0;
  let pumping = false;

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
        while (grants.length > 0 && grants[0]! <= horizon) grants.shift();
        const oldest = grants[0];
        if (oldest !== undefined && grants.length >= perMinute) {
          await sleep(oldest - horizon);
          continue;
        }
        grants.push(t);
        queue.shift();
        const waitedMs = t - waiter.enqueuedAt;
        stats.granted += 1;
        stats.waitedMs += waitedMs;
        if (waitedMs > 0) onWait?.(waitedMs);
        waiter.resolve(waitedMs);
      }
    } finally {
      pumping = false;
    }
  }

  return {
    acquire() {
      return new Promise<number>((resolve) => {
        queue.push({ enqueuedAt: now(), resolve });
        if (!pumping) void pump();
      });
    },
    pause(ms) {
      stats.pauses += 1;
      pausedUntil = Math.max(pausedUntil, now() + ms);
    },
    stats: () => ({ ...stats, queued: queue.length }),
  };
}
