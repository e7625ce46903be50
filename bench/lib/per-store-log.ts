import { execRows, type Db, type Executor, type WebhookAppend } from '@mirror/db';
import { sql } from 'drizzle-orm';

/*
 * A prototype of the log keyed by store (docs/decisions/0013-past-one-machine.md), in a schema of
 * its own beside the production tables, for `pnpm bench:stores` to measure against today's global
 * commit-order lock (docs/decisions/0001-commit-ordered-log.md).
 *
 * Each store has its own position sequence, handed out by a counter row in `store_heads`. An
 * append increments the counter of every store it writes (in store order, so two appenders never
 * wait on each other in a cycle), and the row lock that update takes is held to commit: a store's
 * positions commit in order, so a reader checkpointing on (store, position) never skips a late
 * commit, while appends to different stores commit in parallel. The counter is an ordinary row,
 * so a rolled-back append rolls its positions back too: no holes except where a redelivery is
 * left out by the unique index.
 */

/** The prototype's schema. */
export const perStoreSchema = 'bench_per_store';

/** Creates the schema (dropping an earlier one): a counter per store and the log keyed by store. */
export async function createPerStoreLog(db: Db): Promise<void> {
  await db.execute(sql.raw(`drop schema if exists ${perStoreSchema} cascade`));
  await db.execute(sql.raw(`create schema ${perStoreSchema}`));
  await db.execute(
    sql.raw(`create table ${perStoreSchema}.store_heads (
      store_id bigint primary key,
      position bigint not null
    )`),
  );
  // The production event_log's columns, with (store_id, store_position) instead of a global
  // identity: the key and the store's reading order in one index, as Citus requires of a table
  // distributed by store_id (every unique index must contain it).
  await db.execute(
    sql.raw(`create table ${perStoreSchema}.event_log (
      store_id bigint not null,
      store_position bigint not null,
      kind text not null,
      event_id text,
      event_type text not null,
      entity_kind text,
      entity_id text,
      is_known_type boolean not null,
      event_created_at timestamptz,
      received_at timestamptz not null default now(),
      payload jsonb not null,
      primary key (store_id, store_position)
    )`),
  );
  await db.execute(sql.raw(`create unique index event_log_store_event_uq on ${perStoreSchema}.event_log (store_id, event_id)`));
  await db.execute(
    sql.raw(`create index event_log_store_entity_idx on ${perStoreSchema}.event_log (store_id, entity_kind, entity_id, store_position)`),
  );
  // Same storage as production (migration 0005), where the server has lz4.
  await db.execute(
    sql.raw(`do $$ begin
      alter table ${perStoreSchema}.event_log alter column payload set compression lz4;
    exception when feature_not_supported then null; end $$`),
  );
}

/*
 * One statement per group, like appendWebhooks: the groups' rows as one JSON parameter. The
 * upsert of the heads runs first (a data-modifying CTE runs once, before the insert that joins
 * its result), taking each store's row lock in store order; the insert numbers each store's rows
 * after the head it found.
 */
const appendText = (headKey: string) => `with input as (
    select r.*, row_number() over (partition by ${headKey} order by r.store_id, r.event_id) as n,
           count(*) over (partition by ${headKey}) as c
    from json_to_recordset($1::text::json) as r(
      store_id bigint, event_id text, event_type text, entity_kind text, entity_id text,
      is_known_type boolean, event_created bigint, body text)
  ), counts as (
    select ${headKey} as head, max(c) as c from input group by 1
  ), heads as (
    insert into ${perStoreSchema}.store_heads as h (store_id, position)
    select head, c from counts order by head
    on conflict (store_id) do update set position = h.position + excluded.position
    returning h.store_id as head, h.position
  )
  insert into ${perStoreSchema}.event_log
    (store_id, store_position, kind, event_id, event_type, entity_kind, entity_id, is_known_type, event_created_at, payload)
  select i.store_id, h.position - i.c + i.n, 'webhook', i.event_id, i.event_type, i.entity_kind, i.entity_id,
         i.is_known_type, to_timestamp(i.event_created), i.body::jsonb
  from input i join heads h on h.head = ${headKey.replace('store_id', 'i.store_id')}
  on conflict do nothing
  returning store_id, store_position`;

type PostgresJsClient = { unsafe(text: string, params: unknown[], options: { prepare: boolean }): Promise<unknown[]> };

/**
 * A fixed text as a prepared statement on postgres.js (as production's group commit runs its
 * insert); inside a transaction (tests hold one open), through drizzle with bound parameters.
 */
async function execPrepared<T>(db: Executor, text: string, params: unknown[]): Promise<T[]> {
  const client = (db as unknown as { $client?: PostgresJsClient }).$client;
  if (typeof client?.unsafe === 'function') return (await client.unsafe(text, params, { prepare: true })) as T[];
  const chunks = text.split(/\$(\d+)/).map((part, i) => (i % 2 === 0 ? sql.raw(part) : sql.param(params[Number(part) - 1])));
  return execRows<T>(db, sql.join(chunks));
}

const perStoreText = appendText('store_id');
// The same statement with one head for every store: the global lock again, in the prototype's
// own SQL, so the bench can tell the lock's cost from the rest of the statement's.
const oneHeadText = appendText('0::bigint');

/**
 * Appends webhooks to the prototype's log in one statement; returns how many were inserted.
 * `oneHead`: every store draws from one counter (positions global, one lock for all).
 */
export async function appendPerStore(db: Executor, rows: readonly WebhookAppend[], options: { oneHead?: boolean } = {}): Promise<number> {
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
  return (await execPrepared(db, options.oneHead ? oneHeadText : perStoreText, [param])).length;
}

/** A store's records after its checkpoint, in its own commit order. */
export async function readPerStore(db: Executor, storeId: number, after: number, limit: number): Promise<number[]> {
  const rows = await execPrepared<{ store_position: string | number }>(
    db,
    `select store_position from ${perStoreSchema}.event_log where store_id = $1 and store_position > $2
     order by store_position limit $3`,
    [storeId, after, limit],
  );
  return rows.map((r) => Number(r.store_position));
}
