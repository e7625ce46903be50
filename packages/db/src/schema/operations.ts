import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, primaryKey, serial, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { int8, tz } from './columns.ts';

/*
 * The mirror's own bookkeeping. Checkpoints move in the same transaction as the writes they
 * cover, so every stage can be killed at any instant and resume without loss or double effect.
 */

/** Position reached by a log consumer (`projection`, or a rebuild's temporary consumer). */
export const consumerCheckpointsTable = pgTable('consumer_checkpoints', {
  name: text('name').primaryKey(),
  position: int8('position').notNull().default(0),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

/**
 * Enrichment progress per store: each store has its own checkpoint, so a store whose calls fail
 * (no token, 402/403, repeated 5xx) waits without holding back the others.
 */
export const enrichmentStateTable = pgTable('enrichment_state', {
  storeId: int8('store_id').primaryKey(),
  /** Last webhook position handled (fetched, tombstoned, skipped or parked). */
  position: int8('position').notNull().default(0),
  /** `active`, `waiting_for_token`, `blocked` (store-level error), `paused` (Ecwid unavailable), `uninstalled`. */
  status: text('status').notNull().default('active'),
  lastError: text('last_error'),
  /** A blocked or paused store is retried after this time. */
  retryAt: tz('retry_at'),
  attempts: integer('attempts').notNull().default(0),
  /**
   * Ecwid's `eventCreated` of the install/uninstall webhook that set the lifecycle. Ecwid does
   * not deliver in order, so only a lifecycle webhook with a newer event time may change it.
   */
  lifecycleAt: tz('lifecycle_at'),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

/**
 * Stores the mirror may call, with their access tokens sealed (AES-256-GCM under
 * MIRROR_SECRET_KEY, docs/decisions/0008-store-tokens-sealed-at-rest.md). A row exists while the
 * mirror holds a token: an uninstall that Ecwid confirms deletes it.
 */
export const storeTokensTable = pgTable('store_tokens', {
  storeId: int8('store_id').primaryKey(),
  /**
   * A token written before tokens were sealed, in clear; sealed into `token_sealed` and set to
   * null by the first process that holds the key. Never written any more.
   */
  token: text('token'),
  /** The access token sealed with the mirror's key, bound to the store id. */
  tokenSealed: text('token_sealed'),
  /** `sha256:` and 12 hex digits of the token's SHA-256: what listings show. */
  tokenFingerprint: text('token_fingerprint'),
  /** Scopes Ecwid granted with the token (OAuth); null when the token came without them. */
  scopes: text('scopes').array(),
  /** `env` (ECWID_STORES), `cli` (`mirror stores add`), `oauth` (the install flow) or `demo`. */
  source: text('source').notNull().default('cli'),
  addedAt: tz('added_at').notNull().defaultNow(),
  /**
   * Work a new token asks for, done by `mirror project` / `pnpm start`: `backfill` (a store seen
   * for the first time: its history, then a reconcile) or `reconcile` (a reinstall: what changed
   * while the mirror could not look). Null once done.
   */
  catchUp: text('catch_up', { enum: ['backfill', 'reconcile'] }),
});

/**
 * One OAuth install attempt: `GET /oauth/ecwid/install` makes a random `state`, kept here only
 * as a hash; the callback must bring it back before it expires, and uses it up, so a replayed or
 * forged callback stores nothing.
 */
export const oauthStatesTable = pgTable(
  'oauth_states',
  {
    stateHash: text('state_hash').primaryKey(),
    createdAt: tz('created_at').notNull().defaultNow(),
    expiresAt: tz('expires_at').notNull(),
    /** Set (atomically) by the first callback that brings the state back. */
    usedAt: tz('used_at'),
    /**
     * A hash of the code that callback brought, set with `used_at`: a code is exchanged once,
     * whatever state comes with it. Ecwid answers a second exchange by disabling the token the
     * first one gave, so a used code with a fresh state (the install link is public) would
     * block a live store.
     */
    codeHash: text('code_hash'),
    /** The store the callback installed, or why it failed. */
    storeId: int8('store_id'),
    outcome: text('outcome'),
  },
  (t) => [uniqueIndex('oauth_states_code_hash_key').on(t.codeHash)],
);

/**
 * Failed fetches of one entity not yet parked, counted in the database so that a restarted
 * worker, or a second worker, goes on counting instead of starting again at zero. The row goes
 * when the entity is fetched or parked.
 */
export const enrichmentAttemptsTable = pgTable(
  'enrichment_attempts',
  {
    storeId: int8('store_id').notNull(),
    /** The entity's request key (kind and id) as enrichment groups its webhooks. */
    entityKey: text('entity_key').notNull(),
    attempts: integer('attempts').notNull(),
    lastError: text('last_error'),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.storeId, t.entityKey] })],
);

/** Webhook records that kept failing; `mirror parked retry` sends them through again. */
export const parkedEventsTable = pgTable(
  'parked_events',
  {
    id: serial('id').primaryKey(),
    storeId: int8('store_id').notNull(),
    /** The webhook record in event_log. */
    position: int8('position').notNull(),
    entityKind: text('entity_kind'),
    entityId: text('entity_id'),
    error: text('error').notNull(),
    attempts: integer('attempts').notNull(),
    parkedAt: tz('parked_at').notNull().defaultNow(),
    /** Set when retried successfully (the row stays, as history). */
    resolvedAt: tz('resolved_at'),
  },
  (t) => [
    uniqueIndex('parked_events_position_uq').on(t.position),
    index('parked_events_open_idx')
      .on(t.storeId)
      .where(sql`${t.resolvedAt} is null`),
  ],
);

/** Backfill progress per store and entity kind (`event_log.entity_kind`), so a crashed backfill resumes where it stopped. */
export const backfillStateTable = pgTable(
  'backfill_state',
  {
    storeId: int8('store_id').notNull(),
    entity: text('entity').notNull(),
    /** The `updatedFrom` of the run in progress (null: full scan). */
    updatedFrom: tz('updated_from'),
    /** Items of the run in progress already appended (the next offset). */
    offset: integer('offset').notNull().default(0),
    /** The next run's `updatedFrom` and deleted-items `from_date`: the highest Ecwid update time seen, never later than the run's start minus clock skew. */
    watermark: tz('watermark'),
    startedAt: tz('started_at'),
    completedAt: tz('completed_at'),
    details: jsonb('details').$type<Record<string, unknown>>(),
  },
  (t) => [primaryKey({ columns: [t.storeId, t.entity] })],
);

/** Query-API keys. Only a hash is kept; the key itself is shown once, when created. */
export const apiKeysTable = pgTable('api_keys', {
  id: serial('id').primaryKey(),
  storeId: int8('store_id').notNull(),
  /** First characters of the key, to tell keys apart in listings. */
  prefix: text('prefix').notNull(),
  keyHash: text('key_hash').notNull().unique(),
  label: text('label'),
  createdAt: tz('created_at').notNull().defaultNow(),
  revokedAt: tz('revoked_at'),
});

/**
 * One reconcile (or verify) of one entity kind of one store: what it compared, what it found
 * missing, stale or deleted behind the mirror's back, and what it appended to repair it. A run in
 * progress keeps its place in `progress` and renews `heartbeat_at`, so a crashed run is resumed
 * (and a live one is not run twice). Repairs are records in the log, never edits of the tables.
 */
export const reconcileRunsTable = pgTable(
  'reconcile_runs',
  {
    storeId: int8('store_id').notNull(),
    id: bigint('id', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    /** The entity kind (`event_log.entity_kind`). */
    kind: text('kind').notNull(),
    /** `incremental`: changes since the last run's watermark; `full`: the whole id set. */
    mode: text('mode', { enum: ['incremental', 'full'] }).notNull(),
    /** Who asked: `cli`, `schedule` or `api`. */
    trigger: text('trigger').notNull(),
    status: text('status', { enum: ['running', 'done', 'failed'] })
      .notNull()
      .default('running'),
    startedAt: tz('started_at').notNull().defaultNow(),
    heartbeatAt: tz('heartbeat_at').notNull().defaultNow(),
    finishedAt: tz('finished_at'),
    /** Incremental runs: Ecwid changes since this time were compared. */
    since: tz('since'),
    /** The next incremental run's `since`, set when the run is done. */
    watermark: tz('watermark'),
    /** Ecwid REST requests this run made. */
    requests: integer('requests').notNull().default(0),
    /** Entities compared. */
    checked: integer('checked').notNull().default(0),
    /** In Ecwid, not in the mirror. */
    missing: integer('missing').notNull().default(0),
    /** In both, but Ecwid's is newer (or differs, for kinds without an update time). */
    stale: integer('stale').notNull().default(0),
    /** Live in the mirror, gone from Ecwid (confirmed by a read). */
    missedDeletes: integer('missed_deletes').notNull().default(0),
    /** Deleted in the mirror, live in Ecwid: brought back. */
    healedTombstones: integer('healed_tombstones').notNull().default(0),
    /**
     * Differing only in fields Ecwid derives and changes without a webhook (a category's product
     * counts, a product's category flags): taken again, not counted as stale.
     */
    refreshed: integer('refreshed').notNull().default(0),
    /** Snapshot and tombstone records appended. */
    appended: integer('appended').notNull().default(0),
    error: text('error'),
    /** Where a run in progress stands (phase, offset), to resume after a crash. */
    progress: jsonb('progress').$type<Record<string, unknown>>(),
  },
  (t) => [primaryKey({ columns: [t.storeId, t.id] }), index('reconcile_runs_store_kind_idx').on(t.storeId, t.kind, t.startedAt)],
);

/** The ids a full reconcile run has seen in Ecwid so far (to find what is gone), kept until the run ends. */
export const reconcileSeenTable = pgTable(
  'reconcile_seen',
  {
    storeId: int8('store_id').notNull(),
    runId: bigint('run_id', { mode: 'number' }).notNull(),
    entityId: text('entity_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.storeId, t.runId, t.entityId] })],
);

/**
 * A personal-data request: erase or export what the mirror holds about one customer of a store
 * (`customer`) or about every customer of it (`store`). From Ecwid's `*.personalData*Request`
 * webhooks (`requested_position` is the webhook's record), the CLI or the admin API. Its place is
 * kept in `progress`, so a crashed run resumes; once an erasure is done the subject is kept only
 * as keyed hashes (docs/personal-data.md).
 */
export const personalDataRequestsTable = pgTable(
  'personal_data_requests',
  {
    storeId: int8('store_id').notNull(),
    id: bigint('id', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    kind: text('kind', { enum: ['erase', 'export'] }).notNull(),
    scope: text('scope', { enum: ['customer', 'store'] }).notNull(),
    /** `webhook`, `cli` or `api`. */
    source: text('source').notNull(),
    /** The customer id asked about; null once erased. */
    subjectCustomerId: int8('subject_customer_id'),
    /** The email asked about (lower case); null once erased. */
    subjectEmail: text('subject_email'),
    /** Keyed hashes of every customer id and email the subject was found under. */
    subjectHashes: text('subject_hashes')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** The webhook's record in event_log, for requests from Ecwid. */
    requestedPosition: int8('requested_position'),
    /**
     * `received`, `running`, `done` or `failed` (with `reason`); an erasure Ecwid's webhook asked
     * for starts `awaiting_confirmation` (an operator confirms it, or `cancelled` it).
     */
    status: text('status', { enum: ['awaiting_confirmation', 'received', 'running', 'done', 'failed', 'cancelled'] })
      .notNull()
      .default('received'),
    reason: text('reason'),
    /** Where a run in progress stands, to resume after a crash. */
    progress: jsonb('progress').$type<Record<string, unknown>>(),
    /** What it touched: log records, table rows, per table. */
    counts: jsonb('counts').$type<Record<string, number>>(),
    /** Exports: the parts of the document (personal_data_export_parts). */
    exportParts: integer('export_parts'),
    createdAt: tz('created_at').notNull().defaultNow(),
    startedAt: tz('started_at'),
    heartbeatAt: tz('heartbeat_at'),
    finishedAt: tz('finished_at'),
  },
  (t) => [
    primaryKey({ columns: [t.storeId, t.id] }),
    uniqueIndex('personal_data_requests_position_uq').on(t.requestedPosition),
    index('personal_data_requests_status_idx').on(t.status, t.id),
  ],
);

/** An export's document, in parts of bounded size (a store's export can be large). */
export const personalDataExportPartsTable = pgTable(
  'personal_data_export_parts',
  {
    storeId: int8('store_id').notNull(),
    requestId: bigint('request_id', { mode: 'number' }).notNull(),
    part: integer('part').notNull(),
    /** Items of the document: table rows and log records. */
    items: jsonb('items').$type<unknown[]>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.storeId, t.requestId, t.part] })],
);

/**
 * Subjects whose personal data was erased, as keyed hashes (`store` scope: the whole store): a
 * document fetched from Ecwid later for one of them is erased before it is appended.
 */
export const erasedSubjectsTable = pgTable(
  'erased_subjects',
  {
    storeId: int8('store_id').notNull(),
    subjectHash: text('subject_hash').notNull(),
    requestId: bigint('request_id', { mode: 'number' }).notNull(),
    erasedAt: tz('erased_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.storeId, t.subjectHash] })],
);

/** Secrets the mirror makes for itself (the key of subject hashes), made once, on first use. */
export const mirrorKeysTable = pgTable('mirror_keys', {
  name: text('name').primaryKey(),
  secret: text('secret').notNull(),
  createdAt: tz('created_at').notNull().defaultNow(),
});

export type StoreTokenRow = typeof storeTokensTable.$inferSelect;
