import { mapConcurrent, toError } from '@mirror/core';
import { EcwidHttpError, EcwidStoreError, EcwidValidationError, type EcwidClient, type EcwidLookup } from '@mirror/ecwid';
import { fetchers, type AnyFetcher, type BatchFetcher, type FetchContext } from './entity-fetchers.ts';
import type { FetchKind } from './plan-work.ts';

/** What a re-fetch gave for one entity. `entityId` is the record key (orders: the public id). */
export type FetchOutcome =
  | { status: 'ok'; entityId: string; doc: unknown; fetchedAt: Date }
  | { status: 'gone'; fetchedAt: Date }
  | { status: 'failed'; error: Error };

export type FetchRequest = { entityKind: FetchKind; key: string };

export type FetchOptions = {
  /** Below this many ids of one kind, read them one by one (a batch costs a poll round-trip). */
  batchThreshold?: number;
  /**
   * Single reads in flight at once, per kind. Default: one less than `batchThreshold`, so the
   * reads of any set of ids below it go out in one round (a second round is a second REST
   * latency on the path of a webhook to its row); the token's rate limiter still paces them.
   */
  concurrency?: number;
  now?: () => Date;
};

/** `${entityKind}\u0000${key}`, the same key planWork coalesces on. */
export const requestKey = (r: FetchRequest) => `${r.entityKind}\u0000${r.key}`;

type Settle = (key: string, outcome: FetchOutcome) => void;

/**
 * Re-fetches entities over REST, in bulk where Ecwid allows (orders and products by id lists,
 * the batch API for the rest when there are many). One entity's failure is its outcome; a
 * store-level error (401/402/403, `EcwidStoreError`) throws, because nothing else will work
 * either, except a feature that is off (403 `*_FEATURE_NOT_AVAILABLE`): that only concerns the
 * entities of that feature, so it is their outcome. `gone` comes only from a 404 on a read by id
 * (or a promotion missing from the complete listing): an id a search did not return is read
 * again by id before it is called gone.
 */
export async function fetchEntities(
  client: EcwidClient,
  storeId: number,
  requests: readonly FetchRequest[],
  options: FetchOptions = {},
): Promise<Map<string, FetchOutcome>> {
  const { batchThreshold = 10, now = () => new Date() } = options;
  const concurrency = options.concurrency ?? Math.max(1, batchThreshold - 1);
  const outcomes = new Map<string, FetchOutcome>();
  const byKind = new Map<FetchKind, string[]>();
  for (const r of requests) byKind.set(r.entityKind, [...(byKind.get(r.entityKind) ?? []), r.key]);

  const settle: Settle = (key, outcome) => outcomes.set(key, outcome);
  const k = (kind: FetchKind, key: string) => `${kind}\u0000${key}`;

  // Runs one call; a non-store failure becomes every listed key's outcome.
  async function guard(kind: FetchKind, keys: readonly string[], call: () => Promise<void>) {
    try {
      await call();
    } catch (err) {
      if (err instanceof EcwidStoreError && err.code !== 'FEATURE') throw err;
      const error = toError(err);
      for (const key of keys) if (!outcomes.has(k(kind, key))) settle(k(kind, key), { status: 'failed', error });
    }
  }

  function fromLookup<T>(kind: FetchKind, key: string, result: EcwidLookup<T>, entityId = key) {
    settle(
      k(kind, key),
      result.status === 'ok' ? { status: 'ok', entityId, doc: result.value, fetchedAt: now() } : { status: 'gone', fetchedAt: now() },
    );
  }

  async function oneByOne(kind: FetchKind, keys: readonly string[], read: (key: string) => Promise<EcwidLookup<unknown>>) {
    await mapConcurrent(keys, concurrency, (key) => guard(kind, [key], async () => fromLookup(kind, key, await read(key))));
  }

  async function viaBatchOrSingles(kind: FetchKind, keys: readonly string[], fetcher: BatchFetcher) {
    if (keys.length < batchThreshold) return oneByOne(kind, keys, (key) => fetcher.one(client, key));
    await guard(kind, keys, async () => {
      const result = await client.fetchByBatch(fetcher.batch, keys.map(fetcher.toId));
      const fetchedAt = now();
      for (const { id, value } of result.found) settle(k(kind, String(id)), { status: 'ok', entityId: String(id), doc: value, fetchedAt });
      for (const id of result.missing) settle(k(kind, String(id)), { status: 'gone', fetchedAt });
      for (const { id, error } of result.failed) settle(k(kind, String(id)), { status: 'failed', error });
    });
  }

  const context: FetchContext = {
    client,
    storeId,
    concurrency,
    now,
    settle: (kind, key, outcome) => settle(k(kind, key), outcome),
    guard,
    oneByOne,
  };
  const tasks = [...byKind].map(async ([kind, keys]) => {
    const fetcher: AnyFetcher = fetchers[kind];
    switch (fetcher.mode) {
      case 'bulk':
        return guard(kind, keys, async () => {
          try {
            await fetcher.bulk(context, keys);
          } catch (err) {
            // One id Ecwid refuses (400) or one document that does not parse fails the search
            // for every id in it: each is read on its own, so only that one fails (and, failing
            // on, is parked) rather than the entities that came with it. Not after an outage or a
            // refusal of the store: reading one by one would only fail again, many times.
            if (keys.length === 1 || !(err instanceof EcwidHttpError || err instanceof EcwidValidationError)) throw err;
            await fetcher.each(
              context,
              keys.filter((key) => !outcomes.has(k(kind, key))),
            );
          }
        });
      case 'batch':
        return viaBatchOrSingles(kind, keys, fetcher);
      case 'single':
        return oneByOne(kind, keys, (key) => fetcher.one(client, key));
      case 'listing':
        return guard(kind, keys, () => fetcher.listing(context, keys));
      case 'store':
        return guard(kind, keys, async () =>
          settle(k(kind, keys[0]!), { status: 'ok', entityId: String(storeId), doc: await fetcher.doc(client), fetchedAt: now() }),
        );
    }
  });
  // Every kind runs; a store-level error from any of them is rethrown after the others settle.
  const results = await Promise.allSettled(tasks);
  const storeError = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (storeError) throw storeError.reason;
  for (const r of requests) {
    if (!outcomes.has(requestKey(r))) settle(requestKey(r), { status: 'failed', error: new Error('no answer for this id') });
  }
  return outcomes;
}
