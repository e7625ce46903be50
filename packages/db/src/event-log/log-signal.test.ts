import { expect, test } from 'vitest';
import { recordKinds } from '../schema/event-log.ts';
import { createLogSignal, parseAppendPayload } from './log-signal.ts';

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

test('takeStores: every store until known, then the stores signalled since the last take', () => {
  const signal = createLogSignal();
  // Nothing is known of what came before the first take.
  expect(signal.takeStores('webhook')).toBe('all');
  expect(signal.takeStores('webhook')).toEqual(new Set());
  signal.notify(['webhook'], [1003, 1004]);
  signal.notify(['webhook', 'snapshot'], [1004, 7]);
  expect(signal.takeStores('webhook')).toEqual(new Set([1003, 1004, 7]));
  expect(signal.takeStores('webhook')).toEqual(new Set());
  // A signal without its stores (a reconnected listener, another process's in-process wake): all.
  signal.notify(['webhook'], [1003]);
  signal.notify(['webhook']);
  signal.notify(['webhook'], [1005]);
  expect(signal.takeStores('webhook')).toBe('all');
  expect(signal.takeStores('webhook')).toEqual(new Set());
  // Other kinds do not touch it.
  signal.notify(['snapshot']);
  expect(signal.takeStores('webhook')).toEqual(new Set());
});

test('a notification payload gives its kind, stores and last position; anything else reads as every kind and store', () => {
  expect(parseAppendPayload('webhook 1003,1004 5120')).toEqual({ kinds: ['webhook'], stores: [1003, 1004], upTo: 5120 });
  expect(parseAppendPayload('snapshot 7 12')).toEqual({ kinds: ['snapshot'], stores: [7], upTo: 12 });
  // Too many stores to list: every store, the position still given.
  expect(parseAppendPayload('snapshot * 12')).toEqual({ kinds: ['snapshot'], upTo: 12 });
  // Earlier triggers' payloads: the kind and its stores (0021), the kind alone (0018). No position.
  expect(parseAppendPayload('webhook 1003,1004')).toEqual({ kinds: ['webhook'], stores: [1003, 1004] });
  expect(parseAppendPayload('tombstone')).toEqual({ kinds: ['tombstone'] });
  // A part that does not read is left out: every store, or no position (a wake too many).
  expect(parseAppendPayload('webhook 1003,x 9')).toEqual({ kinds: ['webhook'], upTo: 9 });
  expect(parseAppendPayload('webhook 1003,')).toEqual({ kinds: ['webhook'] });
  expect(parseAppendPayload('webhook -1')).toEqual({ kinds: ['webhook'] });
  expect(parseAppendPayload('webhook 1003 x')).toEqual({ kinds: ['webhook'], stores: [1003] });
  expect(parseAppendPayload('webhook 1003 0')).toEqual({ kinds: ['webhook'], stores: [1003] });
  expect(parseAppendPayload('webhook 1003 1.5')).toEqual({ kinds: ['webhook'], stores: [1003] });
  expect(parseAppendPayload('something new')).toEqual({ kinds: recordKinds });
  expect(parseAppendPayload('webhook 1 2 3')).toEqual({ kinds: recordKinds });
  expect(parseAppendPayload('')).toEqual({ kinds: recordKinds });
});

test('a wait told where its caller has read to ends only for appends past it, or of unknown end', async () => {
  const signal = createLogSignal();
  // The caller's own records, signalled again (by the database, after the in-process wake).
  const waiting = signal.wait(['snapshot'], signal.mark(), 10_000, undefined, 40);
  signal.notify(['snapshot'], [1003], 40);
  signal.notify(['snapshot'], [1003], 12);
  expect(await settledWithin(waiting, 50)).toBe(false);
  signal.notify(['snapshot'], [1003], 41);
  expect(await settledWithin(waiting, 50)).toBe(true);

  // Without a position (a reconnected listener, an older trigger): news, as without `seen`.
  const blind = signal.wait(['snapshot'], signal.mark(), 10_000, undefined, 41);
  signal.notify(['snapshot']);
  expect(await settledWithin(blind, 50)).toBe(true);

  // Past `seen` already when the wait starts, even if signalled before the mark: it returns at once.
  signal.notify(['tombstone'], [1003], 90);
  expect(await settledWithin(signal.wait(['snapshot', 'tombstone'], signal.mark(), 10_000, undefined, 80), 20)).toBe(true);
  expect(await settledWithin(signal.wait(['snapshot', 'tombstone'], signal.mark(), 10_000, undefined, 90), 50)).toBe(false);
  // A blind signal before the mark is old news; after it, news.
  const mark = signal.mark();
  expect(await settledWithin(signal.wait(['snapshot'], mark, 10_000, undefined, 90), 50)).toBe(false);
  signal.notify(['snapshot']);
  expect(await settledWithin(signal.wait(['snapshot'], mark, 10_000, undefined, 90), 20)).toBe(true);

  // A wait without `seen` ends at any signal after its mark, with a position or not.
  const any = signal.wait(['snapshot'], signal.mark(), 10_000);
  signal.notify(['snapshot'], [1003], 3);
  expect(await settledWithin(any, 50)).toBe(true);
});
