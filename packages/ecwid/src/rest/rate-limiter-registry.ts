import { createHash } from 'node:crypto';
import { createRateLimiter, type RateLimiter, type RateLimiterOptions } from './rate-limiter.ts';

/** Registry options: the limiter options, with a wait callback that says which token waited. */
export type RateLimiterRegistryOptions = Omit<RateLimiterOptions, 'onWait'> & {
  /** `tokenKey` is a short hash of the token, safe for metric labels and logs. */
  onWait?: (event: { tokenKey: string; waitedMs: number }) => void;
};

/** One limiter per access token, for the whole process. */
export type RateLimiterRegistry = {
  forToken(token: string): RateLimiter;
  /** Counters per token, keyed by the token's short hash. */
  stats(): Record<string, ReturnType<RateLimiter['stats']>>;
};

/** Short, non-reversible label for a token: never log or export the token itself. */
export function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}

/**
 * Ecwid limits per token (docs/ecwid.md §4.2), so every client and caller in the process that
 * uses a token must draw from one budget; other tokens have budgets of their own.
 */
export function createRateLimiterRegistry(options: RateLimiterRegistryOptions = {}): RateLimiterRegistry {
  const { onWait, ...limiterOptions } = options;
  const limiters = new Map<string, RateLimiter>();
  return {
    forToken(token) {
      const key = tokenKey(token);
      let limiter = limiters.get(key);
      if (!limiter) {
        limiter = createRateLimiter({
          ...limiterOptions,
          ...(onWait && { onWait: (waitedMs: number) => onWait({ tokenKey: key, waitedMs }) }),
        });
        limiters.set(key, limiter);
      }
      return limiter;
    },
    stats: () => Object.fromEntries([...limiters].map(([key, limiter]) => [key, limiter.stats()])),
  };
}
