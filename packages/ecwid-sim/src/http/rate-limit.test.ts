import { expect, it } from 'vitest';
import { get, testSimulator, token } from '../test-helpers.ts';

it('answers 429 with Retry-After past the per-token limit and counts every request', async () => {
  let now = 1_000_000;
  const sim = testSimulator({ rateLimitPerMinute: 5, now: () => now });
  const statuses: number[] = [];
  for (let i = 0; i < 7; i++) {
    now += 1_000;
    statuses.push((await get(sim, '/profile')).status);
  }
  expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  const limited = await get(sim, '/profile');
  expect(limited.status).toBe(429);
  expect(limited.body.errorCode).toBe('RATE_LIMITED');
  // The first request (6 s ago) leaves the 60 s window in 54 s.
  expect(limited.headers.get('retry-after')).toBe('54');
  expect(sim.stats.requests(token)).toBe(8);
  expect(sim.stats.maxInAnyWindow(token)).toBe(8);
  expect(sim.stats.byPath()).toEqual({ 'GET /profile': 8 });

  now += 60_000;
  expect((await get(sim, '/profile')).status).toBe(200);
  expect(sim.stats.maxInAnyWindow(token, 1_000)).toBe(2);
});

it('forces 429s during a rate-limit burst', async () => {
  const sim = testSimulator();
  sim.setFaults({ rateLimitBurst: true });
  const res = await get(sim, '/orders');
  expect(res.status).toBe(429);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  sim.setFaults({ rateLimitBurst: false });
  expect((await get(sim, '/orders')).status).toBe(200);
});

it('resets its statistics', async () => {
  const sim = testSimulator();
  await get(sim, '/orders');
  sim.stats.reset();
  expect(sim.stats.requests()).toBe(0);
  expect(sim.stats.byPath()).toEqual({});
});
