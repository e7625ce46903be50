import {
  erasedSubjectsTable,
  execRows,
  exportDeletedReason,
  personalDataExportPartsTable,
  personalDataRequestsTable,
  type Db,
  type Executor,
} from '@mirror/db';
import { and, eq, sql } from 'drizzle-orm';
import { appendRecords } from '../enrichment/append-records.ts';
import { appendLock } from './erase-on-append.ts';
import { gatherStrings, resolveSubject, subjectEntities, type Subject, type SubjectEntities } from './find-subject.ts';
import { erasePayload, personKinds, stringMatcher, subjectOf, type PersonKind } from './redact.ts';
import { beginErasure, recordsOf, rewriteLog, rewriteRows, type EraseRule } from './rewrite.ts';
import { emailValueMatcher, eraseWebhooksNamingSubject, nextWindowEnd } from './subject-webhooks.ts';
import type { SubjectHasher } from './subject-key.ts';
import type { RequestRow } from './requests.ts';

/*
 * Erasure of one customer, or of every customer of a store, in batches that each commit with
 * the request's progress: a crash resumes at the batch it was in, and no transaction grows with
 * the store (a store with a million orders is erased a few hundred records at a time).
 *
 * Customer: (1) the subject is resolved (ids and emails, docs/personal-data.md), its entities
 * found in the tables and in the snapshots projection has not applied yet, its identifying
 * strings gathered from every document of theirs, and its keyed hashes recorded in
 * `erased_subjects` under the log's append lock, from when on documents Ecwid sends again are
 * erased before they are appended; (2) entity by entity, the log records and the table rows are
 * erased; (3) the store's other webhooks that hold one of the subject's strings are erased of
 * them (subject-webhooks.ts); (4) store-wide exports made earlier are erased of the subject's
 * strings; (5) the webhooks that asked about the subject, and earlier exports of it, go too;
 * (6) the request, and every other request about the subject, keep only the hashes.
 * Store: every record of the store, in log order, and every row of the person tables, erased
 * with each document's own identifying strings; fetching stops until a new installation.
 */

export type EraseCounts = Record<string, number>;

type CustomerProgress = {
  /** `webhooks`, `exports`, then `requests`: the rewrite is done (an older run's progress may skip `webhooks` or `exports`). */
  phase: 'rewrite' | 'webhooks' | 'exports' | 'requests';
  subject: Subject;
  strings: string[];
  units: [kind: PersonKind, key: string][];
  orderInternal: Record<string, string>;
  at: number;
  /** The end of the last window of the store's log searched for webhooks naming the subject. */
  webhooksAfter?: number;
  /** The last store-wide export part erased: [request id, part]. */
  exportsAfter?: [number, number];
};

type StoreProgress = { phase: 'log' | 'rows'; after: number; kindIndex: number; afterKey: string | null };

export type EraseDeps = {
  db: Db;
  hasher: SubjectHasher;
  /** Entities (one customer) or records and rows (a store) per transaction. */
  batchSize?: number | undefined;
  signal?: AbortSignal | undefined;
  /** After each batch is committed (tests stop a run midway with it). */
  onBatch?: (() => void) | undefined;
};

const add = (counts: EraseCounts, more: Record<string, number>) => {
  for (const [k, v] of Object.entries(more)) counts[k] = (counts[k] ?? 0) + v;
};

async function saveProgress(tx: Executor, request: RequestRow, progress: unknown, counts: EraseCounts): Promise<void> {
  await tx
    .update(personalDataRequestsTable)
    .set({ progress: progress as Record<string, unknown>, counts, heartbeatAt: sql`now()` })
    .where(and(eq(personalDataRequestsTable.storeId, request.storeId), eq(personalDataRequestsTable.id, request.id)));
}

/** Runs (or resumes) an erasure to its end; returns what it touched. */
export async function runErase(deps: EraseDeps, request: RequestRow): Promise<EraseCounts> {
  return request.scope === 'store' ? eraseStore(deps, request) : eraseCustomer(deps, request);
}

async function eraseCustomer(deps: EraseDeps, request: RequestRow): Promise<EraseCounts> {
  const { db, hasher } = deps;
  const batchSize = deps.batchSize ?? 100;
  const counts: EraseCounts = { ...(request.counts ?? {}) };
  let progress = request.progress as CustomerProgress | null;
  const storeId = request.storeId;

  if (!progress) {
    progress = await db.transaction(async (tx) => {
      // Where projection stood before the tables are read: snapshots after it may not be in them.
      const [projected] = await execRows<{ position: string | number }>(
        tx,
        sql`select position from consumer_checkpoints where name = 'projection'`,
      );
      const since = Number(projected?.position ?? 0);
      let subject = await resolveSubject(tx, storeId, {
        ...(request.subjectCustomerId !== null && { customerId: request.subjectCustomerId }),
        ...(request.subjectEmail !== null && { email: request.subjectEmail }),
      });
      let entities = await subjectEntities(tx, subject);
      const strings = new Set(await gatherStrings(tx, subject, entities));
      // The log's unprojected tail, read before the lock: a backfill with the projector stopped
      // can leave much of it, and appends should not wait for that.
      const unlocked = await unprojectedEntities(tx, subject, since);
      // The log's append lock until this transaction commits its hashes (decision 0007): an
      // append in flight commits first, and is seen below; every later one takes the lock after
      // the hashes are visible and erases what it appends (erase-on-append.ts). Under it, only
      // what was appended since the read above is read.
      await tx.execute(sql`select pg_advisory_xact_lock(${appendLock})`);
      const tail = await unprojectedEntities(tx, subject, unlocked.last, unlocked);
      subject = tail.subject;
      const added = without(tail.entities, entities);
      for (const s of await gatherStrings(tx, subject, added)) strings.add(s);
      entities = union(entities, added);
      const hashes = subjectHashes(hasher, subject);
      // An earlier run for the subject that failed or stopped may have erased documents this
      // run would have read the subject's strings from; its progress still holds them.
      const earlier = await execRows<{ progress: Partial<CustomerProgress> }>(
        tx,
        sql`select progress from personal_data_requests
            where store_id = ${storeId} and id <> ${request.id} and kind = 'erase' and scope = 'customer' and progress is not null
              and subject_hashes && ${sql.raw(`array[${hashes.map((h) => `'${h}'`).join(',') || "''"}]::text[]`)}`,
      );
      const earlierInternal: Record<string, string> = {};
      for (const { progress: theirs } of earlier) {
        for (const s of theirs.strings ?? []) strings.add(s);
        Object.assign(earlierInternal, theirs.orderInternal);
        const keys = (kind: PersonKind) => (theirs.units ?? []).filter(([k]) => k === kind).map(([, key]) => key);
        entities = union(entities, {
          customer: keys('customer'),
          order: keys('order'),
          orderInternal: [],
          abandoned_cart: keys('abandoned_cart'),
          review: keys('review'),
        });
      }
      if (hashes.length > 0) {
        await tx
          .insert(erasedSubjectsTable)
          .values(hashes.map((subjectHash) => ({ storeId, subjectHash, requestId: request.id })))
          .onConflictDoNothing();
      }
      const units: [PersonKind, string][] = personKinds.flatMap((kind) => entities[kind].map((key): [PersonKind, string] => [kind, key]));
      const orderInternal = { ...earlierInternal, ...tail.orderInternal, ...(await internalIdsOf(tx, storeId, entities.order)) };
      const started: CustomerProgress = { phase: 'rewrite', subject, strings: [...strings], units, orderInternal, at: 0 };
      await tx
        .update(personalDataRequestsTable)
        .set({ subjectHashes: hashes })
        .where(and(eq(personalDataRequestsTable.storeId, storeId), eq(personalDataRequestsTable.id, request.id)));
      await saveProgress(tx, request, started, counts);
      return started;
    });
  }
  const rule: EraseRule = { pseudonym: (email) => hasher.pseudonym(storeId, email), matcher: stringMatcher(progress.strings) };

  while (progress.phase === 'rewrite' && progress.at < progress.units.length) {
    if (deps.signal?.aborted) throw new Error('aborted');
    const current: CustomerProgress = progress;
    const batch = current.units.slice(current.at, current.at + batchSize);
    await db.transaction(async (tx) => {
      await beginErasure(tx);
      for (const kind of personKinds) {
        const keys = batch.filter(([k]) => k === kind).map(([, key]) => key);
        if (keys.length === 0) continue;
        // An order is named by its public id in snapshots, by its internal id in webhooks and
        // some tombstones; its invoices are keyed by the order.
        const ids =
          kind === 'order'
            ? [
                ...keys,
                ...keys.flatMap((k) =>
                  current.orderInternal[k] ? [current.orderInternal[k], `internal:${current.orderInternal[k]}`] : [],
                ),
              ]
            : keys;
        add(counts, { log_records: await rewriteLog(tx, rule, recordsOf(storeId, kind, ids)) });
        if (kind === 'order') add(counts, { log_records: await rewriteLog(tx, rule, recordsOf(storeId, 'invoice', keys)) });
        add(counts, await rewriteRows(tx, rule, kind, storeId, keys));
      }
      progress = { ...current, at: current.at + batch.length };
      await saveProgress(tx, request, progress, counts);
    });
    deps.onBatch?.();
  }

  // Webhooks about entities outside the closure may name the subject all the same.
  if (progress.phase === 'rewrite') progress = { ...progress, phase: 'webhooks' };
  while (progress.phase === 'webhooks') {
    if (deps.signal?.aborted) throw new Error('aborted');
    const current: CustomerProgress = progress;
    await db.transaction(async (tx) => {
      const after = current.webhooksAfter ?? 0;
      // Nothing to look for (a subject known by an id alone, without a document): no window is read.
      const upTo = emailValueMatcher(current.strings) ? await nextWindowEnd(tx, storeId, after, batchSize * recordsPerEntity) : null;
      if (upTo !== null) {
        add(counts, { log_records: await eraseWebhooksNamingSubject(tx, rule, { storeId, strings: current.strings, after, upTo }) });
      }
      progress = upTo === null ? { ...current, phase: 'exports' } : { ...current, webhooksAfter: upTo };
      await saveProgress(tx, request, progress, counts);
    });
    deps.onBatch?.();
  }

  // Store-wide exports made earlier hold the subject too: their parts are erased of the subject's
  // strings, a few parts per transaction (a store's export can be large).
  while (progress.phase === 'exports') {
    if (deps.signal?.aborted) throw new Error('aborted');
    const current: CustomerProgress = progress;
    await db.transaction(async (tx) => {
      const [afterRequest, afterPart] = current.exportsAfter ?? [0, -1];
      const parts = await execRows<{ request_id: string | number; part: number; items: string }>(
        tx,
        sql`select p.request_id, p.part, p.items::text as items from personal_data_export_parts p
            join personal_data_requests r on r.store_id = p.store_id and r.id = p.request_id and r.scope = 'store'
            where p.store_id = ${storeId} and (p.request_id, p.part) > (${afterRequest}::bigint, ${afterPart}::int)
            order by p.request_id, p.part limit ${exportPartsPerBatch}`,
      );
      const changed: string[] = [];
      for (const part of parts) {
        const items = erasePayload(part.items, { person: false, matcher: rule.matcher, pseudonym: rule.pseudonym });
        if (items !== undefined) changed.push(`{"request_id":${Number(part.request_id)},"part":${part.part},"items":${items}}`);
      }
      if (changed.length > 0) {
        await tx.execute(
          sql`update personal_data_export_parts p set items = n.items
              from jsonb_to_recordset(${`[${changed.join(',')}]`}::jsonb) as n(request_id bigint, part int, items jsonb)
              where p.store_id = ${storeId} and p.request_id = n.request_id and p.part = n.part`,
        );
        add(counts, { store_export_parts: changed.length });
      }
      const last = parts.at(-1);
      progress =
        parts.length < exportPartsPerBatch || !last
          ? { ...current, phase: 'requests' }
          : { ...current, exportsAfter: [Number(last.request_id), last.part] };
      await saveProgress(tx, request, progress, counts);
    });
    deps.onBatch?.();
  }

  // The webhooks that asked about this subject, and what earlier exports of it wrote down.
  const hashes = subjectHashes(hasher, progress.subject);
  await db.transaction(async (tx) => {
    await beginErasure(tx);
    const done = progress!;
    const asked = await execRows<{ id: string | number; kind: string; requested_position: string | number | null }>(
      tx,
      sql`select id, kind, requested_position from personal_data_requests
          where store_id = ${storeId} and scope = 'customer' and (id = ${request.id}
            or subject_customer_id in (select (jsonb_array_elements_text(${JSON.stringify(done.subject.customerIds.map(String))}::jsonb))::bigint)
            or lower(subject_email) in (select jsonb_array_elements_text(${JSON.stringify(done.subject.emails)}::jsonb))
            or subject_hashes && ${sql.raw(`array[${hashes.map((h) => `'${h}'`).join(',') || "''"}]::text[]`)})`,
    );
    const positions = asked.flatMap((r) => (r.requested_position === null ? [] : [Number(r.requested_position)]));
    if (positions.length > 0) {
      add(counts, {
        log_records: await rewriteLog(
          tx,
          rule,
          sql`position in (select (jsonb_array_elements_text(${JSON.stringify(positions.map(String))}::jsonb))::bigint)`,
        ),
      });
    }
    for (const other of asked) {
      const id = Number(other.id);
      // Exports of this subject are personal data too; the requests keep their hashes only.
      const removed = await tx
        .delete(personalDataExportPartsTable)
        .where(and(eq(personalDataExportPartsTable.storeId, storeId), eq(personalDataExportPartsTable.requestId, id)))
        .returning({ part: personalDataExportPartsTable.part });
      if (removed.length > 0) add(counts, { export_parts: removed.length });
      if (id !== request.id) {
        await tx
          .update(personalDataRequestsTable)
          // Their progress (a failed or stopped run's) named the subject and its strings. An
          // export says it is gone, so it is not served as an export that found nothing.
          .set({
            subjectCustomerId: null,
            subjectEmail: null,
            subjectHashes: hashes,
            progress: null,
            ...(other.kind === 'export' && { reason: `${exportDeletedReason} by erasure request ${request.id}` }),
          })
          .where(and(eq(personalDataRequestsTable.storeId, storeId), eq(personalDataRequestsTable.id, id)));
      }
    }
    progress = { ...done, phase: 'requests' };
    await saveProgress(tx, request, progress, counts);
  });
  return counts;
}

function subjectHashes(hasher: SubjectHasher, subject: Subject): string[] {
  return [
    ...subject.customerIds.map((id) => hasher.customer(subject.storeId, id)),
    ...subject.emails.map((email) => hasher.email(subject.storeId, email)),
  ];
}

const entityLists = ['customer', 'order', 'orderInternal', 'abandoned_cart', 'review'] as const;

/** The keys of `b` that `a` does not hold. */
const without = (b: SubjectEntities, a: SubjectEntities): SubjectEntities =>
  Object.fromEntries(entityLists.map((list) => [list, b[list].filter((k) => !a[list].includes(k))])) as SubjectEntities;

/** `a`, then the keys of `b` it does not hold. */
const union = (a: SubjectEntities, b: SubjectEntities): SubjectEntities =>
  Object.fromEntries(entityLists.map((list) => [list, [...a[list], ...without(b, a)[list]]])) as SubjectEntities;

/**
 * Log records searched for webhooks naming the subject per transaction, per entity of a batch:
 * most hold nothing to rewrite, and reading one costs far less than erasing an entity.
 */
const recordsPerEntity = 20;

/** Store-wide export parts erased per transaction. */
const exportPartsPerBatch = 20;

type Tail = { subject: Subject; entities: SubjectEntities; orderInternal: Record<string, string>; last: number };

/**
 * The subject's entities that only the log knows yet: person snapshots appended after `after`
 * (projection's position when the tables were read, or where an earlier call stopped, whose
 * findings `found` carries on) that name one of the subject's customer ids or emails. Their own
 * ids and emails join the subject (an email changed in a snapshot not yet projected). Read a
 * thousand records at a time; `last` is the last position read.
 */
async function unprojectedEntities(tx: Executor, subject: Subject, after: number, found?: Tail): Promise<Tail> {
  const ids = new Set(found?.subject.customerIds ?? subject.customerIds);
  const emails = new Set(found?.subject.emails ?? subject.emails);
  const entities: SubjectEntities = found
    ? structuredClone(found.entities)
    : { customer: [], order: [], orderInternal: [], abandoned_cart: [], review: [] };
  const orderInternal: Record<string, string> = { ...found?.orderInternal };
  const chunk = 1000;
  let last = after;
  for (;;) {
    const records = await execRows<{ position: string | number; entity_kind: PersonKind; entity_id: string; payload: string }>(
      tx,
      sql`select position, entity_kind, entity_id, payload::text as payload from event_log
          where store_id = ${subject.storeId} and position > ${last} and kind = 'snapshot'
            and entity_kind in ('customer', 'order', 'abandoned_cart', 'review')
          order by position limit ${chunk}`,
    );
    for (const record of records) {
      const who = subjectOf(record.entity_kind, record.payload);
      if (!who.customerIds.some((id) => ids.has(id)) && !who.emails.some((email) => emails.has(email))) continue;
      for (const id of who.customerIds) ids.add(id);
      for (const email of who.emails) emails.add(email);
      if (!entities[record.entity_kind].includes(record.entity_id)) entities[record.entity_kind].push(record.entity_id);
      if (record.entity_kind === 'order') {
        const internal = /"internalId"\s*:\s*(\d+)/.exec(record.payload)?.[1];
        if (internal && !entities.orderInternal.includes(internal)) {
          entities.orderInternal.push(internal);
          orderInternal[record.entity_id] = internal;
        }
      }
    }
    if (records.length > 0) last = Number(records.at(-1)!.position);
    if (records.length < chunk) break;
  }
  return {
    subject: { storeId: subject.storeId, customerIds: [...ids].sort((a, b) => a - b), emails: [...emails].sort() },
    entities,
    orderInternal,
    last,
  };
}

async function internalIdsOf(tx: Executor, storeId: number, orderIds: readonly string[]): Promise<Record<string, string>> {
  if (orderIds.length === 0) return {};
  const rows = await execRows<{ order_id: string; internal_id: string | number | null }>(
    tx,
    sql`select order_id, internal_id from orders where store_id = ${storeId}
          and order_id in (select jsonb_array_elements_text(${JSON.stringify(orderIds)}::jsonb))`,
  );
  return Object.fromEntries(rows.filter((r) => r.internal_id !== null).map((r) => [r.order_id, String(r.internal_id)]));
}

const storeTables: PersonKind[] = ['customer', 'order', 'abandoned_cart', 'review'];
const tableOf: Record<PersonKind, { table: string; key: string; type: 'bigint' | 'text' }> = {
  customer: { table: 'customers', key: 'customer_id', type: 'bigint' },
  order: { table: 'orders', key: 'order_id', type: 'text' },
  abandoned_cart: { table: 'abandoned_carts', key: 'cart_id', type: 'text' },
  review: { table: 'reviews', key: 'review_id', type: 'bigint' },
};

async function eraseStore(deps: EraseDeps, request: RequestRow): Promise<EraseCounts> {
  const { db, hasher } = deps;
  const storeId = request.storeId;
  const batchSize = deps.batchSize ?? 500;
  const counts: EraseCounts = { ...(request.counts ?? {}) };
  const rule: EraseRule = { pseudonym: (email) => hasher.pseudonym(storeId, email), ownStrings: true };
  let progress = request.progress as StoreProgress | null;
  if (!progress) {
    progress = await db.transaction(async (tx) => {
      // As a customer's: an append in flight commits before the store's hash, every later one sees it.
      await tx.execute(sql`select pg_advisory_xact_lock(${appendLock})`);
      await tx
        .insert(erasedSubjectsTable)
        .values({ storeId, subjectHash: hasher.store(storeId), requestId: request.id })
        .onConflictDoNothing();
      // No more fetching for this store until it is installed again (an `application.installed`
      // newer than now makes it active, as after an uninstall).
      await tx.execute(
        sql`insert into enrichment_state (store_id, status, lifecycle_at, last_error) values (${storeId}, 'uninstalled', now(), 'personal data of the store erased')
            on conflict (store_id) do update set status = 'uninstalled', lifecycle_at = greatest(enrichment_state.lifecycle_at, now()),
              last_error = 'personal data of the store erased', updated_at = now()`,
      );
      // And in the log, as an uninstall is, so `stores.status` says so too (tables are a
      // function of the log); an install after it (OAuth, a new token) makes the store active.
      const at = new Date();
      await appendRecords(tx, [
        {
          kind: 'snapshot',
          storeId,
          entityKind: 'store',
          entityId: String(storeId),
          payload: { status: 'uninstalled', at: at.toISOString(), source: 'personal_data_erasure' },
          causedBy: [],
          fetchedAt: at,
        },
      ]);
      await tx
        .update(personalDataRequestsTable)
        .set({ subjectHashes: [hasher.store(storeId)] })
        .where(and(eq(personalDataRequestsTable.storeId, storeId), eq(personalDataRequestsTable.id, request.id)));
      const started: StoreProgress = { phase: 'log', after: 0, kindIndex: 0, afterKey: null };
      await saveProgress(tx, request, started, counts);
      return started;
    });
  }

  // The log, in position order: every record of the store.
  while (progress.phase === 'log') {
    if (deps.signal?.aborted) throw new Error('aborted');
    const current: StoreProgress = progress;
    await db.transaction(async (tx) => {
      await beginErasure(tx);
      const [last] = await execRows<{ last: string | number | null; n: number }>(
        tx,
        sql`select max(position) as last, count(*)::int as n from (select position from event_log
              where store_id = ${storeId} and position > ${current.after} order by position limit ${batchSize}) s`,
      );
      const upTo = last?.last === null || last?.last === undefined ? null : Number(last.last);
      if (upTo !== null) {
        add(counts, {
          log_records: await rewriteLog(tx, rule, sql`store_id = ${storeId} and position > ${current.after} and position <= ${upTo}`),
        });
      }
      progress = upTo === null ? { ...current, phase: 'rows' } : { ...current, after: upTo };
      await saveProgress(tx, request, progress, counts);
    });
    deps.onBatch?.();
  }

  // The person tables, key by key.
  while (progress.phase === 'rows' && progress.kindIndex < storeTables.length) {
    if (deps.signal?.aborted) throw new Error('aborted');
    const current: StoreProgress = progress;
    const kind = storeTables[current.kindIndex]!;
    const { table, key, type } = tableOf[kind];
    await db.transaction(async (tx) => {
      await beginErasure(tx);
      const keys = (
        await execRows<{ k: string }>(
          tx,
          // In the key's own order, so the primary key's index walks it.
          sql`select ${sql.raw(key)}::text as k from ${sql.raw(table)} where store_id = ${storeId}
                and (${current.afterKey}::text is null or ${sql.raw(key)} > ${current.afterKey}::${sql.raw(type)})
              order by ${sql.raw(key)} limit ${batchSize}`,
        )
      ).map((r) => r.k);
      if (keys.length > 0) add(counts, await rewriteRows(tx, rule, kind, storeId, keys));
      progress =
        keys.length < batchSize ? { ...current, kindIndex: current.kindIndex + 1, afterKey: null } : { ...current, afterKey: keys.at(-1)! };
      await saveProgress(tx, request, progress, counts);
    });
    deps.onBatch?.();
  }
  // Exports of the store's customers are personal data too.
  const removed = await db
    .delete(personalDataExportPartsTable)
    .where(eq(personalDataExportPartsTable.storeId, storeId))
    .returning({ part: personalDataExportPartsTable.part });
  if (removed.length > 0) add(counts, { export_parts: removed.length });
  await db.execute(
    sql`update personal_data_requests set subject_customer_id = null, subject_email = null where store_id = ${storeId} and id <> ${request.id}`,
  );
  return counts;
}
