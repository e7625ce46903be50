import { execPreparedSql, execRows, requireSql, type Db, type Executor } from '@mirror/db';
import { sql } from 'drizzle-orm';
import { erasePayload, identifyingStringsOf, isPersonKind, stringMatcher, subjectOf } from './redact.ts';
import { beginErasure, emailPattern, writeErasedPayloads } from './rewrite.ts';
import { subjectHasher } from './subject-key.ts';

/*
 * An erasure holds for every document Ecwid sends later: before snapshots are appended, those
 * about an erased subject (by the keyed hash of their customer id or email), or of a store whose
 * customers were all erased, are erased the same way. The check runs under the log's append
 * lock, which an erasure takes while it records its subject, so no append can slip between the
 * two (docs/decisions/0007-erasure-rewrites-the-log.md).
 *
 * The webhooks that asked for those documents are erased too: ingest stores a body as received,
 * and a customer's webhook names them by email (`data.customerEmail`). Each email in such a
 * webhook whose keyed hash is an erased subject's (every email, for a store erased whole) becomes
 * `[erased]`, as the erasure itself erases webhooks.
 */

/** The log's append lock (migrations/0001: every INSERT on event_log takes it first). */
export const appendLock = 7262431000424242;

type Appendable = { kind: string; storeId: number; entityKind: string; payload: unknown; causedBy?: readonly number[] };

/** About a person: a snapshot of a person kind, or any record of one that answers webhooks. */
const aboutPerson = (r: Appendable) => isPersonKind(r.entityKind) && (r.kind === 'snapshot' || (r.causedBy?.length ?? 0) > 0);

/** The records with documents of erased subjects erased (the same array when there are none). */
export async function eraseOnAppend<R extends Appendable>(tx: Executor, records: readonly R[]): Promise<readonly R[]> {
  return eraseErased(tx, records, true);
}

/**
 * Documents from Ecwid as the mirror would keep them (reconcile compares these with its rows, so
 * an erased customer is not "stale" on every run).
 */
export async function asKept<R extends Appendable>(db: Executor, records: readonly R[]): Promise<readonly R[]> {
  return eraseErased(db, records, false);
}

/** The reason {@link requireNoErasedSubjects} fails with (failedRequirement). */
export const erasedSubjectsFound = 'erased subjects in these stores';

/**
 * Fails (with {@link erasedSubjectsFound}, so the transaction cannot commit) when any subject of
 * the records' stores was erased, for records with documents about people; sends nothing when
 * there are none. Prepared, and decided in SQL: see appendRecordsPipelined.
 */
export async function requireNoErasedSubjects(tx: Executor, records: readonly Appendable[]): Promise<void> {
  const candidates = records.filter(aboutPerson);
  if (candidates.length === 0) return;
  const stores = [...new Set(candidates.map((r) => r.storeId))];
  const erased = sql`exists (select 1 from erased_subjects
    where store_id in (select (jsonb_array_elements_text(${JSON.stringify(stores.map(String))}::jsonb))::bigint))`;
  await execPreparedSql(tx, sql`select ${requireSql(sql`not ${erased}`, erasedSubjectsFound)} as none`);
}

async function eraseErased<R extends Appendable>(tx: Executor, records: readonly R[], lock: boolean): Promise<readonly R[]> {
  const candidates = records.filter(aboutPerson);
  if (candidates.length === 0) return records;
  const stores = [...new Set(candidates.map((r) => r.storeId))];
  if (lock) await tx.execute(sql`select pg_advisory_xact_lock(${appendLock})`);
  const erased = await execRows<{ store_id: string | number; subject_hash: string }>(
    tx,
    sql`select store_id, subject_hash from erased_subjects
        where store_id in (select (jsonb_array_elements_text(${JSON.stringify(stores.map(String))}::jsonb))::bigint)`,
  );
  if (erased.length === 0) return records;
  const hashes = new Set(erased.map((r) => `${Number(r.store_id)}:${r.subject_hash}`));
  const hasher = await subjectHasher(tx);
  const has = (storeId: number, hash: string) => hashes.has(`${storeId}:${hash}`);
  if (lock) {
    await eraseAskingWebhooks(
      tx,
      candidates.flatMap((r) => r.causedBy ?? []),
      (storeId, email) => has(storeId, hasher.store(storeId)) || has(storeId, hasher.email(storeId, email)),
    );
  }
  return records.map((record) => {
    if (record.kind !== 'snapshot' || !isPersonKind(record.entityKind)) return record;
    const text = JSON.stringify(record.payload);
    const who = subjectOf(record.entityKind, text);
    const erasedSubject =
      has(record.storeId, hasher.store(record.storeId)) ||
      who.customerIds.some((id) => has(record.storeId, hasher.customer(record.storeId, id))) ||
      who.emails.some((email) => has(record.storeId, hasher.email(record.storeId, email)));
    if (!erasedSubject) return record;
    const erasedText = erasePayload(text, {
      person: true,
      matcher: stringMatcher(identifyingStringsOf(text)),
      pseudonym: (email) => hasher.pseudonym(record.storeId, email),
    });
    return erasedText === undefined ? record : { ...record, payload: JSON.parse(erasedText) as unknown };
  });
}

/**
 * How far each store's waiting webhooks were read by {@link eraseWaitingWebhooks}, with the
 * number of erased subjects the store had then: a new erasure reads them all again.
 */
const waitingRead = new WeakMap<Db, Map<number, { upTo: number; subjects: number }>>();

/**
 * Erases, from a store's webhooks after `after`, every email whose keyed hash is an erased
 * subject's (every email, for a store erased whole). Enrichment calls it for a store whose
 * webhooks wait (uninstalled, or erased whole, which stops fetching): no append answers them,
 * so {@link eraseOnAppend} would not reach them, and they would stay as received. Nothing is
 * read when the store has no erased subject, and each webhook once per erased set (the process
 * remembers how far it read). Rewrites take the erasure's locks (beginErasure), so they and an
 * erasure's own rewrites never overwrite each other. Returns how many webhooks were rewritten.
 */
export async function eraseWaitingWebhooks(db: Db, storeId: number, after: number): Promise<number> {
  const [count] = await execRows<{ n: number }>(db, sql`select count(*)::int as n from erased_subjects where store_id = ${storeId}`);
  const subjects = count?.n ?? 0;
  if (subjects === 0) return 0;
  const read = waitingRead.get(db) ?? new Map<number, { upTo: number; subjects: number }>();
  waitingRead.set(db, read);
  const known = read.get(storeId);
  const chunk = 1000;
  let rewritten = 0;
  for (let from = known && known.subjects === subjects ? Math.max(after, known.upTo) : after; ;) {
    const rows = await execRows<{ position: string | number; has_at: boolean }>(
      db,
      sql`select position, payload::text like '%@%' as has_at from event_log
          where store_id = ${storeId} and position > ${from} and kind = 'webhook' order by position limit ${chunk}`,
    );
    const candidates = rows.filter((r) => r.has_at).map((r) => Number(r.position));
    if (candidates.length > 0) {
      rewritten += await db.transaction(async (tx) => {
        await beginErasure(tx);
        const erased = await execRows<{ subject_hash: string }>(
          tx,
          sql`select subject_hash from erased_subjects where store_id = ${storeId}`,
        );
        const hashes = new Set(erased.map((r) => r.subject_hash));
        const hasher = await subjectHasher(tx);
        const wholeStore = hashes.has(hasher.store(storeId));
        return eraseAskingWebhooks(tx, candidates, (_, email) => wholeStore || hashes.has(hasher.email(storeId, email)));
      });
    }
    if (rows.length > 0) from = Number(rows.at(-1)!.position);
    read.set(storeId, { upTo: from, subjects });
    if (rows.length < chunk) return rewritten;
  }
}

/** Rewrites the webhooks at `positions` with every email `erased` says is an erased subject's made `[erased]`. */
async function eraseAskingWebhooks(
  tx: Executor,
  positions: readonly number[],
  erased: (storeId: number, email: string) => boolean,
): Promise<number> {
  if (positions.length === 0) return 0;
  const webhooks = await execRows<{ position: string | number; store_id: string | number; payload: string }>(
    tx,
    sql`select position, store_id, payload::text as payload from event_log
        where kind = 'webhook' and position in (select (jsonb_array_elements_text(${JSON.stringify([...new Set(positions)].map(String))}::jsonb))::bigint)
        order by position for update`,
  );
  const changed: { position: string | number; payload: string }[] = [];
  for (const webhook of webhooks) {
    const storeId = Number(webhook.store_id);
    const emails = [...new Set(webhook.payload.match(emailPattern) ?? [])].filter((email) => erased(storeId, email.trim().toLowerCase()));
    if (emails.length === 0) continue;
    const payload = erasePayload(webhook.payload, { person: false, matcher: stringMatcher(emails), pseudonym: () => '' });
    if (payload !== undefined) changed.push({ position: webhook.position, payload });
  }
  if (changed.length === 0) return 0;
  // The one change the log allows (decision 0007), for this statement only.
  await tx.execute(sql`select set_config('mirror.erasure', 'on', true)`);
  await writeErasedPayloads(tx, changed);
  await tx.execute(sql`select set_config('mirror.erasure', 'off', true)`);
  return changed.length;
}
