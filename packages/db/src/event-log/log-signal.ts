import type { Database } from '../create-db.ts';
import { recordKinds, type RecordKind } from '../schema/event-log.ts';

/**
 * The channel event_log's trigger notifies at each commit that appends: one notification per kind
 * appended, its payload the kind, the stores it appended for, comma-separated, or `*` when they
 * are too many to list, and the last position it appended of that kind (`webhook 1003,1004 5120`;
 * migrations/0023). Payloads of earlier triggers are read too: the kind and its stores
 * (`webhook 1003,1004`, 0021), or the kind alone (0018).
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
   * these stores; without `stores`, for stores not known (as if for every store). `upTo`: the
   * last position appended, when known.
   */
  notify(kinds: readonly RecordKind[], stores?: readonly number[], upTo?: number): void;
  /**
   * Resolves when an append of one of `kinds` was signalled after `since` (a `mark`), when
   * `ms` pass, or when `abort` aborts, whichever comes first. Never rejects.
   *
   * `seen`: where the caller has read the log to (every record at or before it; positions are
   * commit-ordered, decision 0001). An append signalled with its last position is then news only
   * past that, whenever it was signalled, so the notification of records the caller already read
   * (its own wake's, arriving a moment later from the database) does not wake it again. An append
   * signalled without a position wakes it as without `seen`.
   */
  wait(kinds: readonly RecordKind[], since: number, ms: number, abort?: AbortSignal, seen?: number): Promise<void>;
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

type Waiter = { kinds: readonly RecordKind[]; seen: number | undefined; done: () => void };

/** An in-process LogSignal; listenForAppends feeds it the database's notifications too. */
export function createLogSignal(): LogSignal & { listening: boolean } {
  let sequence = 0;
  // The sequence number of the last signal of each kind, and of the last one without a position.
  const lastOf = new Map<RecordKind, number>();
  const lastBlindOf = new Map<RecordKind, number>();
  // The last position signalled for each kind.
  const upToOf = new Map<RecordKind, number>();
  const isNews = (kind: RecordKind, since: number, seen: number | undefined) =>
    seen === undefined ? (lastOf.get(kind) ?? 0) > since : (lastBlindOf.get(kind) ?? 0) > since || (upToOf.get(kind) ?? 0) > seen;
  const waiters = new Set<Waiter>();
  // The stores signalled for each kind since its last takeStores; absent means all.
  const storesOf = new Map<RecordKind, Set<number> | 'all'>();
  return {
    listening: false,
    mark: () => sequence,
    notify(kinds, stores, upTo) {
      sequence += 1;
      for (const kind of kinds) {
        lastOf.set(kind, sequence);
        if (upTo === undefined) lastBlindOf.set(kind, sequence);
        else upToOf.set(kind, Math.max(upTo, upToOf.get(kind) ?? 0));
        const known = storesOf.get(kind);
        if (known === undefined || known === 'all') continue;
        if (stores === undefined) storesOf.set(kind, 'all');
        else for (const store of stores) known.add(store);
      }
      for (const waiter of waiters) {
        const news = upTo === undefined || waiter.seen === undefined || upTo > waiter.seen;
        if (news && waiter.kinds.some((kind) => kinds.includes(kind))) waiter.done();
      }
    },
    wait(kinds, since, ms, abort, seen) {
      if (abort?.aborted || kinds.some((kind) => isNews(kind, since, seen))) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        const waiter: Waiter = { kinds, seen, done };
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

/**
 * Reads a notification's payload: its kind, its stores when it lists them, and its last position
 * when it gives one.
 */
export function parseAppendPayload(payload: string): { kinds: readonly RecordKind[]; stores?: number[]; upTo?: number } {
  const [word = '', list, last, ...rest] = payload.split(' ');
  const kind = recordKinds.find((k) => k === word);
  // Unknown (a newer writer's payload): every kind, every store; a wake too many, never one too few.
  if (!kind || rest.length > 0) return { kinds: recordKinds };
  const upTo = last === undefined ? undefined : Number(last);
  const position = upTo !== undefined && Number.isSafeInteger(upTo) && upTo > 0 && { upTo };
  if (list === undefined || list === '*') return { kinds: [kind], ...position };
  const stores = list.split(',').map(Number);
  if (stores.some((store) => !Number.isSafeInteger(store) || store <= 0)) return { kinds: [kind], ...position };
  return { kinds: [kind], stores, ...position };
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
      const { kinds, stores, upTo } = parseAppendPayload(payload);
      signal.notify(kinds, stores, upTo);
    },
    () => signal.notify(recordKinds),
  );
  signal.listening = true;
  return async () => {
    signal.listening = false;
    await unlisten();
  };
}
