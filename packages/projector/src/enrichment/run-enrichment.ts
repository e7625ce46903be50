import { describeError, tokenFingerprint, type Logger, type SecretBox } from '@mirror/core';
import type { Db, LogSignal, Session } from '@mirror/db';
import { createTokenCache } from '../stores/store-tokens.ts';

import { enrichStore, type EnrichPassResult, type EnrichStoreDeps, type FetchesInFlight, type FollowOn } from './enrich-store.ts';
import { findStores } from './find-stores.ts';
import { createStoreLeases } from './store-leases.ts';
import type { ClientFactory } from './create-client-factory.ts';
import { sleep } from '@mirror/core';

export type RunEnrichmentOptions = {
  db: Db;
  log: Logger;
  /** Makes a store's client from its token (see createClientFactory: one shared limiter). */
  clientFor: ClientFactory;
  /** Opens the sealed tokens in store_tokens (MIRROR_SECRET_KEY). */
  box: SecretBox;
  signal: AbortSignal;
  /** Stores worked on at once. */
  concurrency?: number;
  /** Pause when no store had work. */
  pollIntervalMs?: number;
  /**
   * Wakes the loop when webhooks are appended (`pollIntervalMs` is then only the fallback), and
   * is told of the snapshots and tombstones each pass commits (the projection's wake-up).
   */
  appended?: LogSignal;
  /**
   * With `appended` listening to the database, a wake reads the state of the stores it names
   * (and of those with work or a pass in flight), not of every store in the log; every store is
   * read at the first wake, after the listener reconnects, and now and then for whatever changed
   * without an append (an operator moving a checkpoint back): every this many ms (default
   * 5,000), or, when reading every store takes longer than a fiftieth of that, every 50 times
   * what the last such reading took, so it never costs more than 2% of the loop's time.
   * 0: every wake reads every store, as before decision 0021.
   */
  fullReadIntervalMs?: number;
  /**
   * Start a store's next pass once the fetches of the one in flight returned, while it commits
   * (decision 0015). Default true.
   */
  pipeline?: boolean;
  /**
   * Where store leases are taken (Database.openSession): a store's passes run under its lease (a
   * Postgres advisory lock, see createStoreLeases), so other processes on the database leave it
   * alone meanwhile. Absent on PGlite, one session shared by every client, where the lock would
   * be granted to everyone (and there is one process anyway): no leases.
   */
  openSession?: ((onClose: () => void) => Session) | undefined;
  /** Called after each reading of the stores' state: how many were read, whether all were, and how long it took. */
  onRead?: (read: { stores: number; full: boolean; ms: number }) => void;
  /** Called after each pass (metrics, tests, benchmarks). */
  onPass?: (storeId: number, result: EnrichPassResult) => void;
} & Pick<
  EnrichStoreDeps,
  'batchSize' | 'maxAttempts' | 'retryBaseMs' | 'retryMaxMs' | 'now' | 'fetchOptions' | 'onFetched' | 'onNote' | 'profileWithOrders'
>;

/**
 * Passes that may follow a store's pass in flight, each the next of the one before (decision
 * 0015; deeper than one since 0023): a burst of webhooks for one store (a checkout sends three or
 * more) is fetched at once instead of a webhook waiting for the fetch of the pass two ahead of it.
 */
const maxFollowers = 3;

/**
 * The fetches still in flight of the passes ahead of a new one: an entity any of them fetches is
 * fetched by the new pass only once all have returned, so a later webhook's fetch of an entity is
 * never sent before an earlier one's answered (FollowOn.fetching).
 */
function fetchesOf(chain: readonly { fetching?: FetchesInFlight | undefined }[]): FetchesInFlight | undefined {
  const fetching = chain.flatMap((pass) => (pass.fetching ? [pass.fetching] : []));
  if (fetching.length <= 1) return fetching[0];
  return {
    keys: new Set(fetching.flatMap((f) => [...f.keys])),
    done: Promise.all(fetching.map((f) => f.done)).then(() => {}),
  };
}

/**
 * The enrichment stage as a long-running loop: finds stores with webhooks after their
 * checkpoint, runs one pass per store with bounded concurrency (a failing or blocked store only
 * delays itself), and when idle waits for new webhooks (`appended`) or the next poll. On abort it stops starting passes; a pass in flight
 * either commits whole or not at all. Resolves once stopped.
 */
export async function runEnrichment(options: RunEnrichmentOptions): Promise<void> {
  const {
    db,
    log,
    clientFor,
    box,
    signal,
    concurrency = 4,
    pollIntervalMs = 100,
    onPass,
    onRead,
    appended,
    pipeline = true,
    openSession,
    fullReadIntervalMs = 5_000,
    ...passOptions
  } = options;
  const leases = openSession && createStoreLeases(openSession, log);
  const now = passOptions.now ?? (() => new Date());
  // In-memory pauses after a database error, so one bad store cannot spin the loop.
  const pausedUntil = new Map<number, number>();
  const waitingForToken = new Set<number>();
  // Uninstalled stores whose webhooks wait: looked at again when their token changes (a
  // reinstall), or after a while (an `application.installed` may have come).
  const heldUninstalled = new Map<number, { until: number; token: string | undefined }>();
  const reportedUnreadable = new Set<number>();
  const profileKnown = new Set<number>();
  const tokensOf = createTokenCache(db, box);

  // Each store runs on its own: a pass starts as soon as the store has work and a slot is free,
  // and a finished pass wakes the loop, so a slow store never holds the others' next pass.
  // A store's passes in flight, in log order: the one ahead and up to maxFollowers following it,
  // each the next of the one before (FollowOn). `end` is where a pass's read ended, from when it
  // starts fetching (unset again if it turns out it will not commit up to there); `fetching`, its
  // fetches while in flight.
  type Pass = { done: Promise<void>; end?: number | undefined; fetching?: FetchesInFlight | undefined };
  const inFlight = new Map<number, Pass[]>();
  let wake: () => void = () => {};
  // When each store's last pass ended (a counter, not a time): a store whose pass ended while
  // the loop was reading the stores' states may have been read before that pass committed, so
  // it waits for the next read instead of starting a pass on a stale view (e.g. one that just
  // paused the store).
  let passesEnded = 0;
  const endedAt = new Map<number, number>();

  // Some store with work found no free slot at the last reading: a store's chain of passes
  // would hold its slot for as long as webhooks keep coming, so it ends after the pass in
  // flight and the slot goes round, as without pipelining.
  let othersWaiting = false;

  let passesStarted = 0;
  const startedAt = new Map<number, number>();

  // Stores whose next pass could not start because a pass of theirs was still reading the log
  // (so where its read ends was not known yet), with the last webhook the loop saw: that pass
  // starts the next one as soon as its fetches start, instead of the webhook waiting for them to
  // return, or for a wake that may not come until the poll.
  const deferred = new Map<number, number>();

  // The stores the last reading found with work, and those whose pass ended since: a wake reads
  // these again with the stores it names. Every store is read at the first wake, when the
  // stores are not known, and every fullReadIntervalMs (performance.now, not `now`: a cadence).
  const storesWithWork = new Set<number>();
  const endedSinceRead = new Set<number>();
  let lastFullRead = -Infinity;
  let fullReadEvery = fullReadIntervalMs;

  function startPass(storeId: number, token: string | undefined, follow?: FollowOn, expectedPosition?: number) {
    startedAt.set(storeId, ++passesStarted);
    const chain = inFlight.get(storeId) ?? [];
    inFlight.set(storeId, chain);
    const entry: Pass = { done: Promise.resolve() };
    chain.push(entry);
    entry.done = (async () => {
      let progressed = false;
      try {
        const result = await enrichStore(
          {
            ...passOptions,
            db,
            log,
            signal,
            client: token === undefined ? undefined : clientFor(storeId, token),
            ...(token !== undefined && { tokenFingerprint: tokenFingerprint(token) }),
            follow,
            expectedPosition,
            profileKnown,
            // A webhook that comes while this pass fetches starts the next pass at the loop's
            // next reading (lastWebhook past `end`), without waiting for these fetches.
            onFetchStart: (end, fetching) => {
              entry.end = end;
              entry.fetching = fetching;
              const waiting = deferred.get(storeId);
              if (waiting !== undefined) {
                deferred.delete(storeId);
                followOn(storeId, token, waiting);
              }
            },
            onFetchDone: (end) => {
              entry.end = end;
              entry.fetching = undefined;
              // Only from the last pass of the chain: one ahead of it already has its next.
              if (chain.at(-1) === entry) followOn(storeId, token);
            },
          },
          storeId,
        );
        // A follower that gave up says nothing about the store: the pass before it did.
        if (result.status !== 'superseded') {
          if (result.status === 'waiting_for_token') waitingForToken.add(storeId);
          else waitingForToken.delete(storeId);
          if (result.status === 'uninstalled') heldUninstalled.set(storeId, { until: now().getTime() + 5_000, token });
          else heldUninstalled.delete(storeId);
        }
        progressed = result.status === 'progressed' || result.status === 'conflict' || result.status === 'superseded';
        if (result.appended > 0) appended?.notify(['snapshot', 'tombstone'], [storeId], result.appendedUpTo);
        onPass?.(storeId, result);
      } catch (err) {
        pausedUntil.set(storeId, now().getTime() + 5_000);
        log.error({ storeId, error: describeError(err) }, 'enrichment pass failed');
      } finally {
        endedAt.set(storeId, ++passesEnded);
        endedSinceRead.add(storeId);
        chain.splice(chain.indexOf(entry), 1);
        // A webhook that came while this pass read the log, and that it ended without following
        // up (it found nothing, or stopped): a next pass now, or the loop looks at the store again
        // at once, not at the next webhook or poll.
        const waiting = deferred.get(storeId);
        deferred.delete(storeId);
        if (waiting !== undefined && chain.length > 0) followOn(storeId, token, waiting);
        if (chain.length === 0) {
          inFlight.delete(storeId);
          // Before the loop can look at the store again: on the one lease connection the unlock
          // then goes ahead of a new lock.
          void leases?.release(storeId);
        }
        if (progressed || (waiting !== undefined && !inFlight.has(storeId))) wake();
      }
    })();
  }

  // Starts the next pass of a store whose passes in flight are all fetching or have fetched, so
  // webhooks that came meanwhile wait for none of their fetches (unless for the same entity) nor
  // their commits, only commit after them. `lastWebhook`, when known: the store's last webhook,
  // so no pass is started that would find nothing after the last one in flight.
  function followOn(storeId: number, token: string | undefined, lastWebhook?: number) {
    const chain = inFlight.get(storeId);
    if (!pipeline || signal.aborted || othersWaiting || !chain || chain.length === 0 || chain.length > maxFollowers) return;
    if (chain.some((pass) => pass.end === undefined)) {
      // Looked at again once that pass knows where its read ends (onFetchStart).
      if (lastWebhook !== undefined) deferred.set(storeId, Math.max(deferred.get(storeId) ?? 0, lastWebhook));
      return;
    }
    const last = chain.at(-1)!;
    if (lastWebhook !== undefined && lastWebhook <= last.end!) return;
    startPass(storeId, token, { after: last.end!, previous: last.done, fetching: fetchesOf(chain) });
  }

  const isHeld = (storeId: number, token: string | undefined, at: number) => {
    const held = heldUninstalled.get(storeId);
    return held !== undefined && held.token === token && held.until > at;
  };

  while (!signal.aborted) {
    // Sleeps until the poll interval ends, a pass finishes with progress, or the signal aborts.
    const controller = new AbortController();
    const stopWaiting = () => controller.abort();
    signal.addEventListener('abort', stopWaiting, { once: true });
    wake = stopWaiting;
    // Before the stores are read: a webhook committed after that read ends the wait below.
    const mark = appended?.mark() ?? 0;
    try {
      const readFrom = passesEnded;
      // A token this process cannot open (sealed with another key, after `mirror secrets rotate`)
      // leaves its store alone: it is neither called with garbage nor marked as waiting.
      const unreadable = new Set<number>();
      // Taken before the reading: a webhook committed during it names its store for the next.
      const named = appended?.takeStores('webhook') ?? 'all';
      const readingAt = performance.now();
      const full = !appended?.listening || named === 'all' || fullReadIntervalMs === 0 || readingAt - lastFullRead >= fullReadEvery;
      const toRead = full ? undefined : new Set([...named, ...storesWithWork, ...endedSinceRead, ...inFlight.keys()]);
      endedSinceRead.clear();
      const stores = await findStores(db, toRead && [...toRead]);
      const readingMs = performance.now() - readingAt;
      if (full) {
        lastFullRead = readingAt;
        fullReadEvery = Math.max(fullReadIntervalMs, 50 * readingMs);
      }
      onRead?.({ stores: stores.length, full, ms: readingMs });
      // Every store that has work was read (the last reading's, and any a webhook named since).
      storesWithWork.clear();
      for (const s of stores) if (s.hasWork) storesWithWork.add(s.storeId);
      const tokens = await tokensOf(stores, (storeId, err) => {
        unreadable.add(storeId);
        if (!reportedUnreadable.has(storeId))
          log.error({ storeId, error: err.message }, 'store token does not open with MIRROR_SECRET_KEY');
        reportedUnreadable.add(storeId);
      });
      const at = now().getTime();
      let wanted = false;
      // Least recently started first: free slots go round the stores instead of to the lowest
      // store ids, so with more busy stores than slots none waits for the others to go idle.
      stores.sort((a, b) => (startedAt.get(a.storeId) ?? 0) - (startedAt.get(b.storeId) ?? 0));
      for (const s of stores) {
        if (signal.aborted) break;
        if (s.hasWork && inFlight.has(s.storeId) && tokens.get(s.storeId) !== undefined)
          followOn(s.storeId, tokens.get(s.storeId), s.lastWebhook);
        const due =
          s.hasWork &&
          !inFlight.has(s.storeId) &&
          (endedAt.get(s.storeId) ?? 0) <= readFrom &&
          !(s.retryAt && s.retryAt.getTime() > at) &&
          (pausedUntil.get(s.storeId) ?? 0) <= at &&
          !unreadable.has(s.storeId) &&
          // A store waiting for its token is looked at again once one appears.
          !(waitingForToken.has(s.storeId) && !tokens.has(s.storeId)) &&
          !isHeld(s.storeId, tokens.get(s.storeId), at);
        if (due && inFlight.size < concurrency) {
          // Another process is on the store: it is looked at again at the next wake or poll.
          if (leases && !(await leases.take(s.storeId))) continue;
          if (signal.aborted) {
            void leases?.release(s.storeId);
            continue;
          }
          startPass(s.storeId, tokens.get(s.storeId), undefined, s.position);
        } else if (due) wanted = true;
      }
      othersWaiting = wanted;
    } catch (err) {
      // The stores this wake named were taken: the next reading reads them all.
      lastFullRead = -Infinity;
      log.error({ error: describeError(err) }, 'enrichment loop failed');
    }
    if (appended) await appended.wait(['webhook'], mark, pollIntervalMs, controller.signal);
    else await sleep(pollIntervalMs, controller.signal);
    signal.removeEventListener('abort', stopWaiting);
  }
  // Passes in flight commit whole or not at all (they check the signal before committing).
  await Promise.all([...inFlight.values()].flat().map((p) => p.done));
  await leases?.close();
}
