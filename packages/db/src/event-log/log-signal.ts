import type { Database } from '../create-db.ts';
import { recordKinds, type RecordKind } from '../schema/event-log.ts';

/**
 * The channel event_log's trigger notifies at each commit that appends: one notification per kind
 * appended, its payload the kind, then a space and the stores it appended for, comma-separated
 * (`webhook 1003,1004`), or the kind alone when they are too many to list (migrations/0021).
 */
export const appendChannel = 'mirror_event_log';

/** Stores an append was for: a set of store ids, or `all` when they are not known. */
export type AppendedStores = ReadonlySet<number> | 'all';

/**
 * Wakes the log's consumers when records are appended, instead of them finding out at their
 * next poll. A hint, never a source of truth: a consumer still reads the log after its own
 * checkpoint, and still polls (a notification lost while a listener reconnects, or a writer in
 * another process on embedded PGlite, is then seen at the next poll).
 */
export type LogSignal = {
  /** Taken before reading the log: `wait` returns at once if an append was signalled since. */
  mark(): number;
  /**
   * Records of these kinds were committed (by this process, or a notification said so), for
   * these stores; without `stores`, for stores not known (as if for every store).
   */
  notify(kinds: readonly RecordKind[], stores?: readonly number[]): void;
  /**
   * Resolves when an append of one of `kinds` was signalled after `since` (a `mark`), when
   * `ms` pass, or when `abort` aborts, whichever comes first. Never rejects.
   */
  wait(kinds: readonly RecordKind[], since: number, ms: number, abort?: AbortSignal): Promise<void>;
  /**
   * The stores appends of `kind` were signalled for since the last call (`all` at the first call,
   * and whenever one came without its stores), and forgets them. For one consumer of the kind:
   * take them, then read, so an append signalled meanwhile is in the next call's set.
   */
  takeStores(kind: RecordKind): AppendedStores;
  /**
   * Whether the database's notifications reach this signal (listenForAppends is listening).
   * When not, appends by other processes are only found by polling, and `takeStores` cannot
   * know of them.
   */
  readonly listening: boolean;
};

type Waiter = { kinds: readonly RecordKind[]; done: () => void };

/** An in-process LogSignal; listenForAppends feeds it the database's notifications too. */
export function createLogSignal(): LogSignal & { listening: boolean } {
  let sequence = 0;
  // The sequence number of the last signal of each kind.
  const lastOf = new Map<RecordKind, number>();
  const waiters = new Set<Waiter>();
  // The stores signalled for each kind since its last takeStores; absent means all.
  const storesOf = new Map<RecordKind, Set<number> | 'all'>();
  return {
    listening: false,
    mark: () => sequence,
    notify(kinds, stores) {
      sequence += 1;
      for (const kind of kinds) {
        lastOf.set(kind, sequence);
        const known = storesOf.get(kind);
        if (known === undefined || known === 'all') continue;
        if (stores === undefined) storesOf.set(kind, 'all');
        else for (const store of stores) known.add(store);
      }
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
    takeStores(kind) {
      const taken = storesOf.get(kind) ?? 'all';
      storesOf.set(kind, new Set());
      return taken;
    },
  };
}

/** Reads a notification's payload: its kind, and its stores when it lists them. */
export function parseAppendPayload(payload: string): { kinds: readonly RecordKind[]; stores?: number[] } {
  const [word = '', list, ...rest] = payload.split(' ');
  const kind = recordKinds.find((k) => k === word);
  // Unknown (a newer writer's payload): every kind, every store; a wake too many, never one too few.
  if (!kind || rest.length > 0) return { kinds: recordKinds };
  if (list === undefined) return { kinds: [kind] };
  const stores = list.split(',').map(Number);
  if (stores.some((store) => !Number.isSafeInteger(store) || store <= 0)) return { kinds: [kind] };
  return { kinds: [kind], stores };
}

/**
 * LISTENs on the append channel (Postgres, and in-process PGlite) and passes each notification
 * to `signal`. Every (re)connection of the listener signals every kind, for every store:
 * whatever was appended while it was away is looked for at once. On a database that cannot
 * listen (the embedded PGlite served to other processes) it does nothing: the in-process signal
 * and polling remain, and `signal.listening` stays false. Returns a function that stops
 * listening.
 */
export async function listenForAppends(
  database: Pick<Database, 'listen'>,
  signal: LogSignal & { listening: boolean },
): Promise<() => Promise<void>> {
  if (!database.listen) return async () => {};
  const unlisten = await database.listen(
    appendChannel,
    (payload) => {
      const { kinds, stores } = parseAppendPayload(payload);
      signal.notify(kinds, stores);
    },
    () => signal.notify(recordKinds),
  );
  signal.listening = true;
  return async () => {
    signal.listening = false;
    await unlisten();
  };
}
