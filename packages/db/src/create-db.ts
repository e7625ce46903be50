import { mkdirSync } from 'node:fs';
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect, type PgDatabase, type PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { migrationsFolder, migrationCount } from './migrations.ts';
import * as schema from './schema/index.ts';

export type Schema = typeof schema;

/** A drizzle database over either driver; code above this layer never knows which. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

/** The transaction drizzle hands to `db.transaction(fn)`. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** A database or a transaction: what code that works either inside or outside one takes. */
export type Executor = Db | Tx;

export type DbKind = 'postgres' | 'pglite';

export type Database = {
  db: Db;
  kind: DbKind;
  /** Applies pending migrations; safe when several processes start at once. */
  migrate(): Promise<void>;
  /** Resolves when the database answers and every migration is applied. */
  checkReady(): Promise<{ ready: true } | { ready: false; reason: string }>;
  close(): Promise<void>;
  /**
   * LISTENs on `channel` on a connection of its own (reconnected when lost: `onListen` runs at
   * every (re)connection); resolves, once listening, to a function that stops. Absent where no
   * notification can reach this process: the embedded PGlite served over a socket (its one
   * backend is shared by every client, see src/embedded/).
   */
  listen?: (channel: string, onNotify: (payload: string) => void, onListen: () => void) => Promise<() => Promise<void>>;
  /**
   * A client of its own with one connection, for what lives in a Postgres session (advisory
   * locks): `onClose` runs when that connection is lost (its session, and all it held, with it);
   * the next statement opens a new one. Only on Postgres: PGlite has one session for everyone.
   */
  openSession?: (onClose: () => void) => Session;
  /**
   * A database of its own with one connection, for a loop that runs one transaction at a time
   * and keeps its statements' plans (the live projection): on the shared pool each of its
   * connections would plan every statement again, and the projection's take tens of ms each to
   * plan on a busy machine (decision 0023). `name` is appended to the connection's
   * application_name, so operators see it in pg_stat_activity. Only on Postgres: the embedded
   * PGlite runs one backend for everyone, where a connection more only holds more plans.
   */
  openDedicated?: (name: string) => DedicatedDb;
};

/** A database with one connection of its own (Database.openDedicated). */
export type DedicatedDb = { db: Db; close(): Promise<void> };

/** One Postgres session at a time (Database.openSession). */
export type Session = {
  /** Runs `text` prepared on the session's connection: only for texts from a small fixed set. */
  unsafe(text: string, params: unknown[]): Promise<unknown[]>;
  end(): Promise<void>;
};

export type CreateDbOptions = {
  /** A postgres:// URL. Without it the embedded PGlite is used. */
  url?: string | undefined;
  /** PGlite data directory (`memory://` for a throwaway one). */
  dataDir?: string | undefined;
  /** Pool size for postgres.js. */
  maxConnections?: number | undefined;
  /** Seconds to wait for a connection before failing (so callers can answer 503 quickly). */
  connectTimeoutSeconds?: number | undefined;
  /**
   * `url` serves an embedded PGlite (claimEmbedded): one backend behind a socket that gives each
   * connection exclusive turns. The kind is then `pglite`, and migrations are applied in one
   * transaction (advisory locks cannot exclude anyone in a single session).
   */
  embedded?: boolean | undefined;
};

// Both drivers' migrators record applied migrations here (drizzle's default).
const migrationsTable = sql`drizzle.__drizzle_migrations`;
const migrateLockKey = 7262431000424243;
/** What the mirror's connections call themselves in pg_stat_activity. */
const applicationName = 'ecwid-mirror';

/**
 * Opens the mirror's database: postgres.js when a URL is given (a Postgres, or the embedded
 * PGlite served by claimEmbedded with `embedded: true`), else an in-process PGlite in `dataDir`
 * (`memory://` in tests). A data folder that other processes may open too is served through
 * claimEmbedded, never opened in-process: see src/embedded/.
 */
export async function createDb(options: CreateDbOptions = {}): Promise<Database> {
  return options.url ? openPostgres(options.url, options) : openPglite(options.dataDir ?? './.mirror/pgdata');
}

/** A database over a postgres.js client the caller opened and closes (a test's or a benchmark's own connection). */
export function databaseOver(client: postgres.Sql): Db {
  return drizzlePostgres(client, { schema });
}

/** Connections in a server process's pool (the API's, the worker's), unless told otherwise. */
export const defaultPoolSize = 10;

/**
 * Settings every connection starts with, whatever the database or role prefers. postgres.js reads
 * a time from its text, and a database set to `DateStyle = 'SQL, DMY'` printed 2 January as
 * `02/01/2024`, read back as 1 February; times kept as text (a keyset cursor's sort value) are
 * ISO and in UTC, as the API prints them.
 */
const sessionSettings = { DateStyle: 'ISO, MDY', TimeZone: 'UTC' };

function openPostgres(url: string, options: CreateDbOptions): Database {
  const client = postgres(url, {
    // At least two: migrate() holds its lock on one connection while migrating on another. The
    // embedded server has one backend, which its clients take turns on, so more connections to
    // it run nothing in parallel; and each connection prepares its own copy of every statement
    // in that one backend, where their plans stay for good (8 connections held 226 plans, 48 MB
    // of PGlite's memory, for 36 distinct statements).
    max: Math.max(2, options.maxConnections ?? (options.embedded ? 2 : defaultPoolSize)),
    // The embedded server answers a new connection in turn, after any transaction in progress.
    connect_timeout: options.connectTimeoutSeconds ?? (options.embedded ? 30 : 5),
    onnotice: () => {},
    connection: { application_name: applicationName, ...sessionSettings },
  });
  const db = drizzlePostgres(client, { schema });
  // A client of one connection beside the pool (openSession, openDedicated).
  const oneConnection = (extra: postgres.Options<Record<string, postgres.PostgresType>>, name = applicationName) =>
    postgres(url, {
      max: 1,
      connect_timeout: options.connectTimeoutSeconds ?? 5,
      onnotice: () => {},
      connection: { application_name: name, ...sessionSettings },
      ...extra,
    });
  if (options.embedded) {
    return {
      db,
      kind: 'pglite',
      async migrate() {
        // The server runs one transaction at a time, so reading what is applied and applying the
        // rest in one transaction cannot race another migrator. drizzle's migrator opens its own
        // transaction: inside this one, a savepoint.
        await client.begin(async (tx) => {
          const scoped = Object.assign(tx, { begin: (fn: (sql: typeof tx) => unknown) => tx.savepoint(fn), options: client.options });
          await migratePostgres(drizzlePostgres(scoped as unknown as typeof client, { schema }), { migrationsFolder });
        });
      },
      checkReady: () => checkReady(db),
      close: () => client.end({ timeout: 5 }),
    };
  }
  return {
    db,
    kind: 'postgres',
    async migrate() {
      // drizzle's migrator has no lock of its own; two processes starting together would race.
      const conn = await client.reserve();
      try {
        await conn`select pg_advisory_lock(${migrateLockKey})`;
        await migratePostgres(db, { migrationsFolder });
      } finally {
        await conn`select pg_advisory_unlock(${migrateLockKey})`.catch(() => {});
        conn.release();
      }
    },
    checkReady: () => checkReady(db),
    close: () => client.end({ timeout: 5 }),
    async listen(channel, onNotify, onListen) {
      const { unlisten } = await client.listen(channel, onNotify, onListen);
      return unlisten;
    },
    openSession(onClose) {
      // Not a connection reserved from the pool: postgres.js 3.4 writes a reserved connection's
      // next statement to a socket already closed and throws outside any promise, and it never
      // says that connection closed. Its own client reconnects and reports the close.
      // Closing it would end the session and whatever it holds: it is never renewed.
      const session = oneConnection({ max_lifetime: null, onclose: () => onClose() });
      return {
        // Prepared (its texts are few and fixed): an unprepared statement with parameters costs
        // postgres.js two round trips, a describe and then the execution.
        unsafe: (text, params) => session.unsafe(text, params as never[], { prepare: true }),
        end: () => session.end({ timeout: 5 }),
      };
    },
    openDedicated(name) {
      // Lost, it reconnects at the next statement (and plans again, once).
      const own = oneConnection({}, `${applicationName} ${name}`);
      return { db: drizzlePostgres(own, { schema }), close: () => own.end({ timeout: 5 }) };
    },
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  // Loaded only here: PGlite's WebAssembly build costs a process ~40 MB of memory just to import,
  // which every process on Postgres (the CLI, a rebuild, the servers) would otherwise carry.
  const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
    import('drizzle-orm/pglite/migrator'),
  ]);
  const client = await PGlite.create(dataDir);
  const db = drizzlePglite(client, { schema });
  return {
    db,
    kind: 'pglite',
    // One connection in one process: nothing to race with.
    migrate: () => migratePglite(db, { migrationsFolder }),
    checkReady: () => checkReady(db),
    close: () => client.close(),
    async listen(channel, onNotify, onListen) {
      const unlisten = await client.listen(channel, onNotify);
      onListen();
      return unlisten;
    },
  };
}

async function checkReady(db: Db): Promise<{ ready: true } | { ready: false; reason: string }> {
  let applied: number;
  try {
    const rows = await execRows<{ n: number }>(db, sql`select count(*)::int as n from ${migrationsTable}`);
    applied = rows[0]?.n ?? 0;
  } catch (err) {
    const code = (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;
    if (code === '42P01' || code === '3F000') return { ready: false, reason: 'migrations have not been run' };
    return { ready: false, reason: 'database unreachable' };
  }
  const expected = migrationCount();
  if (applied < expected) {
    return { ready: false, reason: `${expected - applied} migration(s) pending` };
  }
  return { ready: true };
}

type PostgresJsClient = { unsafe(text: string, params: unknown[], options: { prepare?: boolean; simple: boolean }): Promise<unknown[]> };

/** The driver's client behind a drizzle database or transaction, when it is postgres.js's. */
export function postgresJsClientOf(db: Executor): PostgresJsClient | undefined {
  const client = driverClientOf(db);
  return typeof client === 'function' && 'unsafe' in client ? (client as unknown as PostgresJsClient) : undefined;
}

// A database carries its client as `$client`; a transaction, on its session.
const driverClientOf = (db: Executor): unknown =>
  (db as unknown as { $client?: unknown }).$client ?? (db as unknown as { session?: { client?: unknown } }).session?.client;
type QueryClient = { query<T>(text: string, params: unknown[]): Promise<{ rows: T[] }> };

/**
 * Runs one fixed SQL text as a prepared statement, planned once per connection: on a hot path
 * (ingest's group commit) parsing and planning cost as much as the insert. On a transaction too
 * (drizzle's transaction object carries its driver's client): on postgres.js an unprepared
 * statement with parameters costs two round trips (describe, then execute) and waits for every
 * statement sent before it, where a prepared one is one round trip and pipelines behind them.
 * Only for texts from a small fixed set: each text stays prepared on each connection. Falls back
 * to a plain query on an unknown client.
 */
export async function execPrepared<T>(db: Executor, text: string, params: unknown[]): Promise<T[]> {
  const postgresJs = postgresJsClientOf(db);
  if (postgresJs) {
    // `simple: false`: postgres.js sends a statement without parameters as a simple query, parsed
    // and planned at every call, unless told otherwise.
    return (await postgresJs.unsafe(text, params, { prepare: true, simple: false })) as T[];
  }
  const client = driverClientOf(db);
  // PGlite, or its transaction: one backend in this process, no round trip to save.
  if (typeof client === 'object' && client !== null && typeof (client as QueryClient).query === 'function') {
    return (await (client as QueryClient).query<T>(text, params)).rows;
  }
  // `$n` placeholders become drizzle parameters: still bound, never spliced into the text.
  const chunks = text.split(/\$(\d+)/).map((part, i) => (i % 2 === 0 ? sql.raw(part) : sql.param(params[Number(part) - 1])));
  return execRows<T>(db, sql.join(chunks));
}

const dialect = new PgDialect();

/**
 * execPrepared for a query built with drizzle's `sql` template: its text, with `$n` placeholders,
 * is what gets prepared, so only for templates whose text is fixed (the same raw parts and the
 * same number of parameters on every call; never a list spliced in whose length varies).
 */
export async function execPreparedSql<T>(db: Executor, query: SQL): Promise<T[]> {
  const { sql: text, params } = dialect.sqlToQuery(query);
  return execPrepared<T>(db, text, params);
}

/** Runs raw SQL and returns its rows, whichever driver is underneath. */
export async function execRows<T>(db: Executor, query: ReturnType<typeof sql>): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
