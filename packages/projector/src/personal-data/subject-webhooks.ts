import { execRows, type Executor } from '@mirror/db';
import { sql, type SQL } from 'drizzle-orm';
import { erasePayload, matchableStrings } from './redact.ts';
import { beginErasure, rewriteLog, type EraseRule } from './rewrite.ts';

/*
 * The store's webhooks that name the subject without being about an entity of theirs. Ingest
 * keeps a webhook as received, and its `data` may carry the subject's email or name under an
 * entity the subject's closure (find-subject.ts) does not reach: the documented
 * `customer.deleted` names the customer by `customerEmail` under an id the mirror may know only
 * as a tombstone (a row without an email), and an order's or a cart's webhook may carry an email
 * too. Nothing but their text leads from the subject to them, so they are found by it: the
 * store's webhooks with a string value that is one of the subject's emails, in any case. An
 * erasure erases that value, an export holds the webhook, like the subject's other records.
 *
 * Emails only, and whole values only. The subject's other strings (a first name, a street, a
 * phone's digits) are matched as substrings inside their own records, where that is safe; across
 * the store's webhooks a three-letter name would match inside `order.updated` or another
 * customer's email, rewrite webhooks that wait to be fetched and put other people's data in the
 * subject's export. An email is what Ecwid's webhook bodies name a person by (`customerEmail`),
 * and as a whole value it cannot match another address (`ted@x.com` inside `fred@x.com`).
 *
 * Cost: every webhook of the store is read once per customer erasure or export (a pattern match
 * on `payload::text` that no index serves), where the rest of an erasure reads only the
 * subject's own records, so an erasure now grows with the store's log (in rows read, not in
 * rows written). Erasures and exports are rare, so that is accepted. The scan walks the
 * store's records by position (event_log_store_position_idx) a window at a time, one window
 * per statement and per transaction, so a long log never makes one giant statement or
 * transaction, and the window's end is the cursor a run resumes after.
 */

/** The last position of the next window of the store's log after `after` (`size` records at most), or null at its end. */
export async function nextWindowEnd(tx: Executor, storeId: number, after: number, size: number): Promise<number | null> {
  const [window] = await execRows<{ last: string | number | null }>(
    tx,
    sql`select max(position) as last from (select position from event_log
          where store_id = ${storeId} and position > ${after} order by position limit ${size}) w`,
  );
  return window?.last === null || window?.last === undefined ? null : Number(window.last);
}

/** The subject's emails among their identifying strings, lower-cased. */
export const subjectEmails = (strings: readonly string[]): string[] => [
  ...new Set(
    matchableStrings(strings)
      .filter((s) => s.includes('@'))
      .map((s) => s.toLowerCase()),
  ),
];

/**
 * LIKE patterns for each email as a whole JSON string value in a payload's text (`"ted@x.com"`):
 * Postgres's wildcards in it (`_` is common in emails) are taken literally.
 */
const asWholeValue = (strings: readonly string[]) => subjectEmails(strings).map((s) => `%"${s.replace(/[\\%_]/g, (c) => `\\${c}`)}"%`);

/** Matches a string value that is one of the subject's emails, in any case; undefined without emails. */
export function emailValueMatcher(strings: readonly string[]): RegExp | undefined {
  const emails = subjectEmails(strings);
  if (emails.length === 0) return undefined;
  return new RegExp(`^(?:${emails.map((e) => e.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`, 'i');
}

/**
 * The store's webhooks in the window (`after`, `upTo`] whose text holds one of the subject's
 * emails as a JSON string, in any case. A first sieve only (an object key could be that string);
 * {@link namesSubject} decides.
 */
export function webhooksHolding(storeId: number, strings: readonly string[], after: number, upTo: number): SQL {
  return sql`store_id = ${storeId} and kind = 'webhook' and position > ${after} and position <= ${upTo}
    and payload::text ilike any (select jsonb_array_elements_text(${JSON.stringify(asWholeValue(strings))}::jsonb))`;
}

/** Whether a string value of the payload is one of the subject's emails (emailValueMatcher): exactly the webhooks an erasure changes. */
export const namesSubject = (payload: string, matcher: RegExp | undefined): boolean =>
  matcher !== undefined && erasePayload(payload, { person: false, matcher, pseudonym: (email) => email }) !== undefined;

/** Erases the subject's strings from the webhooks of one window that hold them; returns how many changed. */
export async function eraseWebhooksNamingSubject(
  tx: Executor,
  rule: EraseRule,
  window: { storeId: number; strings: readonly string[]; after: number; upTo: number },
): Promise<number> {
  const { storeId, strings, after, upTo } = window;
  const matcher = emailValueMatcher(strings);
  if (!matcher) return 0;
  const found = await execRows<{ position: string | number }>(
    tx,
    sql`select position from event_log where ${webhooksHolding(storeId, strings, after, upTo)}`,
  );
  if (found.length === 0) return 0;
  // Erasure's locks only for a window with something to rewrite: a window without holds up no projector batch.
  await beginErasure(tx);
  const positions = sql`position in (select (jsonb_array_elements_text(${JSON.stringify(found.map((r) => String(r.position)))}::jsonb))::bigint)`;
  // Locked before rewriteLog reads them: enrichment erases webhooks too (erase-on-append.ts,
  // under these row locks), and a rewrite computed from a version read before the other's commit
  // would write the other's erased strings back.
  await tx.execute(sql`select position from event_log where ${positions} order by position for update`);
  // Only the email values: the subject's other strings are not theirs to find in these webhooks.
  return rewriteLog(tx, { pseudonym: rule.pseudonym, matcher }, positions);
}
