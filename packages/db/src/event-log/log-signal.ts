import type { Database } from '../create-db.ts';
import { recordKinds, type RecordKind } from '../schema/event-log.ts';

/** The channel event_log's trigger notifies at each commit that appends; the payload is the kind (migrations/0015). */
export const appendChannel = 'mirror_event_log';

/**
 * Wakes the log's consumers when records are appended, instead of them finding out at their
 * next poll. A hint, never a source of truth: a consumer still reads the log after its own
 * checkpoint, and still polls (a notification lost while a listener reconnects, or a writer in
 * another process on embedded PGlite, is then seen at the next poll).
 */
export type LogSignal = {
  /** Taken before reading the log: `wait` returns at once if an append was signalled since. */
  mark(): number;
  /** Records of these kinds were committed (by this process, or a notification said so). */
  notify(kinds: readonly RecordKind[]): void;
  /**
   * Resolves when an append of one of `kinds` was signalled after `since` (a `mark`), when
   * `ms` pass, or when `abort` aborts, whichever comes first. Never rejects.
   */
  wait(kinds: readonly RecordKind[], since: number, ms: number, abort?: AbortSignal): Promise<void>;
};

type Waiter = { kinds: readonly RecordKind[]; done: () => void };

/** An in-process LogSignal; listenForAppends feeds it the database's notifications too. */
export function createLogSignal(): LogSignal {
  let sequence = 0;
  // The sequence number of the last signal of each kind.
  const lastOf = new Map<RecordKind, number>();
  const waiters = new Set<Waiter>();
  return {
    mark: () => sequence,
    notify(kinds) {
      sequence += 1;
      for (const kind of kinds) lastOf.set(kind, sequence);
      for (const waiter of waiters) if (waiter.kinds.some((kind) => kinds.includes(kind))) waiter.done();
    },
    wait(kinds, since, ms, abort) {
      if (abort?.aborted || kinds.some((kind) => (lastOf.get(kind) ?? 0) > since)) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        const waiter: Waiter = { kinds, done };
        waiters.add(waiter);
        abort?.addEventListener('abort', done, { once: true });
        function done() {
          clearTimeout(timer);
          waiters.delete(waiter);
          abort?.removeEventListener('abort', done);
          resolve();
        }
      });
    },
  };
}

/**
 * LISTENs on the append channel (Postgres, and in-process PGlite) and passes each notification
 * to `signal`. Every (re)connection of the listener signals every kind: whatever was appended
 * while it was away is looked for at once. On a database that cannot listen (the embedded
 * PGlite served to other processes) it does nothing: the in-process signal and polling remain.
 * Returns a function that stops listening.
 */
export async function listenForAppends(database: Pick<Database, 'listen'>, signal: LogSignal): Promise<() => Promise<void>> {
  if (!database.listen) return async () => {};
  return database.listen(
    appendChannel,
    (payload) => {
      const kind = recordKinds.find((k) => k === payload);
      signal.notify(kind ? [kind] : recordKinds);
    },
    () => signal.notify(recordKinds),
  );
}
