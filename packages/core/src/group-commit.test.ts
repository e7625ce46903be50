import { setTimeout as sleep } from 'node:timers/promises';
import { expect, test } from 'vitest';
import { createGroupCommitter } from './group-commit.ts';

test('concurrent submitters share flushes, each answered with its own outcome', async () => {
  const batches: number[][] = [];
  const committer = createGroupCommitter<number, string>({
    flush: async (items) => {
      batches.push(items);
      await sleep(5);
      return items.map((n) => `ok-${n}`);
    },
    maxBatch: 50,
    maxInFlight: 1,
  });

  const outcomes = await Promise.all(Array.from({ length: 120 }, (_, n) => committer.submit(n)));

  expect(outcomes).toEqual(Array.from({ length: 120 }, (_, n) => `ok-${n}`));
  expect(batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 120 }, (_, n) => n));
  expect(batches.length).toBeLessThan(10);
  expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(50);
});

test('a failed flush rejects only the items it held', async () => {
  let call = 0;
  const committer = createGroupCommitter<number, number>({
    flush: async (items) => {
      call += 1;
      await sleep(2);
      if (call === 1) throw new Error('database down');
      return items;
    },
    maxInFlight: 1,
  });
  const first = committer.submit(1);
  const second = committer.submit(2); // queued behind the first flush
  await expect(first).rejects.toThrow('database down');
  await expect(second).resolves.toBe(2);
});

test('waits up to the window for company, then flushes a lone item', async () => {
  const sizes: number[] = [];
  const committer = createGroupCommitter<number, number>({
    flush: async (items) => {
      sizes.push(items.length);
      return items;
    },
    windowMs: 20,
  });
  const started = performance.now();
  const a = committer.submit(1);
  await sleep(5);
  const b = committer.submit(2);
  await Promise.all([a, b]);
  expect(sizes).toEqual([2]);
  expect(performance.now() - started).toBeGreaterThanOrEqual(15);
  await committer.drain();
});

test('reports a flush returning the wrong number of outcomes as a failure', async () => {
  const committer = createGroupCommitter<number, number>({ flush: async () => [] });
  await expect(committer.submit(1)).rejects.toThrow('0 outcomes for 1 items');
});

test('with a flush in flight, the next waits for parallelMinBatch items, or for that flush to end', async () => {
  const batches: number[][] = [];
  let release!: () => void;
  const firstHeld = new Promise<void>((resolve) => (release = resolve));
  const committer = createGroupCommitter<number, number>({
    flush: async (items) => {
      batches.push(items);
      if (batches.length === 1) await firstHeld;
      return items;
    },
    maxInFlight: 2,
    parallelMinBatch: 3,
  });
  const first = committer.submit(0); // starts at once, then holds
  const a = committer.submit(1);
  const b = committer.submit(2); // two waiting: not enough for a second flush
  await sleep(5);
  expect(batches).toEqual([[0]]);
  const c = committer.submit(3); // three waiting: the second flush starts while the first holds
  await sleep(5);
  expect(batches).toEqual([[0], [1, 2, 3]]);
  const d = committer.submit(4); // one waiting: it waits for a free slot, not for company
  release();
  await Promise.all([first, a, b, c, d]);
  expect(batches).toEqual([[0], [1, 2, 3], [4]]);
});
