import { describeError, type Logger } from '@mirror/core';
import {
  enrichmentAttemptsTable,
  enrichmentStateTable,
  eventLogTable,
  execRows,
  failedRequirement,
  ordersTable,
  parkedEventsTable,
  pipelineCommit,
  storeTokensTable,
  type Db,
} from '@mirror/db';
import { EcwidStoreError, EcwidUnavailableError, type EcwidClient } from '@mirror/ecwid';
import { and, asc, eq, gt, inArray, isNull, notInArray, sql } from 'drizzle-orm';
import type { Kind } from '@mirror/catalog';
import { appendRecords, appendRecordsPipelined, type ProjectorRecord, type RecordNote } from './append-records.ts';
import { buildRecord } from './build-record.ts';
import { erasedSubjectsFound, eraseWaitingWebhooks } from '../personal-data/erase-on-append.ts';

import {
  advanceEnrichment,
  checkpointMoved,
  readEnrichmentState,
  setEnrichmentStatus,
  type EnrichmentState,
  type EnrichmentStatus,
} from './enrichment-state.ts';
import { fetchEntities, requestKey, type FetchOptions, type FetchOutcome } from './fetch-entities.ts';
import { lifecycleAt, planWork, type FetchKind, type LifecycleState, type WorkGroup } from './plan-work.ts';

export type EnrichStoreDeps = {
  db: Db;
  log: Logger;
  /** The store's client, or undefined when `store_tokens` has no token for it. */
  client: EcwidClient | undefined;
  /**
   * Fetch the store profile with a store's first order snapshots when the log has none, so
   * orders get its currency (decision 0009). Default true.
   */
  profileWithOrders?: boolean;
  /** The fingerprint of the client's token: a confirmed uninstall destroys that token, not a newer one. */
  tokenFingerprint?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Webhook records read per pass. */
  batchSize?: number;
  /** Failed fetches of one entity before its webhooks are parked (an outage does not count). */
  maxAttempts?: number;
  /** Consecutive store-level pauses after which each one is logged as an error (it still never parks). */
  pauseAlertAfter?: number;
  /** Backoff after a failure: base · 2^(attempt−1), capped. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  now?: () => Date;
  fetchOptions?: FetchOptions;
  /** Called with each entity's fetch outcome (metrics, by kind). */
  onFetched?: (kind: FetchKind, outcome: FetchOutcome['status']) => void;
  /** Called for each record appended with a note: a claim of a webhook that Ecwid contradicted. */
  onNote?: (kind: Kind, note: RecordNote) => void;
  /**
   * Stores whose log is known to hold a store profile snapshot (one never leaves the log), kept
   * by the caller across passes: their passes skip looking for one.
   */
  profileKnown?: Set<number> | undefined;
  /** Run as the next pass of one still in flight for the store (see FollowOn). */
  follow?: FollowOn | undefined;
  /**
   * Where the caller last saw the store's checkpoint (the loop's reading): the pass reads the
   * webhooks after it while it reads the store's state, one round trip instead of two, and
   * reads them again only if the state says the checkpoint is elsewhere.
   */
  expectedPosition?: number | undefined;
  /**
   * Called when the pass starts its fetches, with where its read of the log ended and the
   * fetches in flight, when a next pass may start from there at once (see FollowOn.fetching).
   * Not called when the pass holds webhooks or probes an uninstall.
   */
  onFetchStart?: (end: number, fetching: FetchesInFlight) => void;
  /**
   * Called once the pass's fetches returned, with where its read of the log ended when a next
   * pass may start from there (undefined when the pass stops the store or changes its lifecycle).
   */
  onFetchDone?: (end: number | undefined) => void;
};

/**
 * Pipelined passes (decision 0015): a pass that starts while the store's previous pass still
 * fetches or commits. It reads the webhooks after the previous pass's read, fetches their
 * entities (those the previous pass also fetches only once its fetches returned), then
 * waits for the previous pass to settle before it decides anything. It goes on only if that pass
 * left the checkpoint at `after` and the store active with the lifecycle it read; otherwise it
 * gives up (`superseded`) and a normal pass starts over from the checkpoint. Its commit is the
 * same compare-and-set as any pass's, so the order of commits and the checkpoint stay exact.
 */
export type FollowOn = {
  after: number;
  /** Settles once the previous pass committed or gave up. */
  previous: Promise<unknown>;
  /**
   * The previous pass's fetches, when they were still in flight as this pass started. A fetch
   * of an entity that one of them also fetches is sent only once they returned, so a later
   * webhook's fetch of an entity is never sent before an earlier one's answered; other entities
   * are fetched at once.
   */
  fetching?: FetchesInFlight | undefined;
};

/** A pass's fetches in flight: what they are for (requestKey), and when they are over. */
export type FetchesInFlight = { keys: ReadonlySet<string>; done: Promise<void> };

/**
 * Whether fetching `groups` could overtake one of `fetching`'s fetches of the same entity. An
 * order known only by its internal id may be any order (the search by internal id answers with
 * the public one), so it clashes with every order fetch.
 */
function clashes(fetching: FetchesInFlight, groups: readonly Extract<WorkGroup, { action: 'fetch' }>[]): boolean {
  const internalOrder = (key: string) => key.startsWith(`order\u0000internal:`);
  const anyOrder = [...fetching.keys].some((key) => key.startsWith('order\u0000'));
  const anyInternal = [...fetching.keys].some(internalOrder);
  return groups.some((group) => {
    const key = requestKey(group);
    if (fetching.keys.has(key)) return true;
    return group.entityKind === 'order' && ((anyOrder && internalOrder(key)) || anyInternal);
  });
}

export type EnrichPassResult = {
  /**
   * `paused`: Ecwid was unavailable; what came before the first unanswered webhook may have been
   * committed. `uninstalled`: webhooks wait for a reinstall (a new token). `superseded`: a
   * pass that followed another (FollowOn) found the store not as it assumed; it did nothing.
   */
  status: 'idle' | 'progressed' | 'waiting_for_token' | 'blocked' | 'paused' | 'conflict' | 'aborted' | 'uninstalled' | 'superseded';
  /** Records appended by this pass. */
  appended: number;
  /** The position of the last of them (when it appended any): wakes only consumers not yet past it. */
  appendedUpTo?: number;
  parked: number;
  /** The checkpoint after the pass. */
  position: number;
  /** Set when some entity failed and will be retried from its webhook after this time. */
  retryAt?: Date;
  /** True when the pass read a full batch: there is probably more to do at once. */
  hasMore: boolean;
  /** Set when it committed up to webhooks that wait for a reinstall (as `uninstalled` does). */
  held?: true;
};

const isFetch = (g: WorkGroup): g is Extract<WorkGroup, { action: 'fetch' }> => g.action === 'fetch';

/**
 * Ecwid (or the way to it) is down or throttling: the store waits as a whole instead of the
 * entities being counted toward parking, so a short outage parks nothing. A body that does not
 * parse stays the entity's own failure: pausing on it could stop the store for good.
 */
const isOutage = (err: Error) => err instanceof EcwidUnavailableError && err.reason !== 'malformed_body';

/**
 * One enrichment pass for one store: reads the webhooks after its checkpoint, fetches what they
 * concern (outside any transaction), then appends snapshots/tombstones, parks what kept failing
 * and moves the checkpoint in one transaction with compare-and-set, so two workers never both
 * append for the same webhooks and a crash at any point leaves nothing half-done.
 */
export async function enrichStore(deps: EnrichStoreDeps, storeId: number): Promise<EnrichPassResult> {
  const result = await enrichPass(deps, storeId);
  // Webhooks that wait for a reinstall are answered by no append, so the erasure of what they
  // say about people is done here (docs/personal-data.md).
  if (result.status === 'uninstalled' || result.held) await eraseWaitingWebhooks(deps.db, storeId, result.position);
  return result;
}

async function enrichPass(deps: EnrichStoreDeps, storeId: number): Promise<EnrichPassResult> {
  const {
    db,
    log,
    batchSize = 500,
    maxAttempts = 5,
    pauseAlertAfter = 10,
    retryBaseMs = 1000,
    retryMaxMs = 300_000,
    now = () => new Date(),
  } = deps;
  const follow = deps.follow;
  // A follower reads from `after` whatever the state says; another pass, from the checkpoint,
  // which is most likely where the loop saw it.
  const guess = follow ? follow.after : deps.expectedPosition;
  const early = guess === undefined ? undefined : readStoreWebhooks(db, storeId, guess, batchSize);
  // Awaited below, or not needed when the pass stops first.
  early?.catch(() => {});
  let state = await readEnrichmentState(db, storeId);
  const from = follow ? follow.after : state.position;
  const idle: EnrichPassResult = { status: 'idle', appended: 0, parked: 0, position: from, hasMore: false };
  const superseded: EnrichPassResult = { ...idle, status: 'superseded' };
  if (follow && !isPlain(state)) return superseded;
  // Not due yet: the loop (or another worker) can schedule a pass from a reading taken before a
  // concurrent pass blocked or paused the store; honour the retry time that pass set.
  if ((state.status === 'blocked' || state.status === 'paused') && state.retryAt && state.retryAt > now()) {
    return { status: 'idle', appended: 0, parked: 0, position: from, hasMore: false, retryAt: state.retryAt };
  }
  const webhooks = early && guess === from ? await early : await readStoreWebhooks(db, storeId, from, batchSize);
  if (webhooks.length === 0) return idle;

  // Uninstalled, but an `application.installed` newer than the uninstall is in the log after
  // the checkpoint: what waited before it is fetched now (with the token the store has, if any).
  const reinstalled = state.status === 'uninstalled' && (await hasNewerInstall(db, storeId, from, state.lifecycleAt));
  const initial: LifecycleState = {
    lifecycle: state.status === 'uninstalled' && !reinstalled ? 'uninstalled' : 'active',
    at: state.lifecycleAt,
  };
  const plan = planWork(storeId, webhooks, initial);
  /**
   * The newer install stays a claim: the store stays uninstalled, nothing skipped, and its state
   * says why (once; only while it still is uninstalled at this checkpoint, so a reinstall that
   * registered its token meanwhile is not undone).
   */
  const installNotConfirmed = async (reason: string): Promise<EnrichPassResult> => {
    const lastError = `application.installed not confirmed: ${reason}`;
    if (state.lastError !== lastError) {
      const t = enrichmentStateTable;
      await db
        .update(t)
        .set({ lastError, updatedAt: sql`now()` })
        .where(and(eq(t.storeId, storeId), eq(t.position, from), eq(t.status, 'uninstalled')));
      log.warn({ storeId, reason }, 'application.installed not confirmed');
    }
    return { ...idle, status: 'uninstalled' };
  };
  // The plan may stop early (at an uninstall to confirm): what follows is for the next pass.
  // Stopped at webhooks that wait for a reinstall: nothing more to do until then.
  const hasMore = !plan.held && (webhooks.length === batchSize || plan.lastPosition < webhooks.at(-1)!.position);
  await resolveInternalOrderIds(db, storeId, plan.groups);
  const probe = plan.uninstallProbe;
  let uninstallConfirmed = false;

  const fetchGroups = plan.groups.filter(isFetch);
  let outcomes = new Map<string, FetchOutcome>();
  let skipFetches = false;
  if (fetchGroups.length > 0 && !deps.client) {
    if (follow) return superseded;
    // An install newer than the uninstall is a claim like any webhook (its storeId is not
    // signed, decision 0004): only a token Ecwid honours confirms it. Without one the store stays
    // uninstalled, its webhooks held and none skipped; the token's arrival is looked at again.
    if (reinstalled) return installNotConfirmed('no access token in store_tokens');
    if (state.status !== 'waiting_for_token') {
      await setEnrichmentStatus(db, storeId, from, { status: 'waiting_for_token', lastError: 'no access token in store_tokens' });
      log.warn({ storeId }, 'store waiting for an access token');
    }
    return { ...idle, status: 'waiting_for_token' };
  }
  let fetchError: unknown;
  // A next pass may start now, from the end of this read: it fetches what this pass does not
  // while this one fetches (FollowOn.fetching), and commits after it.
  let fetchesReturned = () => {};
  if (!plan.held && !probe && deps.onFetchStart) {
    const done = new Promise<void>((resolve) => (fetchesReturned = resolve));
    deps.onFetchStart(plan.lastPosition, { keys: new Set(fetchGroups.map(requestKey)), done });
  }
  if (deps.client && fetchGroups.length > 0) {
    try {
      if (follow?.fetching && clashes(follow.fetching, fetchGroups)) await follow.fetching.done;
      outcomes = await fetchEntities(deps.client, storeId, fetchGroups, deps.fetchOptions);
      if (deps.onFetched)
        for (const group of fetchGroups) deps.onFetched(group.entityKind, outcomes.get(requestKey(group))?.status ?? 'failed');
    } catch (err) {
      fetchError = err;
    }
  }
  fetchesReturned();
  // From here on this pass only talks to Postgres (and maybe fetches the profile): a next pass
  // that did not start during the fetches may start now. Only when this pass will commit up to
  // the end of its read: after a failure the next one would be superseded, and its fetches
  // wasted (one that started during the fetches is, and gives up after the wait).
  const followable =
    fetchError === undefined && !plan.held && !probe && [...outcomes.values()].every((outcome) => outcome.status !== 'failed');
  deps.onFetchDone?.(followable ? plan.lastPosition : undefined);
  if (follow) {
    await follow.previous;
    const settled = await readEnrichmentState(db, storeId);
    if (settled.position !== from || !isPlain(settled) || settled.lifecycleAt?.getTime() !== state.lifecycleAt?.getTime()) {
      // Past `after`: another worker committed these webhooks, and this pass's fetches were for
      // nothing, as a pass that loses the compare-and-set.
      if (settled.position > from) log.info({ storeId, from }, 'another worker advanced this store first');
      return superseded;
    }
    state = settled;
  }
  if (fetchError !== undefined) {
    const err = fetchError;
    if (!(err instanceof EcwidStoreError)) throw err;
    const tokenRefused = err.code === 'TOKEN' || err.code === 'STORE_NOT_FOUND';
    if (probe && tokenRefused) {
      // The uninstall is confirmed: Ecwid refuses the token. What came before it cannot be
      // fetched any more, so it is passed over; the uninstall is recorded with its own time
      // (the projection orders installs and uninstalls by time), and stops the store when it
      // is the latest lifecycle event.
      uninstallConfirmed = true;
      skipFetches = true;
      if (probe.newer) plan.transitions.push({ position: probe.position, lifecycle: 'uninstalled', at: probe.at });
    } else if (lifecycleAt(plan, initial, plan.lastPosition).lifecycle === 'uninstalled') {
      // Still uninstalled: the token stopped working with the uninstall.
      skipFetches = true;
    } else if (reinstalled && tokenRefused) {
      // The install is not confirmed: Ecwid refuses the token the store has. A forged or replayed
      // `application.installed` must not turn an uninstalled store into a blocked one; it stays
      // uninstalled, nothing skipped, until a token Ecwid honours comes.
      return installNotConfirmed(describeError(err));
    } else {
      const attempt = state.attempts + 1;
      const retryAt = new Date(now().getTime() + backoffMs(attempt, retryBaseMs, retryMaxMs));
      await setEnrichmentStatus(db, storeId, from, { status: 'blocked', lastError: describeError(err), retryAt, attempts: attempt });
      log.warn({ storeId, code: err.code, status: err.status, retryAt }, 'store blocked');
      return { ...idle, status: 'blocked', retryAt };
    }
  }

  // An outage: the checkpoint stops before the first webhook it left unanswered and the store
  // pauses (status `paused`, retry_at) without counting attempts against any entity.
  let pauseCutoff = Infinity;
  let pauseError: string | null = null;
  // A 429 that asked for a longer wait than the client would hold a request for: the store
  // waits at least that long.
  let retryAfterMs = 0;
  for (const group of fetchGroups) {
    const outcome = outcomes.get(requestKey(group));
    if (skipFetches || outcome?.status !== 'failed' || !isOutage(outcome.error)) continue;
    pauseCutoff = Math.min(pauseCutoff, Math.min(...group.positions));
    pauseError ??= describeError(outcome.error);
    retryAfterMs = Math.max(retryAfterMs, (outcome.error as EcwidUnavailableError).retryAfterMs ?? 0);
  }
  const pauses = pauseCutoff === Infinity ? 0 : state.attempts + 1;
  const pauseRetryAt = pauses > 0 ? new Date(now().getTime() + Math.max(backoffMs(pauses, retryBaseMs, retryMaxMs), retryAfterMs)) : null;
  if (pauses > 0) {
    const fields = { storeId, attempts: pauses, retryAt: pauseRetryAt, error: pauseError };
    // Never parks or drops anything: a long outage stays a paused store, shown by `mirror status`.
    if (pauses >= pauseAlertAfter) log.error(fields, 'store paused: Ecwid unavailable for a long time');
    else log.warn(fields, 'store paused: Ecwid unavailable');
  }

  // Entities that failed on their own: retried from their first webhook on a later pass (so the
  // checkpoint stops just before it), or parked once out of attempts (so the checkpoint moves
  // past them). Only those before the pause cutoff count: the rest were not really tried.
  let cutoff = pauseCutoff;
  let worstAttempt = 0;
  let retryError: string | null = null;
  const parkedGroups: { group: Extract<WorkGroup, { action: 'fetch' }>; error: string; attempts: number }[] = [];
  const retrying: string[] = [];
  const failed = fetchGroups.flatMap((group) => {
    const outcome = outcomes.get(requestKey(group));
    if (skipFetches || outcome?.status !== 'failed' || isOutage(outcome.error)) return [];
    if (Math.min(...group.positions) >= pauseCutoff) return [];
    return [{ group, error: outcome.error }];
  });
  const counted = await countAttempts(
    db,
    storeId,
    failed.map(({ group, error }) => ({ key: attemptKey(group), error: describeError(error) })),
  );
  for (const { group, error } of failed) {
    const attempt = counted.get(attemptKey(group)) ?? 1;
    if (attempt >= maxAttempts) {
      parkedGroups.push({ group, error: describeError(error), attempts: attempt });
    } else {
      retrying.push(attemptKey(group));
      cutoff = Math.min(cutoff, Math.min(...group.positions));
      if (attempt > worstAttempt) {
        worstAttempt = attempt;
        retryError = describeError(error);
      }
    }
  }
  const to = cutoff === Infinity ? plan.lastPosition : cutoff - 1;
  const before = (positions: readonly number[]) => positions.filter((p) => p < cutoff);

  const records: ProjectorRecord[] = [];
  const parkedRows: (typeof parkedEventsTable.$inferInsert)[] = [];
  for (const group of plan.groups) {
    const causedBy = before(group.positions);
    if (causedBy.length === 0) continue;
    if (group.action === 'fetch' && skipFetches) continue;
    const parked = parkedGroups.find((p) => p.group === group);
    if (parked) {
      for (const position of causedBy) {
        parkedRows.push({
          storeId,
          position,
          entityKind: group.entityKind,
          entityId: group.key,
          error: parked.error,
          attempts: parked.attempts,
        });
      }
      continue;
    }
    const outcome = group.action === 'fetch' ? outcomes.get(requestKey(group)) : undefined;
    const record = buildRecord(storeId, group, outcome, causedBy, now());
    if (!record) continue;
    // Ecwid answered the uninstall's probe with the profile: it still honours the token.
    if (
      probe &&
      !uninstallConfirmed &&
      group.entityKind === 'store_profile' &&
      causedBy.includes(probe.position) &&
      record.kind === 'snapshot'
    ) {
      record.note = 'unconfirmed_uninstall';
    }
    records.push(record);
  }
  let destroyToken = false;
  if (uninstallConfirmed && probe && probe.position < cutoff) {
    records.push({
      kind: 'snapshot',
      storeId,
      entityKind: 'store',
      entityId: String(storeId),
      payload: { status: 'uninstalled', at: probe.at.toISOString() },
      causedBy: [probe.position],
      fetchedAt: now(),
    });
    if (probe.newer) {
      // Ecwid's last answer about the app's subscription is the refusal: the row ends with it.
      records.push({
        kind: 'tombstone',
        storeId,
        entityKind: 'app_subscription',
        entityId: String(storeId),
        payload: { reason: 'uninstalled' },
        causedBy: [probe.position],
        fetchedAt: now(),
      });
      destroyToken = true;
    }
  }
  if (deps.client && !skipFetches && deps.profileWithOrders !== false)
    await addStoreProfile(db, deps.client, log, storeId, records, now, deps.profileKnown);
  for (const record of records) if (record.note) deps.onNote?.(record.entityKind, record.note);
  if (to <= from && plan.held && records.length === 0) return { ...idle, status: 'uninstalled' };
  if (to <= from) {
    if (pauseRetryAt) {
      await setEnrichmentStatus(db, storeId, from, { status: 'paused', lastError: pauseError, retryAt: pauseRetryAt, attempts: pauses });
      return { ...idle, status: 'paused', retryAt: pauseRetryAt };
    }
    // The very first webhook's entity failed: nothing can be committed yet.
    const retryAt = new Date(now().getTime() + backoffMs(worstAttempt, retryBaseMs, retryMaxMs));
    await setEnrichmentStatus(db, storeId, from, { status: 'active', lastError: retryError, retryAt, attempts: 0 });
    return { ...idle, retryAt };
  }

  if (deps.signal?.aborted) return { ...idle, status: 'aborted' };
  const lifecycle = lifecycleAt(plan, initial, to);
  // `uninstalled` is kept even when paused: the next pass reads the lifecycle from it.
  const status: EnrichmentStatus = lifecycle.lifecycle === 'uninstalled' ? 'uninstalled' : pauseRetryAt ? 'paused' : 'active';
  const retryAt =
    pauseRetryAt ?? (cutoff === Infinity ? null : new Date(now().getTime() + backoffMs(worstAttempt, retryBaseMs, retryMaxMs)));
  const fields = pauseRetryAt
    ? { status, lastError: pauseError, retryAt, attempts: pauses, lifecycleAt: lifecycle.at }
    : { status, lastError: retryError, retryAt, attempts: 0, lifecycleAt: lifecycle.at };
  // The token Ecwid refused is destroyed with the uninstall (not one registered since: a
  // reinstall that raced this pass keeps its new token).
  const deleteToken = destroyToken && lifecycle.lifecycle === 'uninstalled';
  // Only entities still being retried keep a count: the rest were fetched, parked, or passed
  // over (a key that changed, an uninstalled store) by this pass. Counts exist only after a
  // failure, which this pass saw or the last one recorded (last_error): a store without either,
  // the usual case, skips the statement.
  const clearAttempts = failed.length > 0 || state.lastError !== null;
  // Optimistic first: the checkpoint's compare-and-set, the append and the check for erased
  // subjects are sent together, each failing in SQL when it must not commit. In the usual case
  // (nothing else to write) the COMMIT goes with them, so the log's append lock, which the insert
  // takes and every other append waits for, is held for Postgres's work alone. Only when the
  // records' stores have erased subjects does it run again appending through eraseOnAppend.
  let appendedUpTo: number | undefined;
  const commit = (pipelined: boolean) =>
    db.transaction(async (tx) => {
      const noteEnd = (positions: readonly number[]) => {
        appendedUpTo = positions.at(-1);
      };
      if (pipelined) {
        // Statements still to come after these: then the driver commits, after them.
        const more = deleteToken || parkedRows.length > 0 || clearAttempts;
        const sent = await Promise.allSettled([
          advanceEnrichment(tx, storeId, { from, to }, fields),
          appendRecordsPipelined(tx, records).then(noteEnd),
          ...(more ? [] : [pipelineCommit(tx)]),
        ]);
        // The first failure is the cause: the statements after it failed with the transaction.
        const failure = sent.find((s) => s.status === 'rejected');
        if (failure) throw failure.reason;
        if (!more) return true;
      } else {
        await advanceEnrichment(tx, storeId, { from, to }, fields);
        noteEnd(await appendRecords(tx, records));
      }
      if (deleteToken) {
        await tx
          .delete(storeTokensTable)
          .where(
            and(
              eq(storeTokensTable.storeId, storeId),
              deps.tokenFingerprint === undefined ? undefined : eq(storeTokensTable.tokenFingerprint, deps.tokenFingerprint),
            ),
          );
      }
      if (parkedRows.length > 0) await tx.insert(parkedEventsTable).values(parkedRows).onConflictDoNothing();
      if (clearAttempts) {
        const t = enrichmentAttemptsTable;
        await tx.delete(t).where(and(eq(t.storeId, storeId), retrying.length > 0 ? notInArray(t.entityKey, retrying) : undefined));
      }
      return true;
    });
  const committed = await commit(true)
    .catch((err: unknown) => {
      if (failedRequirement(err) === erasedSubjectsFound) return commit(false);
      throw err;
    })
    .catch((err: unknown) => {
      if (failedRequirement(err) === checkpointMoved) return false;
      throw err;
    });
  if (!committed) {
    log.info({ storeId, from }, 'another worker advanced this store first');
    return { ...idle, status: 'conflict' };
  }
  if (parkedRows.length > 0) log.warn({ storeId, parked: parkedRows.length }, 'webhooks parked');
  return {
    status: pauseRetryAt ? 'paused' : 'progressed',
    appended: records.length,
    ...(appendedUpTo !== undefined && { appendedUpTo }),
    parked: parkedRows.length,
    position: to,
    hasMore: hasMore && cutoff === Infinity,
    ...(retryAt && { retryAt }),
    ...(plan.held && { held: true }),
  };
}

/**
 * An order's currency and time zone are the store profile's (docs/reporting.md, decision 0009):
 * the first order snapshot of a store whose profile the log has never held brings the profile
 * along, ahead of it, whether or not a backfill or a `profile.updated` ever fetched it. Best
 * effort: a profile Ecwid will not give now is asked for again with the store's next orders,
 * and never holds them back.
 */
async function addStoreProfile(
  db: Db,
  client: EcwidClient,
  log: Logger,
  storeId: number,
  records: ProjectorRecord[],
  now: () => Date,
  profileKnown: Set<number> | undefined,
): Promise<void> {
  const firstOrder = records.findIndex((r) => r.entityKind === 'order' && r.kind === 'snapshot');
  if (firstOrder < 0 || profileKnown?.has(storeId) || records.some((r) => r.entityKind === 'store_profile' && r.kind === 'snapshot'))
    return;
  const [known] = await execRows<{ found: number }>(
    db,
    sql`select 1 as found from event_log where store_id = ${storeId} and entity_kind = 'store_profile' and kind = 'snapshot' limit 1`,
  );
  if (known) {
    profileKnown?.add(storeId);
    return;
  }
  try {
    const payload = await client.getProfile();
    // It answers no webhook: each webhook keeps exactly one answer, its order's.
    records.splice(firstOrder, 0, {
      kind: 'snapshot',
      storeId,
      entityKind: 'store_profile',
      entityId: String(storeId),
      payload,
      causedBy: [],
      fetchedAt: now(),
    });
  } catch (err) {
    log.warn({ storeId, err: describeError(err) }, 'store profile not fetched; orders wait for their currency');
  }
}

/** Whether an `application.installed` created after `since` was logged after the checkpoint. */
async function hasNewerInstall(db: Db, storeId: number, after: number, since: Date | null): Promise<boolean> {
  const rows = await db
    .select({ position: eventLogTable.position })
    .from(eventLogTable)
    .where(
      and(
        eq(eventLogTable.storeId, storeId),
        gt(eventLogTable.position, after),
        eq(eventLogTable.kind, 'webhook'),
        inArray(eventLogTable.eventType, ['application.installed']),
        since ? gt(eventLogTable.eventCreatedAt, since) : undefined,
      ),
    )
    .limit(1);
  return rows.length > 0;
}

/**
 * readLog of one store's webhooks, as a statement prepared once per connection (one round trip
 * instead of two: it starts every pass, on the path of every webhook to its row).
 */
const storeWebhookReads = new WeakMap<Db, ReturnType<typeof prepareStoreWebhooks>>();
const prepareStoreWebhooks = (db: Db) =>
  db
    .select()
    .from(eventLogTable)
    .where(
      and(
        gt(eventLogTable.position, sql.placeholder('after')),
        eq(eventLogTable.kind, 'webhook'),
        eq(eventLogTable.storeId, sql.placeholder('storeId')),
      ),
    )
    .orderBy(asc(eventLogTable.position))
    .limit(sql.placeholder('limit'))
    .prepare('enrichment_store_webhooks');

function readStoreWebhooks(db: Db, storeId: number, after: number, limit: number) {
  let read = storeWebhookReads.get(db);
  if (!read) storeWebhookReads.set(db, (read = prepareStoreWebhooks(db)));
  return read.execute({ after, storeId, limit });
}

/** An entity's key in enrichment_attempts: requestKey with a separator Postgres text can hold. */
const attemptKey = (group: WorkGroup) => `${group.entityKind}:${group.key}`;

/**
 * Counts one more failed fetch for each entity, in the database (enrichment_attempts), and
 * returns each one's count so far. Outside the pass's transaction: an attempt made counts even
 * if the pass then loses its race or the worker dies, so no restart gives an entity fresh tries.
 */
async function countAttempts(db: Db, storeId: number, failures: { key: string; error: string }[]): Promise<Map<string, number>> {
  if (failures.length === 0) return new Map();
  const t = enrichmentAttemptsTable;
  const rows = await db
    .insert(t)
    .values(failures.map((f) => ({ storeId, entityKey: f.key, attempts: 1, lastError: f.error })))
    .onConflictDoUpdate({
      target: [t.storeId, t.entityKey],
      set: { attempts: sql`${t.attempts} + 1`, lastError: sql`excluded.last_error`, updatedAt: sql`now()` },
    })
    .returning({ key: t.entityKey, attempts: t.attempts });
  return new Map(rows.map((r) => [r.key, r.attempts]));
}

/**
 * A store as an ordinary pass leaves it: active, nothing to retry. Only then may a pass follow
 * another (the one before it leaves nothing the follower would have to read first).
 */
const isPlain = (s: EnrichmentState) => s.status === 'active' && s.retryAt === null && s.lastError === null;

export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Order webhooks without `data.orderId` carry only the internal id (docs/ecwid.md §1.5). When the mirror
 * already has the order live, its public id is the key; otherwise the fetch searches `ids=`.
 *
 * Live only: a deleted row's internal id may be a webhook's word. A forged `order.deleted` that
 * pairs a real order's internal id with a public id that never existed gets Ecwid's 404 for that
 * id, so a tombstone row holds the real order's internal id; resolving to it sent every later
 * webhook of the real order to the forged one, and the real order was never fetched again. A
 * search by internal id asks Ecwid instead.
 */
async function resolveInternalOrderIds(db: Db, storeId: number, groups: WorkGroup[]): Promise<void> {
  const unresolved = groups.filter((g) => g.entityKind === 'order' && g.key.startsWith('internal:'));
  if (unresolved.length === 0) return;
  const internalIds = unresolved.map((g) => Number(g.key.slice('internal:'.length)));
  const rows = await db
    .select({ orderId: ordersTable.orderId, internalId: ordersTable.internalId })
    .from(ordersTable)
    .where(and(eq(ordersTable.storeId, storeId), inArray(ordersTable.internalId, internalIds), isNull(ordersTable.deletedAt)));
  const byInternal = new Map(rows.map((r) => [r.internalId, r.orderId]));
  for (const group of unresolved) {
    const orderId = byInternal.get(Number(group.key.slice('internal:'.length)));
    if (orderId) group.key = orderId;
  }
}
