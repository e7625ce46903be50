import { expect, test } from 'vitest';
import { createLogSignal } from './log-signal.ts';

const settledWithin = async (promise: Promise<void>, ms: number) =>
  Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

test('a wait ends when an append of a kind it waits for is signalled', async () => {
  const signal = createLogSignal();
  const waiting = signal.wait(['webhook'], signal.mark(), 10_000);
  signal.notify(['webhook']);
  expect(await settledWithin(waiting, 50)).toBe(true);
});

test('a wait ignores appends of other kinds', async () => {
  const signal = createLogSignal();
  const waiting = signal.wait(['snapshot', 'tombstone'], signal.mark(), 10_000);
  signal.notify(['webhook']);
  expect(await settledWithin(waiting, 50)).toBe(false);
  signal.notify(['tombstone']);
  expect(await settledWithin(waiting, 50)).toBe(true);
});

test('an append signalled between the mark and the wait is not lost', async () => {
  const signal = createLogSignal();
  const mark = signal.mark();
  signal.notify(['snapshot']);
  expect(await settledWithin(signal.wait(['snapshot'], mark, 10_000), 20)).toBe(true);
  // A wait from a later mark does wait.
  expect(await settledWithin(signal.wait(['snapshot'], signal.mark(), 10_000), 50)).toBe(false);
});

test('a wait ends at its timeout (the fallback poll) and on abort', async () => {
  const signal = createLogSignal();
  const started = Date.now();
  await signal.wait(['webhook'], signal.mark(), 30);
  expect(Date.now() - started).toBeGreaterThanOrEqual(25);

  const controller = new AbortController();
  const waiting = signal.wait(['webhook'], signal.mark(), 10_000, controller.signal);
  controller.abort();
  expect(await settledWithin(waiting, 50)).toBe(true);
});
