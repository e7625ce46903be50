import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRateLimiter, limitShare } from './rate-limiter.ts';
import { createRateLimiterRegistry } from './rate-limiter-registry.ts';

/** Most grants that fall in any half-open window of `windowMs`. */
function maxInAnyWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

describe('rate limiter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps 50 concurrent callers of one token within the limit in every window', async () => {
    const registry = createRateLimiterRegistry({ perMinute: 10, windowMs: 1_000 });
    const grants: number[] = [];
    const caller = async () => {
      const limiter = registry.forToken('token-a');
      for (let i = 0; i < 4; i++) {
        const permit = await limiter.acquire();
        grants.push(Date.now());
        await new Promise((resolve) => setTimeout(resolve, 30)); // the request's round trip
        permit.release();
      }
    };
    const done = Promise.all(Array.from({ length: 50 }, caller));
    await vi.runAllTimersAsync();
    await done;

    expect(grants).toHaveLength(200);
    expect(maxInAnyWindow(grants, 1_000)).toBe(10);
    // Not needlessly slow either: 200 grants at 10 per (1 s + round trip + margin) ≈ 20 windows.
    expect(Math.max(...grants) - Math.min(...grants)).toBeLessThan(20 * 1_100);
  });

  it('does not slow a second token while the first is saturated', async () => {
    const registry = createRateLimiterRegistry({ perMinute: 5, windowMs: 1_000 });
    const busy = registry.forToken('token-a');
    const queued = Promise.all(Array.from({ length: 50 }, () => busy.acquire().then((p) => p.release())));
    await vi.advanceTimersByTimeAsync(10);

    const start = Date.now();
    const permit = await registry.forToken('token-b').acquire();
    expect(permit.waitedMs).toBe(0);
    expect(Date.now()).toBe(start);
    expect(busy.stats().queued).toBeGreaterThan(0);

    await vi.runAllTimersAsync();
    await queued;
  });

  it('shares one budget per token across every caller of the registry', () => {
    const registry = createRateLimiterRegistry();
    expect(registry.forToken('a')).toBe(registry.forToken('a'));
    expect(registry.forToken('a')).not.toBe(registry.forToken('b'));
    expect(JSON.stringify(registry.stats())).not.toContain('"a"');
  });

  it('serves callers in arrival order', async () => {
    const limiter = createRateLimiter({ perMinute: 1, windowMs: 100, marginMs: 0 });
    const order: number[] = [];
    const all = Promise.all(
      [1, 2, 3, 4].map((n) =>
        limiter.acquire().then((p) => {
          p.release();
          order.push(n);
        }),
      ),
    );
    await vi.runAllTimersAsync();
    await all;
    expect(order).toEqual([1, 2, 3, 4]);
  });

  it('counts a request until its response arrives, however slow', async () => {
    const limiter = createRateLimiter({ perMinute: 2, windowMs: 1_000, marginMs: 0 });
    const first = await limiter.acquire();
    await limiter.acquire(); // also still in flight
    let thirdAt: number | undefined;
    const third = limiter.acquire().then(() => (thirdAt = Date.now()));

    await vi.advanceTimersByTimeAsync(5_000);
    expect(thirdAt).toBeUndefined();
    const releasedAt = Date.now();
    first.release();
    await vi.advanceTimersByTimeAsync(1_000);
    await third;
    // Freed one window after the slow response, not one window after it was sent.
    expect(thirdAt).toBe(releasedAt + 1_000);
  });

  it('holds every caller for a pause, and reports the time waited', async () => {
    const onWait = vi.fn();
    const limiter = createRateLimiter({ perMinute: 100, onWait });
    limiter.pause(7_000);
    const waited = limiter.acquire();
    await vi.advanceTimersByTimeAsync(6_999);
    expect(limiter.stats()).toMatchObject({ granted: 0, queued: 1, pauses: 1 });
    await vi.advanceTimersByTimeAsync(1);
    expect((await waited).waitedMs).toBe(7_000);
    expect(onWait).toHaveBeenCalledWith(7_000);
    expect(limiter.stats()).toMatchObject({ granted: 1, waitedMs: 7_000, queued: 0 });
  });

  it('keeps a background caller within its share, and the token within its limit, whoever else uses it', async () => {
    const shared = createRateLimiter({ perMinute: 10, windowMs: 1_000 });
    // A fifth of the token's rate for the background work.
    const background = limitShare(createRateLimiter({ perMinute: 2, windowMs: 1_000 }), shared);
    const backgroundGrants: number[] = [];
    const allGrants: number[] = [];
    const run = async (limiter: typeof shared, grants: number[][], n: number) => {
      for (let i = 0; i < n; i++) {
        const permit = await limiter.acquire();
        for (const list of grants) list.push(Date.now());
        await new Promise((resolve) => setTimeout(resolve, 10));
        permit.release();
      }
    };
    const done = Promise.all([run(background, [backgroundGrants, allGrants], 8), run(shared, [allGrants], 30)]);
    await vi.runAllTimersAsync();
    await done;
    expect(maxInAnyWindow(backgroundGrants, 1_000)).toBeLessThanOrEqual(2);
    expect(maxInAnyWindow(allGrants, 1_000)).toBeLessThanOrEqual(10);
    expect(backgroundGrants).toHaveLength(8);
  });
});
