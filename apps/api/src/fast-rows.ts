import type { Db } from '@mirror/db';
import { Column, fillPlaceholders, is, SQL } from 'drizzle-orm';

type Decoder = { mapFromDriverValue(value: unknown): unknown };
type PostgresJs = { unsafe(text: string, params: unknown[], options: { prepare: boolean }): { values(): Promise<unknown[][]> } };

/** The postgres.js client under a drizzle Db, or undefined (PGlite, a transaction). */
export function postgresJsClient(db: Db): PostgresJs | undefined {
  const client = (db as unknown as { $client?: unknown }).$client;
  return typeof client === 'function' && 'unsafe' in client ? (client as unknown as PostgresJs) : undefined;
}

/**
 * Prints a selected row, read as an array in the selection's order (postgres.js `.values()`),
 * straight to JSON text: each value goes through its column's own decoder (as drizzle's row
 * mapping does), times print as ISO 8601, and `jsonKeys` (JSON already printed by Postgres) are
 * spliced in as they are. Same keys, order and values as toJson over drizzle's rows, without
 * drizzle's per-field type checks or the intermediate objects.
 */
export function createRowPrinter(selection: Record<string, unknown>, jsonKeys: ReadonlySet<string>, omit: ReadonlySet<string>): (values: unknown[]) => string {
  const fields = Object.entries(selection).map(([key, field]) => ({
    prefix: `${JSON.stringify(key)}:`,
    omit: omit.has(key),
    json: jsonKeys.has(key),
    decoder: decoderOf(field),
  }));
  return (values) => {
    let out = '';
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!;
      if (field.omit) continue;
      const raw = values[i];
      out += out === '' ? `{${field.prefix}` : `,${field.prefix}`;
      if (raw === null || raw === undefined) {
        out += 'null';
        continue;
      }
      if (field.json && typeof raw === 'string') {
        out += raw;
        continue;
      }
      const value = field.decoder ? field.decoder.mapFromDriverValue(raw) : raw;
      out += value instanceof Date ? `"${value.toISOString()}"` : JSON.stringify(value);
    }
    return out === '' ? '{}' : `${out}}`;
  };
}

function decoderOf(field: unknown): Decoder | undefined {
  if (is(field, Column)) return field;
  // `decoder` is drizzle-internal (set by .mapWith()); its row mapping reads it the same way.
  if (is(field, SQL)) return (field as unknown as { decoder: Decoder }).decoder;
  if (is(field, SQL.Aliased)) return (field.sql as unknown as { decoder: Decoder }).decoder;
  return undefined;
}

/** Runs a built drizzle query on postgres.js as a prepared statement and returns its rows as arrays. */
export function rawQuery(client: PostgresJs, query: { sql: string; params: unknown[] }) {
  return (values: Record<string, unknown>): Promise<unknown[][]> =>
    client.unsafe(query.sql, fillPlaceholders(query.params, values), { prepare: true }).values();
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
  print: (values: unknown[]) => string;
  maxBatch?: number;
  /** Statements running before new lookups wait for one to return (default 2). */
  maxInFlight?: number;
}): (storeId: number, id: string | number) => Promise<string | undefined> {
  const { run, idIndex, print, maxBatch = 100, maxInFlight = 2 } = options;
  let inFlight = 0;
  /** A flush found maxInFlight statements running: the next one to return flushes. */
  let waiting = false;
  type Waiter = { resolve: (json: string | undefined) => void; reject: (err: unknown) => void };
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
