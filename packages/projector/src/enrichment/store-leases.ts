import { describeError, type Logger } from '@mirror/core';
import type { Session } from '@mirror/db';

/** The first key of every enrichment lease: `pg_try_advisory_lock(enrichmentLeaseKey, store)`. */
export const enrichmentLeaseKey = 1_926_071_813;

/** A store's lock key: store ids are int8, the two-key form takes int4 (ids beyond it share a lease, which costs only parallelism). */
const storeKey = (storeId: number) => Number(BigInt.asIntN(32, BigInt(storeId)));

export type StoreLeases = {
  /** True when this process now holds the store's lease; false when another process does (or the lease connection failed). */
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
        if (rows[0]?.taken !== true || mine !== generation) return false;
        held.set(storeId, mine);
        return true;
      } catch (err) {
        log.warn({ storeId, error: describeError(err) }, 'store lease not taken');
        return false;
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
