import { describeError } from '@mirror/core';
import { execPrepared, type Db } from '../create-db.ts';
import { sqlState } from '../sql-state.ts';

/** One validated webhook, ready to be appended. */
export type WebhookAppend = {
  storeId: number;
  eventId: string;
  eventType: string;
  entityKind: string | null;
  entityId: string;
  isKnownType: boolean;
  /** Ecwid's `eventCreated`, UNIX seconds. */
  eventCreated: number;
  /** The body exactly as received; Postgres parses it into jsonb, keeping every digit. */
  body: string;
};

export type AppendOutcome =
  | { status: 'inserted'; position: number }
  | { status: 'duplicate' }
  /** Postgres refused this row's data (the rest of its batch is unaffected). */
  | { status: 'rejected'; reason: string };

type Returned = { position: string | number; event_id: string };

/**
 * Appends webhooks in one statement (one transaction), ignoring an eventId the log already has
 * (a redelivery, or a replay under another store), and returns once they are durable: the
 * statement commits synchronously, so its commit returns only after the WAL holding the rows is
 * flushed. Outcomes come back in input order. If Postgres rejects the batch for one row's data,
 * rows are retried one by one so only that row is rejected, whatever the size of its group (a
 * lone webhook the database cannot store is rejected too: rethrown, it would be a 503 that
 * Ecwid retries for a day); connection errors throw.
 *
 * This is ingest's group commit (docs/decisions/0019-ingest-commits-synchronously.md): one round
 * trip per group. The log's commit-order lock is held through the flush, so groups commit one
 * after another, and the webhooks that arrive meanwhile make the next group fuller.
 */
export async function appendWebhooks(db: Db, rows: readonly WebhookAppend[]): Promise<AppendOutcome[]> {
  const attempt = await insertOrSplit(db, rows, insertDurableText);
  if (attempt.split) {
    // One row's data failed the group: each row went on its own, committed without waiting for
    // the disk (a flush per row would hold the whole group up), so wait for the flush once.
    await waitForCommittedWebhooks(db);
    return attempt.outcomes;
  }
  const { outcomes } = attempt;
  // A group that inserted nothing wrote no WAL, so its commit flushed nothing. A duplicate is
  // answered 200 like an insert, and the row it found may have been committed without waiting
  // for the disk by some other writer (commitWebhooks; an older ingest during a rolling
  // deploy): wait for the flush then. When the group inserted a row, its commit's flush already
  // covers every commit it could see.
  if (outcomes.some((o) => o.status === 'duplicate') && !outcomes.some((o) => o.status === 'inserted')) {
    await waitForCommittedWebhooks(db);
  }
  return outcomes;
}

/**
 * appendWebhooks without the wait for the disk: the rows are committed and visible when this
 * returns, but NOT yet durable. Nothing may be acknowledged before a later
 * `waitForCommittedWebhooks` on the same database returns. Ingest committed this way until
 * decision 0019; bench/ingest-statements.bench.ts still measures it against appendWebhooks.
 */
export async function commitWebhooks(db: Db, rows: readonly WebhookAppend[]): Promise<AppendOutcome[]> {
  return (await insertOrSplit(db, rows, insertAsynchronousText)).outcomes;
}

/**
 * The group in one statement (`text`); if Postgres refuses one row's data, each row on its own,
 * committed without waiting for the disk (`split`), so only the bad ones are rejected.
 */
async function insertOrSplit(db: Db, rows: readonly WebhookAppend[], text: string): Promise<{ outcomes: AppendOutcome[]; split: boolean }> {
  if (rows.length === 0) return { outcomes: [], split: false };
  try {
    return { outcomes: await insertBatch(db, rows, text), split: false };
  } catch (err) {
    if (!isDataError(err)) throw err;
    if (rows.length === 1) return { outcomes: [rejected(err)], split: false };
  }
  const outcomes: AppendOutcome[] = [];
  for (const row of rows) {
    try {
      outcomes.push(...(await insertBatch(db, [row], insertAsynchronousText)));
    } catch (err) {
      if (!isDataError(err)) throw err;
      outcomes.push(rejected(err));
    }
  }
  return { outcomes, split: true };
}

function rejected(err: unknown): AppendOutcome {
  return { status: 'rejected', reason: describeError(err, { innermost: true, withName: false }) };
}

/** Returns once everything `commitWebhooks` committed before the call is durable (see below). */
export async function waitForCommittedWebhooks(db: Db): Promise<void> {
  await execPrepared(db, waitForFlushText, []);
}

// set_config(…, true) in the statement lasts until the end of its own transaction, and the
// commit reads the setting before it is undone; nothing leaks to the pooled connection.
const insertStatement = (commitSetting: string) => `insert into event_log
    (kind, store_id, event_id, event_type, entity_kind, entity_id, is_known_type, event_created_at, payload)
  select 'webhook', r.store_id, r.event_id, r.event_type, r.entity_kind, r.entity_id,
         r.is_known_type, to_timestamp(r.event_created), r.body::jsonb
  from json_to_recordset($1::text::json) as r(
    store_id bigint, event_id text, event_type text, entity_kind text, entity_id text,
    is_known_type boolean, event_created bigint, body text)
  where set_config('synchronous_commit', ${commitSetting}, true) is not null
  on conflict do nothing
  returning position, event_id`;

// Durable whatever the server's default: a server or role configured with synchronous_commit
// off would otherwise commit without the flush, and ingest would answer 200 for webhooks a
// crash can take back. `local` waits for the local flush only; any stronger setting (on,
// remote_write, remote_apply: waiting for standbys too) is kept as configured.
const durableCommit = "case when current_setting('synchronous_commit') = 'off' then 'local' else current_setting('synchronous_commit') end";

const insertDurableText = insertStatement(durableCommit);

const insertAsynchronousText = insertStatement("'off'");

// The flush-wait, shared by waitForCommittedWebhooks and waitForDurableLog: a one-statement
// transaction that writes a WAL record of its own (a logical-decoding message, which any
// wal_level accepts and nothing stores). A transaction that writes WAL commits synchronously
// (here at least `local`, whatever the server's default: durableCommit) and returns only once
// the WAL is flushed past its own commit record, hence past every commit before it, such as a
// commitWebhooks group's. (A transaction that only takes an xid, e.g. `select
// pg_current_xact_id()`, writes no record before its commit and does NOT wait for the flush.)
// Rows committed that way are visible to other sessions for that moment before they are
// durable; whatever a crash would lose with them is later in the WAL and lost with them
// (docs/decisions/0011-ingest-and-api-speed.md).
const flushWait = `set_config('synchronous_commit', ${durableCommit}, true) || pg_logical_emit_message(true, 'ecwid-mirror', 'flush')::text`;

const waitForFlushText = `select ${flushWait}`;

/**
 * Returns once every log record this session could see is durable. A record committed without
 * waiting for the flush (commitWebhooks above; ingest did so until decision 0019) is visible a
 * moment before it is durable, so a reader outside the database that hands out positions (the
 * API's change feed and history) calls this before answering: a crash can then no longer take
 * back a record it has shown, and with it hand its position to another.
 */
export async function waitForDurableLog(db: Db): Promise<void> {
  // A standby can assign no xid, and needs none: it is sent only WAL the primary has flushed.
  await execPrepared(db, `select case when pg_is_in_recovery() then null else ${flushWait} end`, []);
}

async function insertBatch(db: Db, rows: readonly WebhookAppend[], text: string): Promise<AppendOutcome[]> {
  // One JSON parameter for the whole batch: a fixed statement text whatever the batch size,
  // so it is planned once, and identical on postgres.js and PGlite.
  const param = JSON.stringify(
    rows.map((r) => ({
      store_id: r.storeId,
      event_id: r.eventId,
      event_type: r.eventType,
      entity_kind: r.entityKind,
      entity_id: r.entityId,
      is_known_type: r.isKnownType,
      event_created: r.eventCreated,
      body: r.body,
    })),
  );
  const returned = await execPrepared<Returned>(db, text, [param]);
  // eventId alone is unique in the log (any store), so it alone names a returned row.
  const positions = new Map(returned.map((r) => [r.event_id, Number(r.position)]));
  return rows.map((row) => {
    const position = positions.get(row.eventId);
    // The same eventId twice in one batch: the first copy is the insert, later ones duplicates.
    if (position === undefined) return { status: 'duplicate' };
    positions.delete(row.eventId);
    return { status: 'inserted', position };
  });
}

/** SQLSTATE classes 22 (data exception) and 54 (e.g. nesting too deep): the row, not the database. */
function isDataError(err: unknown): boolean {
  const code = sqlState(err);
  return code !== undefined && (code.startsWith('22') || code.startsWith('54'));
}
