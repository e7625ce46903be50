import { setTimeout as sleep } from 'node:timers/promises';
import { expect, test } from 'vitest';
import { createGroupCommitter } from './group-commit.ts';

/**
 * A committer whose durable() calls are settled by the test (`waits`), logging each flush and
 * durable() call in `events`; `flushed` may hold a flush back or fail it.
 */
function withManualDurable(options: { flushed?: (items: number[]) => Promise<void>; durableGapMs?: () => number }) {
  const events: string[] = [];
  const waits: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const settled: number[] = [];
  const committer = createGroupCommitter<number, number>({
    flush: async (items) => {
      events.push(`flush ${items.join(',')}`);
      await (options.flushed ?? (() => sleep(1)))(items);
      return items;
    },
    durable: () =>
      new Promise<void>((resolve, reject) => {
        events.push('durable');
        waits.push({ resolve, reject });
      }),
    ...(options.durableGapMs && { durableGapMs: options.durableGapMs }),
    maxInFlight: 1,
  });
  const submit = (n: number) =>
    committer.submit(n).finally(() => {
      settled.push(n);
    });
  return { events, waits, settled, committer, submit };
}

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

test('with durable(), the next batch flushes while the last waits for the disk; items settle only after a durable() begun after their flush, one shared by the batches that waited', async () => {
  const { events, waits, settled, committer, submit } = withManualDurable({});
  const first = submit(1);
  await sleep(10);
  // Flushed, waiting for the disk: not answered, and its slot is free for the next batch.
  expect(events).toEqual(['flush 1', 'durable']);
  const second = submit(2);
  await sleep(10);
  const third = submit(3);
  await sleep(10);
  // The running durable() began before these two flushed: they wait for the next one.
  expect(events).toEqual(['flush 1', 'durable', 'flush 2', 'flush 3']);
  expect(settled).toEqual([]);
  let drained = false;
  const drain = committer.drain().then(() => (drained = true));
  waits[0]!.resolve();
  await expect(first).resolves.toBe(1);
  await sleep(5);
  expect(events).toEqual(['flush 1', 'durable', 'flush 2', 'flush 3', 'durable']);
  expect(settled).toEqual([1]);
  expect(drained).toBe(false);
  waits[1]!.reject(new Error('flush failed'));
  await expect(second).rejects.toThrow('flush failed');
  await expect(third).rejects.toThrow('flush failed');
  await drain;
  expect(waits).toHaveLength(2);
});

test('with a durable() gap, batches that commit just after a durable() ends share the next one, which also waits for a flush still committing when the gap ends', async () => {
  const held = new Map<number, () => void>();
  const { events, waits, settled, submit } = withManualDurable({
    // Item 4's flush commits only when the test says so.
    flushed: async (items) => {
      if (items.includes(4)) await new Promise<void>((resolve) => held.set(4, resolve));
    },
    durableGapMs: () => 100,
  });
  // Alone: no durable() ran just before, so no gap.
  const first = submit(1);
  await sleep(10);
  expect(events).toEqual(['flush 1', 'durable']);
  const second = submit(2);
  await sleep(10);
  waits[0]!.resolve();
  await expect(first).resolves.toBe(1);
  // Within the gap, as a caller answered by the first durable() would: it rides the next one.
  const third = submit(3);
  await sleep(10);
  const fourth = submit(4);
  await sleep(130);
  // The gap has passed, and item 4's flush is still committing: the next durable() waits for it.
  expect(events).toEqual(['flush 1', 'durable', 'flush 2', 'flush 3', 'flush 4']);
  held.get(4)!();
  await sleep(10);
  expect(events).toEqual(['flush 1', 'durable', 'flush 2', 'flush 3', 'flush 4', 'durable']);
  expect(settled).toEqual([1]);
  waits[1]!.resolve();
  await expect(Promise.all([second, third, fourth])).resolves.toEqual([2, 3, 4]);
  expect(waits).toHaveLength(2);
});

test('a durable() gap never makes a lone batch wait, and a failed flush during the gap does not hold up the next durable()', async () => {
  const { events, waits, committer } = withManualDurable({
    flushed: async (items) => {
      if (items.includes(3)) throw new Error('insert failed');
    },
    durableGapMs: () => 50,
  });
  const first = committer.submit(1);
  await sleep(10);
  expect(events).toEqual(['flush 1', 'durable']);
  const second = committer.submit(2);
  await sleep(10);
  waits[0]!.resolve();
  await first;
  const third = committer.submit(3);
  await expect(third).rejects.toThrow('insert failed');
  // The gap (50 ms) passes with nothing committing: the next durable() begins then, not later.
  await sleep(80);
  expect(events).toEqual(['flush 1', 'durable', 'flush 2', 'flush 3', 'durable']);
  waits[1]!.resolve();
  await expect(second).resolves.toBe(2);
  // Long after: no durable() just ran, so a new lone batch is not made to wait for the gap.
  await sleep(80);
  const fourth = committer.submit(4);
  await sleep(10);
  expect(events.slice(-2)).toEqual(['flush 4', 'durable']);
  waits[2]!.resolve();
  await expect(fourth).resolves.toBe(4);
});
