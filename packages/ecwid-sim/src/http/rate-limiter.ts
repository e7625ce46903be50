export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Ecwid's per-token limit (docs/ecwid.md §4.2): more than `limit` requests inside a sliding
 * window are refused with 429 and `Retry-After`. Refused requests do not use up the budget.
 */
export function createRateLimiter(options: { limit: number; windowMs?: number; now: () => number }) {
  const windowMs = options.windowMs ?? 60_000;
  const accepted = new Map<string, number[]>();
  return {
    take(token: string): RateDecision {
      const now = options.now();
      const times = accepted.get(token) ?? [];
      let expired = 0;
      while (expired < times.length && times[expired]! <= now - windowMs) expired++;
      if (expired) times.splice(0, expired);
      accepted.set(token, times);
      if (times.length < options.limit) {
        times.push(now);
        return { allowed: true };
      }
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((times[0]! + windowMs - now) / 1000)),
      };
    },
  };
}
