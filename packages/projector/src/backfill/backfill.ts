import { entityCatalog } from '@mirror/catalog';
import { backfillStateTable, type Db } from '@mirror/db';
import type { EcwidClient } from '@mirror/ecwid';
import { and, eq, sql } from 'drizzle-orm';
import { appendRecords, type ProjectorRecord } from '../enrichment/append-records.ts';
import { backfillKinds, backfillSpecs, type BackfillKind, type BackfillSpec } from './backfill-entities.ts';

export type BackfillProgress = {
  entity: BackfillKind;
  phase: 'scan' | 'deleted' | 'done';
  /** Items of this run appended so far (resumed runs count what was done before the crash). */
  done: number;
  /** Ecwid's total for the current listing, when known. */
  total: number;
  /**
   * With `plan`: every kind of the run together, items read (resumed runs count what was done
   * before the crash) of the total Ecwid's listings reported before the run began. The total
   * only grows (when a listing grows during the run); a finished kind counts as whole.
   */
  overall?: { done: number; total: number };
};

export type BackfillOptions = {
  db: Db;
  storeId: number;
  client: EcwidClient;
  /** Default: all of them (backfillKinds). */
  entities?: readonly BackfillKind[];
  onProgress?: (progress: BackfillProgress) => void;
  /**
   * Before walking, ask each kind's listing for its total (one request per kind, two with a
   * deleted-items listing to read), so progress carries `overall` from its first report.
   */
  plan?: boolean;
  signal?: AbortSignal;
  now?: () => Date;
  /** How far Ecwid's clock may be ahead of ours; the next run starts this much before this one did. */
  clockSkewMs?: number;
};

export type BackfillSummary = { entity: BackfillKind; snapshots: number; tombstones: number; incremental: boolean }[];

/** `total`: the listing's size as last seen (the API's and the console's progress of a run). */
type Details = { phase: 'scan' | 'deleted' | 'done'; deletedFrom: string | null; deletedOffset: number; total?: number };

/** Items each listing page re-reads from the end of the previous one (see the scan below). */
const pageOverlap = 10;

/**
 * Walks Ecwid's listings for one store and appends a snapshot per item (caused_by empty), a page
 * per transaction together with its progress in `backfill_state`, so a crash resumes at the page
 * it stopped on. A re-run asks only for items updated since the previous run's watermark (where
 * Ecwid supports `updatedFrom`; the rest are small and re-scanned) and turns the deleted-items
 * history since then into tombstones.
 */
export async function backfill(options: BackfillOptions): Promise<BackfillSummary> {
  const { db, storeId, client, entities = backfillKinds, onProgress, signal, now = () => new Date(), clockSkewMs = 5 * 60_000 } = options;
  const summary: BackfillSummary = [];
  const tally = options.plan ? await planRun(options, entities) : undefined;
  const report = (progress: BackfillProgress) => {
    if (!onProgress) return;
    if (tally) {
      const kind = tally.get(progress.entity);
      if (kind) {
        if (progress.phase === 'scan') {
          kind.scanDone = progress.done;
          kind.scanTotal = Math.max(kind.scanTotal, progress.total);
        } else if (progress.phase === 'deleted') {
          kind.deletedDone = progress.done;
          kind.deletedTotal = Math.max(kind.deletedTotal, progress.total);
        } else kind.finished = true;
      }
      onProgress({ ...progress, overall: overallOf(tally) });
    } else onProgress(progress);
  };
  if (tally) {
    const first = entities[0];
    if (first)
      onProgress?.({
        entity: first,
        phase: 'scan',
        done: tally.get(first)?.scanDone ?? 0,
        total: tally.get(first)?.scanTotal ?? 0,
        overall: overallOf(tally),
      });
  }
  for (const entity of entities) {
    if (signal?.aborted) break;
    const spec: BackfillSpec = backfillSpecs[entity];
    const { incremental, deletedListing } = entityCatalog[entity];
    const where = and(eq(backfillStateTable.storeId, storeId), eq(backfillStateTable.entity, entity));
    let [state] = await db.select().from(backfillStateTable).where(where);
    if (!state || state.completedAt !== null || state.startedAt === null) {
      // A new run: ask for what changed since the last completed one.
      const previousWatermark = state?.watermark ?? null;
      const planned = tally?.get(entity)?.scanTotal;
      const details: Details = {
        phase: 'scan',
        deletedFrom: previousWatermark?.toISOString() ?? null,
        deletedOffset: 0,
        ...(planned !== undefined && { total: planned }),
      };
      const fresh = {
        storeId,
        entity,
        updatedFrom: incremental ? previousWatermark : null,
        offset: 0,
        watermark: previousWatermark,
        startedAt: now(),
        completedAt: null,
        details,
      };
      [state] = await db
        .insert(backfillStateTable)
        .values(fresh)
        .onConflictDoUpdate({ target: [backfillStateTable.storeId, backfillStateTable.entity], set: fresh })
        .returning();
    }
    if (!state) throw new Error(`backfill_state for ${storeId}/${entity} vanished`);
    const details = (state.details ?? { phase: 'scan', deletedFrom: null, deletedOffset: 0 }) as Details;
    const updatedFrom = state.updatedFrom ?? undefined;
    let offset = state.offset;
    let snapshots = 0;
    let tombstones = 0;

    if (details.phase === 'scan') {
      // Pages overlap: Ecwid pages by offset, so when an item before the offset moves away
      // while we walk (updated, in a listing sorted by update time; or deleted), every later
      // item shifts back one place and the next page would start one item too late, skipping
      // an item no webhook will ever bring. Reading a few items back catches up to `overlap`
      // such moves between two pages; items already read on the previous page are not
      // appended again.
      let previousKeys = new Set<string>();
      for (;;) {
        if (signal?.aborted) return summary;
        const askFrom = Math.max(0, offset - pageOverlap);
        const page = await spec.page(client, { offset: askFrom, updatedFrom });
        if (page.items.length === 0 || askFrom + page.items.length <= offset) break;
        const fetchedAt = now();
        let maxUpdated: number | undefined;
        const keys = new Set<string>();
        const records: ProjectorRecord[] = [];
        for (const item of page.items) {
          const doc = item as Record<string, unknown>;
          const updated = spec.updatedAt?.(doc);
          if (updated !== undefined) maxUpdated = Math.max(maxUpdated ?? 0, updated);
          const entityId = spec.key(doc, storeId);
          keys.add(entityId);
          if (previousKeys.has(entityId) || (spec.include && !spec.include(doc))) continue;
          records.push({
            kind: 'snapshot',
            storeId,
            entityKind: entity,
            entityId,
            payload: spec.payload ? spec.payload(doc) : item,
            causedBy: [],
            fetchedAt,
          });
        }
        previousKeys = keys;
        offset = askFrom + page.items.length;
        const next = offset;
        details.total = page.total;
        const nextDetails = { ...details };
        await db.transaction(async (tx) => {
          await appendRecords(tx, records);
          await tx
            .update(backfillStateTable)
            .set({
              offset: next,
              details: nextDetails,
              ...(maxUpdated !== undefined && {
                watermark: sql`greatest(${backfillStateTable.watermark}, to_timestamp(${maxUpdated}))`,
              }),
            })
            .where(where);
        });
        snapshots += records.length;
        report({ entity, phase: 'scan', done: offset, total: page.total });
        if (offset >= page.total) break;
      }
      details.phase = 'deleted';
      await db
        .update(backfillStateTable)
        .set({ details: { ...details } })
        .where(where);
    }

    if (details.phase === 'deleted' && deletedListing && details.deletedFrom !== null) {
      const from = new Date(details.deletedFrom);
      for (;;) {
        if (signal?.aborted) return summary;
        const page = await client.getDeleted(deletedListing, { from, offset: details.deletedOffset });
        if (page.items.length === 0) break;
        const fetchedAt = now();
        const records: ProjectorRecord[] = page.items.map((item) => {
          const orderId = typeof item.orderId === 'string' ? item.orderId : undefined;
          // Deleted orders name their internal id; the public one when Ecwid gives it (0002).
          const entityId = entity === 'order' ? (orderId ?? `internal:${item.id}`) : String(item.id);
          return {
            kind: 'tombstone',
            storeId,
            entityKind: entity,
            entityId,
            payload: { reason: 'deleted', ...(entity === 'order' && { internalId: item.id }) },
            causedBy: [],
            fetchedAt,
          };
        });
        details.deletedOffset += page.items.length;
        const nextDetails = { ...details };
        await db.transaction(async (tx) => {
          await appendRecords(tx, records);
          await tx.update(backfillStateTable).set({ details: nextDetails }).where(where);
        });
        tombstones += records.length;
        report({ entity, phase: 'deleted', done: details.deletedOffset, total: page.total });
        if (details.deletedOffset >= page.total) break;
      }
    }
    details.phase = 'done';
    // The newest update time seen is not a safe "since": an item scanned early in the run and
    // changed later (or stamped by a clock behind Ecwid's) would be older than it and skipped
    // next time. Nothing changed before this run started (minus clock skew) can have been
    // missed, so the watermark never passes that; it is also the next deleted-items from_date.
    // (least() skips a null: a run that saw no update time takes the start time.)
    const safeUntil = new Date((state.startedAt ?? now()).getTime() - clockSkewMs);
    await db
      .update(backfillStateTable)
      .set({
        completedAt: now(),
        details: { ...details },
        watermark: sql`least(${backfillStateTable.watermark}, ${safeUntil.toISOString()}::timestamptz)`,
      })
      .where(where);
    report({ entity, phase: 'done', done: offset, total: offset });
    summary.push({ entity, snapshots, tombstones, incremental: updatedFrom !== undefined });
  }
  return summary;
}

type KindTally = { scanDone: number; scanTotal: number; deletedDone: number; deletedTotal: number; finished: boolean };

function overallOf(tally: Map<BackfillKind, KindTally>): { done: number; total: number } {
  let done = 0;
  let total = 0;
  for (const k of tally.values()) {
    const kindTotal = k.scanTotal + k.deletedTotal;
    total += kindTotal;
    done += k.finished ? kindTotal : Math.min(k.scanDone, k.scanTotal) + Math.min(k.deletedDone, k.deletedTotal);
  }
  return { done, total };
}

/**
 * What each kind's run will read, asked before any of them starts: the listing's total with the
 * `updatedFrom` the run will use (a resumed run: its own; a new one: since the last watermark),
 * and, on a re-run, the deleted-items listing's total since then. Writes nothing.
 */
async function planRun(options: BackfillOptions, entities: readonly BackfillKind[]): Promise<Map<BackfillKind, KindTally>> {
  const { db, storeId, client } = options;
  const tally = new Map<BackfillKind, KindTally>();
  for (const entity of entities) {
    if (options.signal?.aborted) break;
    const { incremental, deletedListing } = entityCatalog[entity];
    const [state] = await db
      .select()
      .from(backfillStateTable)
      .where(and(eq(backfillStateTable.storeId, storeId), eq(backfillStateTable.entity, entity)));
    const resumed = state !== undefined && state.completedAt === null && state.startedAt !== null;
    const details = resumed ? ((state.details ?? { phase: 'scan', deletedFrom: null, deletedOffset: 0 }) as Details) : undefined;
    const updatedFrom = resumed ? (state.updatedFrom ?? undefined) : incremental ? (state?.watermark ?? undefined) : undefined;
    const deletedFrom = resumed ? details?.deletedFrom : (state?.watermark?.toISOString() ?? null);
    const page = await backfillSpecs[entity].page(client, { offset: 0, updatedFrom });
    let deletedTotal = 0;
    if (deletedListing && deletedFrom)
      deletedTotal = (await client.getDeleted(deletedListing, { from: new Date(deletedFrom), offset: 0 })).total;
    tally.set(entity, {
      scanTotal: page.total,
      scanDone: resumed ? (details?.phase === 'scan' ? Math.min(state.offset, page.total) : page.total) : 0,
      deletedTotal,
      deletedDone: resumed && details?.phase === 'deleted' ? Math.min(details.deletedOffset, deletedTotal) : 0,
      finished: false,
    });
  }
  return tally;
}
