import type { Db } from '@mirror/db';
import { fillPlaceholders } from 'drizzle-orm';
import pLimit from 'p-limit';

/** A statement's rows as arrays: parsed values, or (raw) each field's bytes as Postgres sent them. */
type Statement = { values(): Promise<unknown[][]>; raw(): Promise<unknown[][]> };
type PostgresJs = { unsafe(text: string, params: unknown[], options: { prepare: boolean }): Statement };

/** The postgres.js client under a drizzle Db, or undefined (PGlite, a transaction). */
export function postgresJsClient(db: Db): PostgresJs | undefined {
  const client = (db as unknown as { $client?: unknown }).$client;
  return typeof client === 'function' && 'unsafe' in client ? (client as unknown as PostgresJs) : undefined;
}

/**
 * Runs a built drizzle query on postgres.js as a prepared statement and returns its rows as
 * arrays of Buffers, each field's bytes as Postgres sent them (text passed on unread).
 */
export function rawQuery(client: PostgresJs, query: { sql: string; params: unknown[] }) {
  return (values: Record<string, unknown>): Promise<unknown[][]> =>
    client.unsafe(query.sql, fillPlaceholders(query.params, values), { prepare: true }).raw();
}

/**
 * Get-by-id lookups issued in the same turn of the event loop, for the same store, become one
 * statement (`id = any($ids)`), DataLoader-style: under concurrent load that is one Bind/Execute
 * round trip, one socket write and one executor start in Postgres for a handful of requests
 * instead of one each. A lone request is not delayed: the batch goes out at setImmediate, the
 * same moment postgres.js would have flushed its own write. Every request still reads the
 * database; nothing is cached between batches.
 *
 * While `maxInFlight` statements run, new lookups wait and go out together as soon as one returns
 * (one statement per store and `maxBatch` ids, as always). Unbounded, every turn sent its own small batch to the next pool
 * connection, so up to four backends woke for a few rows each and competed with the server and
 * its clients for two cores (bench:api: 4.3–4.8k req/s, p99 21–25 ms); two in flight keep Postgres
 * busy while the server prints the previous answers, with larger batches (5.5–5.8k req/s, p99 15 ms).
 */
export function createBatchedLookup(options: {
  /** `$1` store id, `$2` the ids as a Postgres array literal. */
  run: (storeId: number, ids: string) => Promise<unknown[][]>;
  /** Position of the id column in a selected row. */
  idIndex: number;
  /** The answer for a row: JSON text, or its bytes. */
  print: (values: unknown[]) => string | Uint8Array;
  maxBatch?: number;
  /** Statements running before new lookups wait for one to return (default 2). */
  maxInFlight?: number;
}): (storeId: number, id: string | number) => Promise<string | Uint8Array | undefined> {
  const { run, idIndex, print, maxBatch = 100, maxInFlight = 2 } = options;
  let inFlight = 0;
  /** A flush found maxInFlight statements running: the next one to return flushes. */
  let waiting = false;
  type Waiter = { resolve: (json: string | Uint8Array | undefined) => void; reject: (err: unknown) => void };
  let pending = new Map<number, Map<string, Waiter[]>>();
  let scheduled = false;

  const runBatch = async (storeId: number, batch: Map<string, Waiter[]>) => {
    inFlight++;
    try {
      const rows = await run(storeId, arrayLiteral([...batch.keys()]));
      const byId = new Map<string, unknown[]>();
      for (const row of rows) {
        const key = String(row[idIndex]);
        if (!byId.has(key)) byId.set(key, row);
      }
      for (const [id, waiters] of batch) {
        const row = byId.get(id);
        const json = row && print(row);
        for (const w of waiters) w.resolve(json);
      }
    } catch (err) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
    } finally {
      inFlight--;
      if (waiting && inFlight < maxInFlight) {
        waiting = false;
        flush();
      }
    }
  };

  const flush = () => {
    scheduled = false;
    if (inFlight >= maxInFlight) {
      waiting = true;
      return;
    }
    const batches = pending;
    pending = new Map();
    for (const [storeId, waitersById] of batches) {
      let chunk = new Map<string, Waiter[]>();
      for (const [id, waiters] of waitersById) {
        chunk.set(id, waiters);
        if (chunk.size >= maxBatch) {
          void runBatch(storeId, chunk);
          chunk = new Map();
        }
      }
      if (chunk.size > 0) void runBatch(storeId, chunk);
    }
  };

  return (storeId, id) =>
    new Promise((resolve, reject) => {
      let byId = pending.get(storeId);
      if (!byId) pending.set(storeId, (byId = new Map()));
      const key = String(id);
      const waiters = byId.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else byId.set(key, [{ resolve, reject }]);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}

/** `{"a","b\"c"}`: a Postgres array literal of the values, each quoted and escaped. */
export function arrayLiteral(values: string[]): string {
  return `{${values.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}

/**
 * List statements a pool runs at once; the rest wait their turn in the server, in arrival order.
 * A page of 100 orders is ~130 kB that Postgres reads and sends and the server copies to the
 * client. Unlimited, postgres.js pipelines each statement past the idle connections onto the
 * busy ones in turn: a page waits behind whatever its connection drew (one queue per connection
 * instead of one for all), and all the pool's backends compete with the server for the cores.
 * Fewer in flight costs CPU instead: a backend sleeps between pages and each page must wake it.
 * bench:api (32 clients, pool 10, alternated; decision 0024): at 6, the pages/s of unlimited
 * with a p99 10–20% lower and a p99.9 about half; at 4, a p99 a third lower but 8–12% fewer
 * pages; at 8, as unlimited.
 */
export const listStatementsInFlight = 6;

const gated = new WeakMap<object, PostgresJs>();

/** The pool's client for list pages: at most `listStatementsInFlight` of them run at once, first come first served. */
export function listClient(client: PostgresJs): PostgresJs {
  let found = gated.get(client);
  if (!found) {
    const limit = pLimit(listStatementsInFlight);
    found = {
      unsafe: (text, params, options) => ({
        values: () => limit(() => client.unsafe(text, params, options).values()),
        raw: () => limit(() => client.unsafe(text, params, options).raw()),
      }),
    };
    gated.set(client, found);
  }
  return found;
}
