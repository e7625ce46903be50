import { expect, test } from 'vitest';
import { createMirroredStoreCache } from './mirrored-store-cache.ts';

/** A load the test answers by hand: `pending` holds the one not answered yet. */
function loads() {
  const calls: { resolve: (stores: Set<number>) => void; reject: (err: Error) => void }[] = [];
  const load = () => new Promise<Set<number>>((resolve, reject) => void calls.push({ resolve, reject }));
  return { load, calls };
}

test('a stale set answers for the stores it holds while it reloads, so a stuck database holds up no known store', async () => {
  const clock = { t: 0 };
  const { load, calls } = loads();
  const isMirrored = createMirroredStoreCache({ load, maxAgeMs: 10_000, missReloadMs: 1000, now: () => clock.t });
  const first = isMirrored(1003);
  calls[0]!.resolve(new Set([1003]));
  expect(await first).toBe(true);

  clock.t = 20_000; // stale: a reload starts, and never answers
  expect(await isMirrored(1003)).toBe(true);
  expect(calls).toHaveLength(2);
  // A store the set does not hold waits for the reload (it may be one just added).
  let settled = false;
  const unknown = Promise.resolve(isMirrored(2000)).then((v) => ((settled = true), v));
  await new Promise((r) => setTimeout(r, 20));
  expect(settled).toBe(false);
  calls[1]!.resolve(new Set([1003, 2000]));
  expect(await unknown).toBe(true);
});

test('a failed background reload is tried again at the next webhook, and a removed store stops being mirrored', async () => {
  const clock = { t: 0 };
  const { load, calls } = loads();
  const isMirrored = createMirroredStoreCache({ load, maxAgeMs: 10_000, missReloadMs: 1000, now: () => clock.t });
  const first = isMirrored(1003);
  calls[0]!.resolve(new Set([1003]));
  await first;
  clock.t = 20_000;
  expect(await isMirrored(1003)).toBe(true);
  calls[1]!.reject(new Error('connection refused'));
  await new Promise((r) => setTimeout(r, 0));
  expect(await isMirrored(1003)).toBe(true);
  expect(calls).toHaveLength(3);
  calls[2]!.resolve(new Set());
  await new Promise((r) => setTimeout(r, 0));
  // The reload said 1003 is gone: a miss now reloads (at most once a second) and refuses it.
  clock.t = 21_500;
  const gone = isMirrored(1003);
  calls[3]!.resolve(new Set());
  expect(await gone).toBe(false);
});
