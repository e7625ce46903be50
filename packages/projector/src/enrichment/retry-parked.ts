import { describeError, type Logger, type SecretBox } from '@mirror/core';
import { eventLogTable, parkedEventsTable, type Db } from '@mirror/db';
import { readStoreTokens } from '../stores/store-tokens.ts';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { appendRecords } from './append-records.ts';
import { buildRecord } from './build-record.ts';
import type { ClientFactory } from './create-client-factory.ts';

import { fetchEntities, requestKey, type FetchOutcome } from './fetch-entities.ts';
import { planWork } from './plan-work.ts';

export type RetryParkedOptions = {
  db: Db;
  clientFor: ClientFactory;
  /** Opens the sealed tokens (MIRROR_SECRET_KEY). */
  box: SecretBox;
  log: Logger;
  /** One parked event; all open ones when omitted. */
  id?: number;
  now?: () => Date;
};

export type RetryParkedResult = {
  id: number;
  storeId: number;
  position: number;
  outcome: 'resolved' | 'failed' | 'already_resolved';
  error?: string;
};

/**
 * Sends parked webhooks through again: re-fetches each one's entity, appends the snapshot or
 * tombstone (caused_by = the parked webhook) and marks the row resolved in the same
 * transaction. A failure keeps the row open with the new error and one more attempt.
 */
export async function retryParked(options: RetryParkedOptions): Promise<RetryParkedResult[]> {
  const { db, clientFor, log, now = () => new Date() } = options;
  const filters = [isNull(parkedEventsTable.resolvedAt)];
  if (options.id !== undefined) filters.push(eq(parkedEventsTable.id, options.id));
  const parked = await db
    .select()
    .from(parkedEventsTable)
    .where(and(...filters))
    .orderBy(asc(parkedEventsTable.id));
  const tokens = await readStoreTokens(db, options.box);
  const results: RetryParkedResult[] = [];

  for (const row of parked) {
    const base = { id: row.id, storeId: row.storeId, position: row.position };
    const fail = async (error: string): Promise<void> => {
      await db
        .update(parkedEventsTable)
        .set({ error, attempts: sql`${parkedEventsTable.attempts} + 1` })
        .where(eq(parkedEventsTable.id, row.id));
      results.push({ ...base, outcome: 'failed', error });
    };
    const [webhook] = await db.select().from(eventLogTable).where(eq(eventLogTable.position, row.position));
    if (!webhook) {
      await fail('the parked webhook is not in the log');
      continue;
    }
    const token = tokens.get(row.storeId);
    if (token === undefined) {
      await fail('no access token in store_tokens');
      continue;
    }
    // Lifecycle is ignored here: a person asked for this retry explicitly. One webhook can
    // concern several entities (application.installed: profile and subscription) while
    // parked_events holds one row per webhook, so every entity it asks for is fetched again.
    // Its derived `store` record was appended when it was parked and is not repeated (appended
    // now, it could undo a later uninstall).
    const plan = planWork(row.storeId, [webhook], { lifecycle: 'active', at: null });
    const groups = plan.groups.filter((g) => g.action !== 'derived');
    const fetchGroups = groups.filter((g) => g.action === 'fetch');
    if (groups.length === 0) {
      await fail('nothing to fetch for this webhook');
      continue;
    }
    let outcomes = new Map<string, FetchOutcome>();
    try {
      if (fetchGroups.length > 0) outcomes = await fetchEntities(clientFor(row.storeId, token), row.storeId, fetchGroups);
    } catch (err) {
      await fail(describeError(err));
      continue;
    }
    const failed = fetchGroups.map((g) => outcomes.get(requestKey(g))).find((o) => o?.status === 'failed');
    if (failed?.status === 'failed') {
      await fail(describeError(failed.error));
      continue;
    }
    const records = groups.flatMap(
      (g) => buildRecord(row.storeId, g, g.action === 'fetch' ? outcomes.get(requestKey(g)) : undefined, [row.position], now()) ?? [],
    );
    const resolved = await db.transaction(async (tx) => {
      const marked = await tx
        .update(parkedEventsTable)
        .set({ resolvedAt: now() })
        .where(and(eq(parkedEventsTable.id, row.id), isNull(parkedEventsTable.resolvedAt)))
        .returning({ id: parkedEventsTable.id });
      // Another retry got there first: append nothing.
      if (marked.length === 0) return false;
      await appendRecords(tx, records);
      return true;
    });
    results.push({ ...base, outcome: resolved ? 'resolved' : 'already_resolved' });
    log.info({ parkedId: row.id, storeId: row.storeId, resolved }, 'parked webhook retried');
  }
  return results;
}
