import { describeError, type Logger } from '@mirror/core';
import type { Db } from '@mirror/db';

type Reserved = { unsafe(text: string, params: unknown[]): Promise<unknown[]>; release(): void };
type Pool = { reserve?: () => Promise<Reserved> };

/** The first key of every enrichment lease: `pg_try_advisory_lock(enrichmentLeaseKey, store)`. */
export const enrichmentLeaseKey = 1_926_071_813;

/** A store's advisory lock key: store ids are int8, the two-key form takes int4 (ids beyond it share a lease, which only costs parallelism). */
const storeKey = (storeId: number) => Number(BigInt.asIntN(32, BigInt(storeId)));

export type StoreLeases = {
  /** True when this process now holds the store's lease; false when another process does (or the lease connection failed). */
  take(storeId: number): Promise<boolean>;
  /** Gives the store's lease back (no-op when it was dropped with a failed connection). */
  release(storeId: number): Promise<void>;
  /** Gives every lease back and returns the connection to the pool. */
  close(): Promise<void>;
};

/**
 * One lease per store, so two `mirror project` processes on one database do not both fetch a
 * store's entities from Ecwid (docs/decisions/0013-past-one-machine.md). The lease is an
 * optimisation, not what keeps the mirror correct: the compare-and-set on each store's checkpoint
 * does that, so a lease lost with its connection costs only duplicate fetches until the next one.
 *
 * Postgres session advisory locks on one reserved connection: a process killed with kill -9 loses
 * its connection and with it every lease at once, with no expiry to wait for. When that
 * connection fails, the locks are gone on the server whatever this process believes, so every
 * lease is forgotten (their passes finish unprotected, guarded by the compare-and-set) and the
 * next `take` reserves a new connection. Undefined for a Db without postgres.js under it.
 */
export function createStoreLeases(db: Db, log: Logger): StoreLeases | undefined {
  const pool = (db as unknown as { $client?: unknown }).$client;
  if (typeof pool !== 'function' || typeof (pool as Pool).reserve !== 'function') return undefined;
  const reserve = (pool as Pool).reserve!.bind(pool);
  let connection: Promise<Reserved> | undefined;
  // Leases held, by the connection (generation) they were taken on.
  let generation = 0;
  const held = new Map<number, number>();

  const dropAll = (err: unknown) => {
    if (held.size > 0 || connection)
      log.warn({ error: describeError(err), leases: held.size }, 'store lease connection failed; leases dropped');
    held.clear();
    generation++;
    const lost = connection;
    connection = undefined;
    // A connection that broke is already out of the pool; one that merely refused a statement
    // goes back only without locks, or another query would hold them for good.
    lost?.then(
      (c) =>
        c.unsafe('select pg_advisory_unlock_all()', []).then(
          () => c.release(),
          () => {},
        ),
      () => {},
    );
  };

  return {
    async take(storeId) {
      if (held.has(storeId)) return true;
      try {
        const reserving = (connection ??= reserve());
        const mine = generation;
        const c = await reserving;
        const rows = (await c.unsafe('select pg_try_advisory_lock($1, $2) as taken', [enrichmentLeaseKey, storeKey(storeId)])) as {
          taken: boolean;
        }[];
        if (rows[0]?.taken !== true) return false;
        // The connection failed meanwhile: the lock went with it.
        if (mine !== generation) return false;
        held.set(storeId, mine);
        return true;
      } catch (err) {
        dropAll(err);
        return false;
      }
    },
    async release(storeId) {
      const at = held.get(storeId);
      held.delete(storeId);
      if (at === undefined || at !== generation || !connection) return;
      try {
        const c = await connection;
        await c.unsafe('select pg_advisory_unlock($1, $2)', [enrichmentLeaseKey, storeKey(storeId)]);
      } catch (err) {
        dropAll(err);
      }
    },
    async close() {
      const c = connection;
      connection = undefined;
      held.clear();
      generation++;
      if (!c) return;
      try {
        const reserved = await c;
        // Session locks outlive a release to the pool: give them all back first.
        await reserved.unsafe('select pg_advisory_unlock_all()', []);
        reserved.release();
      } catch {
        // A failed connection took its locks with it.
      }
    },
  };
}
