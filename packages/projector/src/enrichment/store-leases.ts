import { describeError, type Logger } from '@mirror/core';
import type { Session } from '@mirror/db';

/** The first key of every enrichment lease: `pg_try_advisory_lock(enrichmentLeaseKey, store)`. */
export const enrichmentLeaseKey = 1_926_071_813;

/** A store's lock key: store ids are int8, the two-key form takes int4 (ids beyond it share a lease, which costs only parallelism). */
const storeKey = (storeId: number) => Number(BigInt.asIntN(32, BigInt(storeId)));

export type StoreLeases = {
  /** False when another process holds the store's lease; true when this one does, or when no lease can be taken (see below). */
  take(storeId: number): Promise<boolean>;
  /** Gives the store's lease back (nothing to do when it went with a lost connection). */
  release(storeId: number): Promise<void>;
  /** Gives every lease back and closes the connection. */
  close(): Promise<void>;
};

/**
 * One lease per store, so two `mirror project` processes on one database do not both fetch a
 * store's entities from Ecwid (docs/decisions/0013-past-one-machine.md). The lease is an
 * optimisation, not what keeps the mirror correct: the compare-and-set on each store's checkpoint
 * does that, so a lease lost with its connection costs only duplicate fetches meanwhile.
 *
 * Postgres session advisory locks, all on one connection of their own (`openSession`): a process
 * killed with kill -9 loses that connection and with it every lease at once, with no expiry to
 * wait for. When the connection is lost the locks are gone on the server whatever this process
 * believes, so every lease is forgotten (passes in flight finish guarded by the compare-and-set
 * alone) and the next `take` runs on a new connection.
 */
export function createStoreLeases(openSession: (onClose: () => void) => Session, log: Logger): StoreLeases {
  // Leases held, by the connection (generation) they were taken on.
  let generation = 0;
  const held = new Map<number, number>();
  /** The last take failed: warned once, until one succeeds again. */
  let unleased = false;
  const session = openSession(() => {
    if (held.size > 0) log.warn({ leases: held.size }, 'store lease connection lost; its leases are dropped');
    held.clear();
    generation++;
  });

  return {
    async take(storeId) {
      if (held.has(storeId)) return true;
      const mine = generation;
      try {
        const rows = (await session.unsafe('select pg_try_advisory_lock($1, $2) as taken', [enrichmentLeaseKey, storeKey(storeId)])) as {
          taken: boolean;
        }[];
        // Taken on a connection lost since: the lock went with it.
        unleased = false;
        if (rows[0]?.taken !== true || mine !== generation) return false;
        held.set(storeId, mine);
        return true;
      } catch (err) {
        // The lease connection cannot be had (Postgres restarting, max_connections reached)
        // while the pool may still work: go on without a lease rather than stop mirroring, as
        // the compare-and-set keeps the store correct; the cost is duplicate fetches meanwhile.
        if (!unleased) log.warn({ storeId, error: describeError(err) }, 'store lease not taken; enriching without leases until it can be');
        unleased = true;
        return true;
      }
    },
    async release(storeId) {
      const at = held.get(storeId);
      held.delete(storeId);
      if (at === undefined || at !== generation) return;
      try {
        await session.unsafe('select pg_advisory_unlock($1, $2)', [enrichmentLeaseKey, storeKey(storeId)]);
      } catch (err) {
        // Lost with its connection, or held until that connection ends: the compare-and-set covers either.
        log.warn({ storeId, error: describeError(err) }, 'store lease not released');
      }
    },
    async close() {
      held.clear();
      generation++;
      // Ending the connection ends its session and every lock in it.
      await session.end().catch(() => {});
    },
  };
}
