import { entityCatalog, fetchedKinds, kindName, type FetchedKind } from '@mirror/catalog';
import { describeError } from '@mirror/core';
import { backfillStateTable, execRows, reconcileRunsTable, reconcileSeenTable, type Db, type Executor } from '@mirror/db';
import type { EcwidClient } from '@mirror/ecwid';
import { and, desc, eq, sql, type SQL } from 'drizzle-orm';
import { appendRecords, type ProjectorRecord } from '../enrichment/append-records.ts';
import { fetchEntities, requestKey, type FetchRequest } from '../enrichment/fetch-entities.ts';
import { asKept } from '../personal-data/erase-on-append.ts';
import { reconcileSpecs, type ReconcileSpec } from './reconcile-specs.ts';

/*
 * Reconcile: compare the mirror with Ecwid, kind by kind, and repair what differs, only by
 * appending snapshots and tombstones to the log (the tables follow through projection, as
 * always). A tombstone needs Ecwid's confirmation (decision 0004): a 404 on a read by id, or the
 * id in Ecwid's deleted-items listing; a listing that leaves an id out is only a reason to ask. `dryRun` compares and changes nothing:
 * that is `mirror verify`. Terminology (the counts of reconcile_runs):
 * - missing: in Ecwid, not in the mirror;
 * - stale: in both, Ecwid's is newer (or different, for kinds without an update time);
 * - missed delete: live in the mirror, gone from Ecwid;
 * - healed tombstone: deleted in the mirror, live in Ecwid.
 */

export type ReconcileMode = 'incremental' | 'full';

export type ReconcileCounts = {
  checked: number;
  missing: number;
  stale: number;
  missedDeletes: number;
  healedTombstones: number;
  /** Differing only in fields Ecwid derives (taken again, not a miss). */
  refreshed: number;
  appended: number;
  requests: number;
};

/** One kind's outcome, with up to `sampleSize` ids of each finding for a person to look at. */
export type KindReport = ReconcileCounts & {
  kind: FetchedKind;
  mode: ReconcileMode;
  /** Incremental: compared Ecwid's changes since this time. */
  since: Date | null;
  runId: number | null;
  status: 'done' | 'skipped' | 'failed';
  /** Why it was skipped or failed. */
  reason?: string;
  samples: { missing: string[]; stale: string[]; missedDeletes: string[]; healedTombstones: string[] };
};

export type ReconcileOptions = {
  db: Db;
  storeId: number;
  client: EcwidClient;
  /** Requests the client has made so far (its attempts counter): a run's share is the difference. */
  requestCount: () => number;
  mode: ReconcileMode;
  kinds?: readonly FetchedKind[];
  /** Compare only: append nothing, record no run (`mirror verify`). */
  dryRun?: boolean;
  trigger?: 'cli' | 'schedule' | 'api' | 'install';
  now?: () => Date;
  signal?: AbortSignal;
  /** How far Ecwid's clock may be ahead of ours: the next incremental run starts this much earlier. */
  clockSkewMs?: number;
  /** Kinds without a deleted-items listing are compared whole in incremental runs up to this many live rows. */
  wholeSetLimit?: number;
  /** A run whose heartbeat is older than this is taken over (its worker died). */
  leaseMs?: number;
  sampleSize?: number;
  onProgress?: (progress: { kind: FetchedKind; phase: string; checked: number; total: number }) => void;
};

type Doc = Record<string, unknown>;
type Finding = 'missing' | 'stale' | 'missedDeletes' | 'healedTombstones';
/** What a listed document needs: a finding, or a refresh of derived fields only. */
type Verdict = Finding | 'refreshed';
type RunRow = typeof reconcileRunsTable.$inferSelect;

/** Compares (and, unless `dryRun`, repairs) each kind of one store. Resumes a run a crash left behind. */
export async function reconcile(options: ReconcileOptions): Promise<KindReport[]> {
  const reports: KindReport[] = [];
  for (const kind of options.kinds ?? fetchedKinds) {
    // Stopped: each kind not reached is reported failed, not left out (a verify that lists only
    // the kinds it reached would read as a clean one).
    if (options.signal?.aborted) reports.push(notReached(options, kind));
    else reports.push(await reconcileKind(options, kind));
  }
  return reports;
}

/** The reason of a kind a stopped reconcile did not reach. */
export const notReachedReason = 'stopped before this kind was compared';

function notReached(options: ReconcileOptions, kind: FetchedKind): KindReport {
  return {
    kind,
    mode: options.mode,
    since: null,
    runId: null,
    status: 'failed',
    reason: notReachedReason,
    ...noCounts(),
    samples: noSamples(),
  };
}

const noCounts = (): ReconcileCounts => ({
  checked: 0,
  missing: 0,
  stale: 0,
  missedDeletes: 0,
  healedTombstones: 0,
  refreshed: 0,
  appended: 0,
  requests: 0,
});

const noSamples = (): KindReport['samples'] => ({ missing: [], stale: [], missedDeletes: [], healedTombstones: [] });

async function reconcileKind(options: ReconcileOptions, kind: FetchedKind): Promise<KindReport> {
  const { db, storeId, dryRun = false, now = () => new Date(), clockSkewMs = 5 * 60_000, leaseMs = 10 * 60_000, sampleSize = 20 } = options;
  const spec: ReconcileSpec = reconcileSpecs[kind];
  const startedAt = now();
  const requestsAtStart = options.requestCount();
  const counts = noCounts();
  const samples = noSamples();
  const note = (finding: Finding, id: string) => {
    counts[finding] += 1;
    if (samples[finding].length < sampleSize) samples[finding].push(id);
  };

  // Incremental needs a point to start from; without one (a store never reconciled or
  // backfilled), the run is a full one, which brings everything as a backfill does.
  let mode = options.mode;
  let since: Date | null = null;
  if (mode === 'incremental' && (spec.mode === 'timed' || spec.mode === 'invoices')) {
    since = await lastWatermark(db, storeId, kind);
    if (since === null) mode = 'full';
  }

  let run: RunRow | undefined;
  if (!dryRun) {
    const claimed = await claimRun(db, { storeId, kind, mode, since, trigger: options.trigger ?? 'cli', leaseMs });
    if (claimed.status === 'busy') {
      return {
        kind,
        mode,
        since,
        runId: claimed.runId,
        status: 'skipped',
        // When the run is taken over if that worker is gone (a crash leaves its run open).
        reason: `another worker is reconciling this kind (run ${claimed.runId}, last heard of ${Math.round(claimed.heardAgoMs / 1000)} s ago; taken over once that is ${Math.round(leaseMs / 1000)} s)`,
        ...counts,
        samples,
      };
    }
    run = claimed.run;
    mode = run.mode;
    since = run.since;
  }
  const progress = { ...(run?.progress ?? {}) } as Record<string, unknown>;

  const ctx: KindContext = {
    options,
    kind,
    spec,
    mode,
    since,
    run,
    progress,
    counts,
    note,
    dryRun,
    seen: new Set<string>(),
    async commit(records, extra) {
      counts.requests = options.requestCount() - requestsAtStart + (run?.requests ?? 0);
      if (dryRun || !run) return;
      const runId = run.id;
      await db.transaction(async (tx) => {
        if (records.length > 0) await appendRecords(tx, records);
        counts.appended += records.length;
        if (extra?.seen?.length) {
          await tx
            .insert(reconcileSeenTable)
            .values(extra.seen.map((entityId) => ({ storeId, runId, entityId })))
            .onConflictDoNothing();
        }
        await tx
          .update(reconcileRunsTable)
          .set({ ...runCounts(counts), heartbeatAt: now(), progress: { ...progress } })
          .where(and(eq(reconcileRunsTable.storeId, storeId), eq(reconcileRunsTable.id, runId)));
      });
    },
  };
  if (run) {
    // A resumed run goes on counting from where it stopped.
    Object.assign(counts, {
      checked: run.checked,
      missing: run.missing,
      stale: run.stale,
      missedDeletes: run.missedDeletes,
      healedTombstones: run.healedTombstones,
      refreshed: run.refreshed,
      appended: run.appended,
    });
  }

  try {
    switch (spec.mode) {
      case 'timed':
        if (mode === 'incremental' && !entityCatalog[kind].deletedListing && (await comparedWhole(ctx))) {
          // No deleted-items listing (abandoned carts): while the kind is small, its whole id set
          // is compared in every run, so a delete without a webhook is found within the hour.
          await walkDocuments(ctx, (client, offset) => spec.page(client, offset), spec.key, spec.updatedAt, null, spec.derived);
          await findGone(ctx);
        } else if (mode === 'incremental') {
          // The changed documents themselves: the listing's pages are all the reads a repair needs.
          if (dryRun) await walkTrimmed(ctx, spec, since);
          else
            await walkDocuments(
              ctx,
              (client, offset) => spec.page(client, offset, since ?? undefined),
              spec.key,
              spec.updatedAt,
              since,
              spec.derived,
            );
          await readDeletedListing(ctx, since!);
        } else if (dryRun) {
          // verify: whole documents, as a full run compares them. Update times alone would call
          // equal a row whose document differs at the same time (two changes within a second, a
          // row changed by hand, a field Ecwid changes without touching updated).
          await walkDocuments(ctx, (client, offset) => spec.page(client, offset), spec.key, spec.updatedAt, null, spec.derived);
          await findGone(ctx);
        } else {
          await walkDocuments(ctx, (client, offset) => spec.page(client, offset), spec.key, spec.updatedAt, null, spec.derived);
          await findGone(ctx);
        }
        break;
      case 'documents':
        await walkDocuments(ctx, spec.page, spec.key, undefined, null, spec.derived);
        await findGone(ctx);
        break;
      case 'store':
        await compareStoreDocument(ctx, spec.doc);
        break;
      case 'invoices':
        await reconcileInvoices(ctx, mode === 'incremental' ? since : null);
        break;
    }
  } catch (err) {
    counts.requests = options.requestCount() - requestsAtStart + (run?.requests ?? 0);
    if (run) {
      // Left open and released (its heartbeat set far back): the next run of the kind takes it
      // over where it stopped, whether it was stopped (Ctrl-C) or failed (Ecwid unreachable).
      await db
        .update(reconcileRunsTable)
        .set({ ...runCounts(counts), heartbeatAt: new Date(0), error: describeError(err), progress })
        .where(and(eq(reconcileRunsTable.storeId, storeId), eq(reconcileRunsTable.id, run.id)));
    }
    return { kind, mode, since, runId: run?.id ?? null, status: 'failed', reason: describeError(err), ...counts, samples };
  }

  counts.requests = options.requestCount() - requestsAtStart + (run?.requests ?? 0);
  if (run) {
    // Nothing changed before this run started (less clock skew) can have been missed by it.
    const watermark = new Date((run.startedAt ?? startedAt).getTime() - clockSkewMs);
    await db
      .update(reconcileRunsTable)
      .set({ ...runCounts(counts), status: 'done', finishedAt: now(), watermark, progress: { phase: 'done' } })
      .where(and(eq(reconcileRunsTable.storeId, storeId), eq(reconcileRunsTable.id, run.id)));
    await clearSeen(db, storeId, run.id);
  }
  return { kind, mode, since, runId: run?.id ?? null, status: 'done', ...counts, samples };
}

type KindContext = {
  options: ReconcileOptions;
  kind: FetchedKind;
  spec: ReconcileSpec;
  mode: ReconcileMode;
  since: Date | null;
  run: RunRow | undefined;
  progress: Record<string, unknown>;
  counts: ReconcileCounts;
  note(finding: Finding, id: string): void;
  dryRun: boolean;
  /** Ids seen in Ecwid this run (a dry run keeps them here; a run, in reconcile_seen). */
  seen: Set<string>;
  /** Appends the records and the run's progress in one transaction (nothing on a dry run). */
  commit(records: ProjectorRecord[], extra?: { seen?: string[] }): Promise<void>;
};

/**
 * Live rows up to which a kind without a deleted-items listing has its whole id set compared in
 * incremental runs too: at most this many / 100 pages a run (docs/reconcile.md).
 */
export const defaultWholeSetLimit = 2_000;

/** Whether this incremental run compares the kind's whole set; decided once, kept in the run's progress. */
async function comparedWhole(ctx: KindContext): Promise<boolean> {
  if (typeof ctx.progress.wholeSet === 'boolean') return ctx.progress.wholeSet;
  const table = entityCatalog[ctx.kind].table;
  const [row] = await execRows<{ n: number }>(
    ctx.options.db,
    sql`select count(*)::int as n from ${table} where store_id = ${ctx.options.storeId} and deleted_at is null`,
  );
  const whole = (row?.n ?? 0) <= (ctx.options.wholeSetLimit ?? defaultWholeSetLimit);
  ctx.progress.wholeSet = whole;
  return whole;
}

/** A set of text values as one JSON parameter (the same on postgres.js and PGlite; drizzle expands a plain array). */
const textSet = (values: readonly string[]) => sql`(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`;

const runCounts = (c: ReconcileCounts) => ({
  requests: c.requests,
  checked: c.checked,
  missing: c.missing,
  stale: c.stale,
  missedDeletes: c.missedDeletes,
  healedTombstones: c.healedTombstones,
  refreshed: c.refreshed,
  appended: c.appended,
});

/**
 * A page that brings nothing past `offset` (asked from `askFrom`) while the same answer's `total`
 * says there is more: the listing cannot be trusted to be whole (an offset Ecwid will not serve, a
 * search index behind), so the kind's run fails rather than end as if it had seen everything (it
 * resumes at this offset next time).
 */
function endOfListing(kind: FetchedKind, askFrom: number, items: number, offset: number, total: number): void {
  if (askFrom + items <= offset && total > offset) {
    throw new Error(`the ${kindName(kind)} listing answered nothing past ${offset} of ${total}; the run resumes here next time`);
  }
}

/** Items each listing page re-reads from the end of the previous one (offset paging shifts; see backfill). */
const pageOverlap = 10;

/**
 * Walks a timed kind's listing trimmed to keys and update times (incremental: changed since
 * `since`), compares each page with the mirror by update time, and reads by id what is missing,
 * stale or wrongly deleted.
 */
async function walkTrimmed(ctx: KindContext, spec: Extract<ReconcileSpec, { mode: 'timed' }>, since: Date | null): Promise<void> {
  const { options, kind } = ctx;
  if (ctx.progress.phase !== undefined && ctx.progress.phase !== 'list') return;
  const list = (offset: number) => options.client.listFields(spec.listing, spec.fields, { offset, ...(since && { updatedFrom: since }) });
  await walkListing(ctx, list, spec.key, async (fresh) => {
    const keyed = fresh.map((doc) => ({ id: spec.key(doc), updated: spec.updatedAt(doc) ?? null, doc: null }));
    const rows = await mirrorRows(options.db, options.storeId, kind, keyed, []);
    const toFetch: string[] = [];
    for (const e of keyed) {
      const m = rows.get(e.id);
      ctx.counts.checked += 1;
      const verdict = classify(e, m, false);
      if (verdict && verdict !== 'refreshed') {
        ctx.note(verdict, e.id);
        toFetch.push(e.id);
      }
    }
    const records = ctx.dryRun ? [] : await readByIds(ctx, toFetch, 'repair');
    await ctx.commit(records, { seen: keyed.map((e) => e.id) });
  });
  ctx.progress.phase = since === null ? 'gone' : 'deleted';
}

/**
 * Walks every document of a kind, compares each page with the mirror (contents, and update time
 * where there is one), and appends the listed documents that are missing, stale or wrongly
 * deleted: the listing is Ecwid's answer, as a backfill's is.
 */
async function walkDocuments(
  ctx: KindContext,
  page: (client: EcwidClient, offset: number) => Promise<{ items: readonly unknown[]; total: number }>,
  key: (doc: Doc) => string,
  updatedAt: ((doc: Doc) => number | undefined) | undefined,
  /** Incremental: only documents changed since then are listed, so nothing is learned of what is gone. */
  since: Date | null,
  /** Fields Ecwid derives: a difference there alone is a refresh, not a miss. */
  derived: readonly string[] = [],
): Promise<void> {
  const { options, kind } = ctx;
  if (ctx.progress.phase !== undefined && ctx.progress.phase !== 'list') return;
  await walkListing(
    ctx,
    (offset) => page(options.client, offset),
    key,
    async (items) => {
      const fetchedAt = (options.now ?? (() => new Date()))();
      // Documents as the mirror keeps them: those of erased subjects erased (docs/personal-data.md).
      const fresh = (
        await asKept(
          options.db,
          items.map((doc) => ({ kind: 'snapshot', storeId: options.storeId, entityKind: kind, payload: doc })),
        )
      ).map((r) => r.payload as Doc);
      const keyed = fresh.map((doc) => ({ id: key(doc), updated: updatedAt?.(doc) ?? null, doc }));
      const rows = await mirrorRows(options.db, options.storeId, kind, keyed, derived);
      const records: ProjectorRecord[] = [];
      for (const e of keyed) {
        ctx.counts.checked += 1;
        const verdict = classify(e, rows.get(e.id), true);
        if (!verdict) continue;
        if (verdict === 'refreshed') ctx.counts.refreshed += 1;
        else ctx.note(verdict, e.id);
        records.push({
          kind: 'snapshot',
          storeId: options.storeId,
          entityKind: kind,
          entityId: e.id,
          payload: e.doc,
          causedBy: [],
          fetchedAt,
        });
      }
      await ctx.commit(ctx.dryRun ? [] : records, { seen: keyed.map((e) => e.id) });
    },
  );
  ctx.progress.phase = since === null ? 'gone' : 'deleted';
}

/** Passes over a listing a walk makes at most: one, and one more when it saw less than the total. */
const maxListingPasses = 2;

/**
 * Walks a listing by offset and hands `visit` each page's items this run has not seen yet
 * (`visit` compares them and commits with their ids as `seen`). Offset paging shifts under the
 * walk: an item that changes moves to the end of a listing sorted by update time, and one that
 * is deleted pulls every later item one place forward, so the item that was next is now before
 * the offset. So:
 * - each page starts `pageOverlap` items before the end of the last, and an item counts by
 *   whether this run has seen its id, not by where it stands;
 * - a run taken over from another process (stopped, crashed or failed) lists again from the
 *   start: the listing may have shifted by any amount since it stopped. Only what the run had
 *   not seen is compared; the re-listing costs one request per page;
 * - a walk that has seen fewer ids than the listing's `total` lists once more, comparing what
 *   it had not seen: what a shift skipped the first time. It does not fail when the second pass
 *   still falls short: items created during the walk count in the total too, and in a listing
 *   whose order puts new items first (Ecwid's order for orders, carts and coupons is unknown) a
 *   busy store would never see them all, while the next incremental run covers them.
 */
async function walkListing(
  ctx: KindContext,
  list: (offset: number) => Promise<{ items: readonly unknown[]; total: number }>,
  key: (doc: Doc) => string | undefined,
  visit: (fresh: Doc[]) => Promise<void>,
): Promise<void> {
  const { options, kind } = ctx;
  for (let pass = 1; ; pass++) {
    let offset = 0;
    let total = 0;
    for (;;) {
      if (options.signal?.aborted) throw new Error('aborted');
      const askFrom = Math.max(0, offset - pageOverlap);
      const listed = await list(askFrom);
      const items = listed.items as Doc[];
      total = listed.total;
      endOfListing(kind, askFrom, items.length, offset, listed.total);
      if (items.length === 0 || askFrom + items.length <= offset) break;
      const seen = await seenAlready(ctx, items.map(key));
      const ids = new Set<string>();
      const fresh = items.filter((doc) => {
        const id = key(doc);
        if (id === undefined || seen.has(id) || ids.has(id)) return false;
        ids.add(id);
        return true;
      });
      offset = askFrom + items.length;
      ctx.progress.phase = 'list';
      ctx.progress.offset = offset;
      await visit(fresh);
      for (const id of ids) ctx.seen.add(id);
      options.onProgress?.({ kind, phase: 'list', checked: offset, total: listed.total });
      if (offset >= listed.total) break;
    }
    if (pass >= maxListingPasses || (await countSeen(ctx)) >= total) break;
  }
  ctx.progress.offset = 0;
}

/** Which of these ids this run has seen already (in `reconcile_seen`, or in memory on a dry run). */
async function seenAlready(ctx: KindContext, ids: readonly (string | undefined)[]): Promise<Set<string>> {
  const wanted = ids.filter((id): id is string => id !== undefined);
  if (!ctx.run || ctx.dryRun) return new Set(wanted.filter((id) => ctx.seen.has(id)));
  if (wanted.length === 0) return new Set();
  const rows = await execRows<{ entity_id: string }>(
    ctx.options.db,
    sql`select entity_id from ${reconcileSeenTable}
        where store_id = ${ctx.options.storeId} and run_id = ${ctx.run.id} and entity_id in ${textSet(wanted)}`,
  );
  return new Set(rows.map((r) => r.entity_id));
}

/** How many ids this run has seen. */
async function countSeen(ctx: KindContext): Promise<number> {
  if (!ctx.run || ctx.dryRun) return ctx.seen.size;
  const [row] = await execRows<{ n: number }>(
    ctx.options.db,
    sql`select count(*)::int as n from ${reconcileSeenTable} where store_id = ${ctx.options.storeId} and run_id = ${ctx.run.id}`,
  );
  return row?.n ?? 0;
}

type Listed = { id: string; updated: number | null; doc: Doc | null };
type MirrorRow = { deleted: boolean; updated: number | null; sameDoc: boolean | null; sameData: boolean | null };

/** What a listed item is, against its mirror row (undefined: nothing to repair). */
function classify(e: Listed, m: MirrorRow | undefined, compareDocs: boolean): Verdict | undefined {
  if (!m) return 'missing';
  if (m.deleted) return 'healedTombstones';
  if (e.updated !== null && m.updated !== null) {
    if (e.updated > m.updated) return 'stale';
    // The mirror is as new or newer (a live change beat the listing): only derived fields can differ.
    if (e.updated < m.updated || !compareDocs) return compareDocs && m.sameDoc === false && m.sameData ? 'refreshed' : undefined;
  }
  if (!compareDocs || m.sameDoc !== false) return undefined;
  return m.sameData ? 'refreshed' : 'stale';
}

const keyColumn = (kind: FetchedKind) => {
  const key = entityCatalog[kind].key;
  if (key === 'store') throw new Error(`${kind} has no key column`);
  return key;
};

/**
 * The mirror's rows for listed ids: deleted or not, update time (seconds), whether the document
 * is the listed one, and whether it is but for the `derived` fields.
 */
async function mirrorRows(
  db: Executor,
  storeId: number,
  kind: FetchedKind,
  listed: readonly Listed[],
  derived: readonly string[],
): Promise<Map<string, MirrorRow>> {
  if (listed.length === 0) return new Map();
  const table = entityCatalog[kind].table;
  const key = keyColumn(kind);
  const isBigint = key.getSQLType() === 'bigint';
  const param = JSON.stringify(listed.map((e) => ({ id: e.id, doc: e.doc })));
  const match = isBigint ? sql`(case when e.id ~ '^-?[0-9]{1,18}$' then e.id::bigint end)` : sql`e.id`;
  const hasUpdated = 'updatedAt' in table;
  const without = `{${derived.join(',')}}`;
  const rows = await execRows<{
    id: string;
    deleted: boolean;
    updated: string | number | null;
    same_doc: boolean | null;
    same_data: boolean | null;
  }>(
    db,
    sql`select e.id, t.deleted_at is not null as deleted,
          ${hasUpdated ? sql`floor(extract(epoch from t.updated_at))` : sql`null::float8`} as updated,
          (t.doc = e.doc) as same_doc, ((t.doc - ${without}::text[]) = (e.doc - ${without}::text[])) as same_data
        from jsonb_to_recordset(${param}::jsonb) as e(id text, doc jsonb)
        join ${table} t on t.store_id = ${storeId} and t.${sql.identifier(key.name)} = ${match}`,
  );
  return new Map(
    rows.map((r) => [
      r.id,
      { deleted: r.deleted, updated: r.updated === null ? null : Number(r.updated), sameDoc: r.same_doc, sameData: r.same_data },
    ]),
  );
}

/**
 * Reads entities by id (in bulk where Ecwid allows) and answers each with a snapshot, or a
 * tombstone where Ecwid says it is gone (a 404, proof of the deletion). `gone` is what a
 * caller expects of them (missed deletes). A read that fails fails the kind's run: it stays
 * open, resumed where it stopped by the next run, and its watermark does not move. Passed over,
 * a delete that needed a read to confirm would fall behind the watermark, unseen by every
 * incremental run, while this one reported itself done.
 */
async function readByIds(ctx: KindContext, keys: readonly string[], purpose: 'repair' | 'gone'): Promise<ProjectorRecord[]> {
  if (keys.length === 0) return [];
  const { options, kind } = ctx;
  const requests: FetchRequest[] = keys.map((key) => ({ entityKind: kind, key }));
  const outcomes = await fetchEntities(options.client, options.storeId, requests, options.now ? { now: options.now } : {});
  const failed = requests.flatMap((request) => {
    const outcome = outcomes.get(requestKey(request));
    return !outcome || outcome.status === 'failed' ? [outcome?.error.message ?? 'no answer'] : [];
  });
  if (failed.length > 0) {
    throw new Error(
      `${failed.length} of ${requests.length} reads of ${kindName(kind)} by id failed (${failed[0]}); the run resumes here next time`,
    );
  }
  const records: ProjectorRecord[] = [];
  for (const request of requests) {
    const outcome = outcomes.get(requestKey(request));
    if (!outcome || outcome.status === 'failed') continue;
    if (outcome.status === 'ok') {
      records.push({
        kind: 'snapshot',
        storeId: options.storeId,
        entityKind: kind,
        entityId: outcome.entityId,
        payload: outcome.doc,
        causedBy: [],
        fetchedAt: outcome.fetchedAt,
      });
    } else {
      if (purpose === 'gone') ctx.note('missedDeletes', request.key);
      records.push({
        kind: 'tombstone',
        storeId: options.storeId,
        entityKind: kind,
        entityId: request.key,
        payload: { reason: 'not_found' },
        causedBy: [],
        fetchedAt: outcome.fetchedAt,
      });
    }
  }
  return records;
}

/**
 * After a whole listing: the mirror's live ids Ecwid did not list. A dry run reports them; a run
 * asks Ecwid for each (a listing walked by offset can miss an item that moved), and a 404 makes
 * the tombstone.
 */
async function findGone(ctx: KindContext): Promise<void> {
  const { options, kind } = ctx;
  if (ctx.progress.phase !== 'gone') return;
  const table = entityCatalog[kind].table;
  const key = keyColumn(kind);
  const batch = 500;
  for (;;) {
    if (options.signal?.aborted) throw new Error('aborted');
    const after = String(ctx.progress.after ?? '');
    const notSeen = ctx.run
      ? sql`not exists (select 1 from ${reconcileSeenTable} s where s.store_id = ${options.storeId} and s.run_id = ${ctx.run.id} and s.entity_id = ${key}::text)`
      : sql`true`;
    const candidates = (
      await execRows<{ id: string }>(
        options.db,
        sql`select ${key}::text as id from ${table} where store_id = ${options.storeId} and deleted_at is null
              and ${key}::text > ${after} and ${notSeen} and not ${tombstoneInFlight(options.storeId, kind, sql`${key}::text`, sql`${table}.source_position`)}
            order by ${key}::text limit ${batch}`,
      )
    )
      .map((r) => r.id)
      // Placeholders keyed `internal:<id>` are never live; a dry run filters by its own set.
      .filter((id) => ctx.run || !ctx.seen.has(id));
    const last = candidates.at(-1);
    if (ctx.dryRun) {
      for (const id of candidates) ctx.note('missedDeletes', id);
    }
    const records = ctx.dryRun ? [] : await readByIds(ctx, candidates, 'gone');
    if (last !== undefined) ctx.progress.after = last;
    await ctx.commit(records);
    if (candidates.length < batch) break;
  }
  ctx.progress.phase = 'done';
}

/**
 * A tombstone for a row is already in the log, not yet projected (enrichment confirmed a
 * delete, or an order's tombstone carried its invoices): the row is as good as gone, and reading
 * it again would count a delete nothing missed.
 */
const tombstoneInFlight = (storeId: number, kind: FetchedKind, entityId: SQL, sourcePosition: SQL) =>
  sql`exists (select 1 from event_log e where e.store_id = ${storeId} and e.entity_kind = ${kind}
        and e.entity_id = ${entityId} and e.position > ${sourcePosition} and e.kind = 'tombstone')`;

/**
 * Incremental: Ecwid's deleted-items listing since `since`, for what the mirror still has live.
 * An id in the listing is Ecwid's own confirmation of the delete (decision 0004), so it is
 * tombstoned without a read, unless the mirror took a document of it after the listed deletion
 * (Ecwid served it again): that one is read, and the read decides.
 */
async function readDeletedListing(ctx: KindContext, since: Date): Promise<void> {
  const { options, kind } = ctx;
  const listing = entityCatalog[kind].deletedListing;
  if (!listing || ctx.progress.phase !== 'deleted') return;
  let offset = Number(ctx.progress.offset ?? 0);
  const table = entityCatalog[kind].table;
  const key = keyColumn(kind);
  for (;;) {
    if (options.signal?.aborted) throw new Error('aborted');
    const page = await options.client.getDeleted(listing, { from: since, offset });
    if (page.items.length === 0) break;
    // Deleted orders name their internal id (and, from Ecwid's newer code, the public one).
    const deletedAt = new Map<string, string>();
    for (const item of page.items) {
      deletedAt.set(String(item.id), item.date);
      if (typeof item.orderId === 'string') deletedAt.set(item.orderId, item.date);
    }
    const ids = [...deletedAt.keys()];
    const live = await execRows<{ id: string; internal: string | null; synced_at: Date }>(
      options.db,
      kind === 'order'
        ? sql`select order_id as id, internal_id::text as internal, synced_at from orders
              where store_id = ${options.storeId} and deleted_at is null
                and (order_id in ${textSet(ids)} or internal_id::text in ${textSet(ids)})`
        : sql`select ${key}::text as id, null as internal, synced_at from ${table}
              where store_id = ${options.storeId} and deleted_at is null and ${key}::text in ${textSet(ids)}`,
    );
    ctx.counts.checked += page.items.length;
    const confirmed: { id: string; internal: string | null; date: string }[] = [];
    const toRead: string[] = [];
    for (const row of live) {
      const date = deletedAt.get(row.id) ?? (row.internal === null ? undefined : deletedAt.get(row.internal));
      const at = date === undefined ? Number.NaN : Date.parse(date);
      // The listing's dates are whole seconds: a row taken within the second of the deletion is
      // taken before it.
      if (date !== undefined && !Number.isNaN(at) && Math.floor(new Date(row.synced_at).getTime() / 1000) * 1000 <= at)
        confirmed.push({ ...row, date });
      else toRead.push(row.id);
    }
    for (const { id } of confirmed) ctx.note('missedDeletes', id);
    if (ctx.dryRun) for (const id of toRead) ctx.note('missedDeletes', id);
    const fetchedAt = (options.now ?? (() => new Date()))();
    const records: ProjectorRecord[] = ctx.dryRun
      ? []
      : [
          ...confirmed.map(({ id, internal, date }) => ({
            kind: 'tombstone' as const,
            storeId: options.storeId,
            entityKind: kind,
            entityId: id,
            payload: { reason: 'deleted', deletedListing: date, ...(internal !== null && { internalId: Number(internal) }) },
            causedBy: [],
            fetchedAt,
          })),
          ...(await readByIds(ctx, toRead, 'gone')),
        ];
    offset += page.items.length;
    ctx.progress.offset = offset;
    await ctx.commit(records);
    options.onProgress?.({ kind, phase: 'deleted', checked: offset, total: page.total });
    if (offset >= page.total) break;
  }
  ctx.progress.phase = 'done';
}

/** A store-level document (profile, subscription, storage), compared whole with what the mirror last took. */
async function compareStoreDocument(ctx: KindContext, read: (client: EcwidClient) => Promise<unknown>): Promise<void> {
  const { options, kind } = ctx;
  const doc = await read(options.client);
  const fetchedAt = (options.now ?? (() => new Date()))();
  // The table's row, as for every other kind: what the mirror answers with. (The log's latest
  // record would call equal a document not projected yet.) A row ended by a tombstone too: the
  // app's subscription ended by an uninstall is live again after the reinstall.
  const [row] = await execRows<{ deleted: boolean; same: boolean | null }>(
    options.db,
    sql`select deleted_at is not null as deleted, (doc = ${JSON.stringify(doc)}::jsonb) as same
        from ${entityCatalog[kind].table} where store_id = ${options.storeId}`,
  );
  let differs: boolean;
  if (kind === 'app_storage') {
    // Storage is a set of keys: each key is compared, as the table holds them.
    const findings = await compareStorage(options.db, options.storeId, doc);
    ctx.counts.checked += Array.isArray(doc) ? doc.length : 0;
    for (const { key, finding } of findings) ctx.note(finding, key);
    differs = findings.length > 0;
  } else {
    ctx.counts.checked += 1;
    const finding: Finding | undefined = row === undefined ? 'missing' : row.deleted ? 'healedTombstones' : row.same ? undefined : 'stale';
    if (finding) ctx.note(finding, String(options.storeId));
    differs = finding !== undefined;
  }
  const records: ProjectorRecord[] = differs
    ? [
        {
          kind: 'snapshot',
          storeId: options.storeId,
          entityKind: kind,
          entityId: String(options.storeId),
          payload: doc,
          causedBy: [],
          fetchedAt,
        },
      ]
    : [];
  await ctx.commit(ctx.dryRun ? [] : records);
}

/** App storage key by key against the table: keys missing, values changed, keys gone, keys deleted but back. */
async function compareStorage(db: Executor, storeId: number, doc: unknown): Promise<{ key: string; finding: Finding }[]> {
  return execRows<{ key: string; finding: Finding }>(
    db,
    sql`with e as (
          select x->>'key' as key,
            (case jsonb_typeof(x->'value') when 'string' then x->>'value' when 'null' then null else (x->'value')::text end) as value
          from jsonb_array_elements(case when jsonb_typeof(${JSON.stringify(doc)}::jsonb) = 'array' then ${JSON.stringify(doc)}::jsonb else '[]' end) x
          where jsonb_typeof(x->'key') = 'string'
        ),
        m as (select key, value, deleted_at from app_storage where store_id = ${storeId})
        select coalesce(e.key, m.key) as key,
          (case when m.key is null then 'missing' when e.key is null then 'missedDeletes'
                when m.deleted_at is not null then 'healedTombstones' when m.value is distinct from e.value then 'stale' end) as finding
        from e full join m on m.key = e.key
        where m.key is null or (e.key is null and m.deleted_at is null) or (e.key is not null and (m.deleted_at is not null or m.value is distinct from e.value))
        order by 1`,
  );
}

/**
 * Invoices: the orders' listing trimmed to each order's invoices (incremental: orders changed
 * since `since`, an invoice bumps its order's update time), against the mirror's invoices. An
 * order whose invoices differ gets its listed invoices appended as its invoice list (the same
 * document `GET /orders/{id}/invoices` answers). A full run also ends the invoices of orders
 * Ecwid no longer lists.
 */
async function reconcileInvoices(ctx: KindContext, since: Date | null): Promise<void> {
  const { options } = ctx;
  if (ctx.progress.phase === undefined || ctx.progress.phase === 'list') {
    const list = (offset: number) =>
      options.client.listFields('orders', ['id', 'invoices'], { offset, ...(since && { updatedFrom: since }) });
    const orderKey = (o: Doc) => (typeof o.id === 'string' ? o.id : undefined);
    await walkListing(ctx, list, orderKey, async (items) => {
      const fetchedAt = (options.now ?? (() => new Date()))();
      const listed = items.flatMap((o) =>
        typeof o.id === 'string' && Array.isArray(o.invoices)
          ? [{ orderId: o.id, invoices: o.invoices as Doc[], ids: (o.invoices as Doc[]).map((i) => String(i.id)) }]
          : [],
      );
      const byOrder = await mirrorInvoices(
        options.db,
        options.storeId,
        listed.map((o) => o.orderId),
      );
      const records: ProjectorRecord[] = [];
      for (const o of listed) {
        if (!invoicesDiffer(ctx, o.orderId, o.ids, byOrder.get(o.orderId))) continue;
        records.push({
          kind: 'snapshot',
          storeId: options.storeId,
          entityKind: 'invoice',
          entityId: o.orderId,
          payload: { invoices: o.invoices },
          causedBy: [],
          fetchedAt,
        });
      }
      await ctx.commit(ctx.dryRun ? [] : records, { seen: items.flatMap((o) => orderKey(o) ?? []) });
    });
    ctx.progress.phase = since === null ? 'gone' : 'done';
  }
  if (ctx.progress.phase !== 'gone') return;
  // Live invoices of orders Ecwid no longer lists: the order is gone, and its invoices with it.
  const notSeen = ctx.run
    ? sql`not exists (select 1 from ${reconcileSeenTable} s where s.store_id = ${options.storeId} and s.run_id = ${ctx.run.id} and s.entity_id = i.order_id)`
    : sql`true`;
  const orphans = (
    await execRows<{ order_id: string; invoice_id: string }>(
      options.db,
      sql`select order_id, invoice_id from invoices i where store_id = ${options.storeId} and deleted_at is null and ${notSeen}
            and not ${tombstoneInFlight(options.storeId, 'invoice', sql`i.order_id`, sql`i.source_position`)}`,
    )
  ).filter((r) => ctx.run || !ctx.seen.has(r.order_id));
  const orphanOrders = [...new Set(orphans.map((r) => r.order_id))];
  if (ctx.dryRun) {
    for (const r of orphans) ctx.note('missedDeletes', `${r.order_id}/${r.invoice_id}`);
    ctx.progress.phase = 'done';
    return;
  }
  // Not ended on the listing's word: a listing walked by offset can skip an order. Each order's
  // invoices are read (an order Ecwid no longer has answers an empty list), and only what that
  // answer leaves out is ended. A read that fails fails the run here, to be resumed at this phase.
  const read = await readByIds(ctx, orphanOrders, 'repair');
  const byOrder = await mirrorInvoices(options.db, options.storeId, orphanOrders);
  const records: ProjectorRecord[] = [];
  for (const record of read) {
    const invoices = (record.payload as { invoices?: unknown } | undefined)?.invoices;
    const ids = Array.isArray(invoices) ? (invoices as Doc[]).map((i) => String(i.id)) : [];
    if (!invoicesDiffer(ctx, record.entityId, ids, byOrder.get(record.entityId))) continue;
    // None left (the order is gone, or its invoices are): they end as before, kept as deleted rows.
    records.push(ids.length > 0 ? record : { ...record, kind: 'tombstone', payload: { reason: 'not_found' } });
  }
  ctx.progress.phase = 'done';
  await ctx.commit(records);
}

/** The mirror's invoices of these orders: invoice id → whether it is deleted, by order. */
async function mirrorInvoices(db: Executor, storeId: number, orderIds: readonly string[]): Promise<Map<string, Map<string, boolean>>> {
  const byOrder = new Map<string, Map<string, boolean>>();
  if (orderIds.length === 0) return byOrder;
  const rows = await execRows<{ order_id: string; invoice_id: string; deleted: boolean }>(
    db,
    sql`select order_id, invoice_id, deleted_at is not null as deleted from invoices
        where store_id = ${storeId} and order_id in ${textSet(orderIds)}`,
  );
  for (const r of rows) byOrder.set(r.order_id, (byOrder.get(r.order_id) ?? new Map()).set(r.invoice_id, r.deleted));
  return byOrder;
}

/** Whether an order's invoices in Ecwid (`ids`) differ from the mirror's, noting each difference. */
function invoicesDiffer(ctx: KindContext, orderId: string, ids: readonly string[], have = new Map<string, boolean>()): boolean {
  let differs = false;
  for (const id of ids) {
    ctx.counts.checked += 1;
    const deleted = have.get(id);
    if (deleted === undefined) ctx.note('missing', `${orderId}/${id}`);
    else if (deleted) ctx.note('healedTombstones', `${orderId}/${id}`);
    else continue;
    differs = true;
  }
  for (const [id, deleted] of have) {
    if (deleted || ids.includes(id)) continue;
    ctx.note('missedDeletes', `${orderId}/${id}`);
    differs = true;
  }
  return differs;
}

/** The watermark of the kind's last finished run, or else its backfill's; null when there is none. */
async function lastWatermark(db: Db, storeId: number, kind: FetchedKind): Promise<Date | null> {
  const [last] = await db
    .select({ watermark: reconcileRunsTable.watermark })
    .from(reconcileRunsTable)
    .where(and(eq(reconcileRunsTable.storeId, storeId), eq(reconcileRunsTable.kind, kind), eq(reconcileRunsTable.status, 'done')))
    .orderBy(desc(reconcileRunsTable.finishedAt))
    .limit(1);
  if (last?.watermark) return last.watermark;
  const [backfilled] = await db
    .select({ watermark: backfillStateTable.watermark, completedAt: backfillStateTable.completedAt })
    .from(backfillStateTable)
    .where(and(eq(backfillStateTable.storeId, storeId), eq(backfillStateTable.entity, kind)));
  return backfilled?.completedAt && backfilled.watermark ? backfilled.watermark : null;
}

/**
 * Starts a run, or resumes the one a crash left behind (its heartbeat older than the lease).
 * `busy` when a live run of the kind exists (another worker, or another command).
 */
async function claimRun(
  db: Db,
  input: { storeId: number; kind: FetchedKind; mode: ReconcileMode; since: Date | null; trigger: string; leaseMs: number },
): Promise<{ status: 'claimed'; run: RunRow } | { status: 'busy'; runId: number; heardAgoMs: number }> {
  return db.transaction(async (tx) => {
    // One claimer at a time per store and kind.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`reconcile:${input.storeId}:${input.kind}`}, 0))`);
    const [open] = await tx
      .select()
      .from(reconcileRunsTable)
      .where(
        and(
          eq(reconcileRunsTable.storeId, input.storeId),
          eq(reconcileRunsTable.kind, input.kind),
          eq(reconcileRunsTable.status, 'running'),
        ),
      )
      .orderBy(desc(reconcileRunsTable.startedAt))
      .limit(1);
    if (open) {
      const heardAgoMs = Date.now() - open.heartbeatAt.getTime();
      if (heardAgoMs < input.leaseMs) return { status: 'busy' as const, runId: open.id, heardAgoMs };
      // Its worker died: take it over where it stopped.
      const [taken] = await tx
        .update(reconcileRunsTable)
        .set({ heartbeatAt: sql`now()` })
        .where(and(eq(reconcileRunsTable.storeId, input.storeId), eq(reconcileRunsTable.id, open.id)))
        .returning();
      return { status: 'claimed' as const, run: taken! };
    }
    const [run] = await tx
      .insert(reconcileRunsTable)
      .values({ storeId: input.storeId, kind: input.kind, mode: input.mode, since: input.since, trigger: input.trigger, progress: {} })
      .returning();
    return { status: 'claimed' as const, run: run! };
  });
}

async function clearSeen(db: Db, storeId: number, runId: number): Promise<void> {
  await db.delete(reconcileSeenTable).where(and(eq(reconcileSeenTable.storeId, storeId), eq(reconcileSeenTable.runId, runId)));
}
