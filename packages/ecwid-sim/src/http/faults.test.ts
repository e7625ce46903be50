import { expect, it } from 'vitest';
import { get, request, storeId, testSimulator, token } from '../test-helpers.ts';

it('answers about errorRate of the requests with a 5xx', async () => {
  const sim = testSimulator({ faults: { errorRate: 0.3 } });
  const statuses = await Promise.all(Array.from({ length: 400 }, async () => (await request(sim, '/profile')).status));
  const failed = statuses.filter((status) => status >= 500).length;
  expect(failed / statuses.length).toBeGreaterThan(0.22);
  expect(failed / statuses.length).toBeLessThan(0.38);
  expect(statuses.filter((status) => status !== 200 && status < 500)).toEqual([]);
});

it('adds latency to every response', async () => {
  const sim = testSimulator({ faults: { latencyMs: 80 } });
  const started = performance.now();
  await get(sim, '/orders/NOPE1');
  expect(performance.now() - started).toBeGreaterThanOrEqual(75);
});

it('cuts the JSON of a share of the 200s', async () => {
  const sim = testSimulator({ faults: { malformedRate: 0.5 } });
  let malformed = 0;
  for (let i = 0; i < 100; i++) {
    const res = await request(sim, '/orders?limit=2');
    expect(res.status).toBe(200);
    try {
      JSON.parse(await res.text());
    } catch {
      malformed++;
    }
  }
  expect(malformed).toBeGreaterThan(30);
  expect(malformed).toBeLessThan(70);
});

it('holds a timed-out request until the client gives up', async () => {
  const sim = testSimulator({ faults: { timeoutRate: 1 } });
  const server = await sim.listen(0);
  try {
    const started = performance.now();
    const attempt = fetch(`${server.url}/${storeId}/profile`, {
      headers: { Authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(300),
    });
    await expect(attempt).rejects.toThrow();
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    sim.setFaults({ timeoutRate: 0 });
    const res = await fetch(`${server.url}/${storeId}/profile`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
  } finally {
    await server.close();
  }
});

it('answers a held request with 408 after timeoutHoldMs', async () => {
  const sim = testSimulator({ faults: { timeoutRate: 1, timeoutHoldMs: 50 } });
  const res = await get(sim, '/profile');
  expect(res.status).toBe(408);
  expect(res.body.errorCode).toBe('TIMEOUT');
});
