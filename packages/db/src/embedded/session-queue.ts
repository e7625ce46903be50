import type { PGlite } from '@electric-sql/pglite';

/*
 * PGlite is one Postgres backend: one session, one transaction at a time. Clients of the
 * embedded server share it, so their wire-protocol messages must take turns, and a turn is not
 * one message: it lasts from a client's first message until the backend answers it with
 * ReadyForQuery *outside* a transaction block. Within a turn nobody else's messages run:
 *
 * - an extended-protocol exchange (Parse, Bind, Describe, Execute … Sync) is one unit: the
 *   unnamed statement and portal, the implicit transaction and the "skip until Sync" after an
 *   error all belong to the client that sent it. postgres.js even waits a round trip in the
 *   middle of one (Parse, Describe, Flush; then Bind, Execute, Sync once it knows the parameter
 *   types), which is where @electric-sql/pglite-socket's own queue lets other clients in: it
 *   only holds the backend for a client inside BEGIN … COMMIT. Under concurrent clients that
 *   queue answers one client's query with another's statement, or hangs;
 * - a transaction block (BEGIN … COMMIT/ROLLBACK, or a failed one) holds the backend for its
 *   client until it ends, so no other client's statement runs inside it;
 * - COPY and anything else that has not yet reached ReadyForQuery likewise.
 *
 * The turn is read from the backend's own answers (the status byte of ReadyForQuery: I, T or
 * E), not guessed from the client's messages. A client that disconnects in the middle of a turn
 * has it ended for it (Sync, then ROLLBACK if a transaction is open), the statements it prepared
 * are closed and the settings it changed are reset (RESET ALL), so one client's leftovers never
 * reach the next. While it is connected, a SET it makes applies to every client: there is one
 * session.
 */

type Message = {
  kind: 'message';
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: unknown) => void;
};
type Cleanup = { kind: 'cleanup'; handlerId: number; resolve: () => void; reject: (err: unknown) => void };
type Entry = Message | Cleanup;

const byte = (c: string) => c.charCodeAt(0);
const READY_FOR_QUERY = byte('Z');
const TERMINATE = byte('X');
const PARSE = byte('P');
const CLOSE = byte('C');

/** The queue PGLiteSocketHandler drives (the shape of the package's own QueryQueueManager). */
export type SessionQueue = {
  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number>;
  clearQueueForHandler(handlerId: number): void;
  clearTransactionIfNeeded(handlerId: number): Promise<void>;
  getQueueLength(): number;
  /** Resolves once nothing is queued or running (after the last client has been cleaned up). */
  idle(): Promise<void>;
  /** The client whose turn it is, if one is in the middle of one. */
  readonly holder: number | undefined;
};

export function createSessionQueue(db: PGlite, onFatal: (err: unknown) => void): SessionQueue {
  const queue: Entry[] = [];
  /** Named prepared statements per client: closed when it leaves (they live in the shared session). */
  const statements = new Map<number, Set<string>>();
  let holder: number | undefined;
  let running = false;
  let broken: unknown;
  let idleWaiters: (() => void)[] = [];

  const run = async () => {
    if (running) return;
    running = true;
    try {
      for (;;) {
        const index = holder === undefined ? (queue.length > 0 ? 0 : -1) : queue.findIndex((e) => e.handlerId === holder);
        if (index < 0) break;
        const [entry] = queue.splice(index, 1);
        if (!entry) break;
        try {
          if (entry.kind === 'message') entry.resolve(await execute(entry));
          else {
            await cleanup(entry.handlerId);
            entry.resolve();
          }
        } catch (err) {
          // PGlite itself failed (not an SQL error: those are answers). Its state is unknown.
          broken = err;
          entry.reject(err);
          for (const e of queue.splice(0)) e.reject(err);
          onFatal(err);
          break;
        }
      }
    } finally {
      running = false;
      if (queue.length === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  };

  /** Runs one message and returns the backend's transaction status if it answered ReadyForQuery. */
  const exec = async (message: Uint8Array, onData: (data: Uint8Array) => void): Promise<{ bytes: number; ready: string | undefined }> => {
    const tracker = createReadyTracker();
    let bytes = 0;
    await db.runExclusive(() =>
      db.execProtocolRawStream(message, {
        onRawData: (data) => {
          bytes += data.length;
          tracker.push(data);
          onData(data);
        },
      }),
    );
    return { bytes, ready: tracker.ready() };
  };

  const execute = async (entry: Message): Promise<number> => {
    const { message, handlerId } = entry;
    // Terminate ends a backend of its own on Postgres; here the backend is everyone's, and the
    // client's leaving is handled when its socket closes (cleanup).
    if (message[0] === TERMINATE) return 0;
    if (message[0] === PARSE) {
      const name = cString(message, 5);
      if (name) {
        let mine = statements.get(handlerId);
        if (!mine) statements.set(handlerId, (mine = new Set()));
        mine.add(name);
      }
    } else if (message[0] === CLOSE && message[5] === byte('S')) {
      statements.get(handlerId)?.delete(cString(message, 6));
    }
    const { bytes, ready } = await exec(message, entry.onData);
    // Idle: the turn is over. In a transaction (T), a failed one (E), or no answer yet: it goes on.
    holder = ready === 'I' ? undefined : handlerId;
    return bytes;
  };

  const cleanup = async (handlerId: number) => {
    const discard = () => {};
    if (holder === handlerId) {
      // End whatever exchange it left open, then whatever transaction.
      let { ready } = await exec(syncMessage, discard);
      if (ready !== 'I') ({ ready } = await exec(queryMessage('ROLLBACK'), discard));
      if (ready !== 'I') throw new Error(`could not end the session of a closed connection (status ${ready ?? 'none'})`);
      holder = undefined;
    }
    const mine = statements.get(handlerId);
    statements.delete(handlerId);
    for (const name of mine ?? []) await exec(closeStatementMessage(name), discard);
    if (mine && mine.size > 0) await exec(syncMessage, discard);
    // Settings it changed with SET apply to everyone's session: they end with its connection.
    const { ready } = await exec(queryMessage('RESET ALL'), discard);
    if (ready !== 'I') throw new Error(`could not reset the session after a closed connection (status ${ready ?? 'none'})`);
  };

  return {
    enqueue(handlerId, message, onData) {
      return new Promise<number>((resolve, reject) => {
        if (broken) return reject(broken instanceof Error ? broken : new Error(String(broken)));
        queue.push({ kind: 'message', handlerId, message, onData, resolve, reject });
        void run();
      });
    },
    clearQueueForHandler(handlerId) {
      for (let i = queue.length - 1; i >= 0; i--) {
        const entry = queue[i]!;
        if (entry.handlerId === handlerId && entry.kind === 'message') {
          queue.splice(i, 1);
          entry.reject(new Error('connection closed'));
        }
      }
    },
    clearTransactionIfNeeded(handlerId) {
      if (broken) return Promise.resolve();
      // Runs in the client's turn if it holds one (it is then the only entry that can run), else in order.
      return new Promise<void>((resolve, reject) => {
        queue.push({ kind: 'cleanup', handlerId, resolve, reject });
        void run();
      }).catch(() => {});
    },
    getQueueLength: () => queue.length,
    idle() {
      if (!running && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    get holder() {
      return holder;
    },
  };
}

/**
 * Follows the backend's messages (type byte, int32 length, payload) across chunks and reports
 * the transaction status of ReadyForQuery when that is the last message of the answer.
 */
function createReadyTracker() {
  const header = new Uint8Array(5);
  let filled = 0;
  let remaining = 0;
  let type = 0;
  let last = 0;
  let status = 0;
  return {
    push(data: Uint8Array) {
      let i = 0;
      while (i < data.length) {
        if (remaining > 0) {
          const take = Math.min(remaining, data.length - i);
          if (type === READY_FOR_QUERY) status = data[i + take - 1]!;
          remaining -= take;
          i += take;
          if (remaining === 0) last = type;
          continue;
        }
        header[filled++] = data[i++]!;
        if (filled === 5) {
          filled = 0;
          type = header[0]!;
          remaining = new DataView(header.buffer).getInt32(1) - 4;
          if (remaining <= 0) {
            remaining = 0;
            last = type;
          }
        }
      }
    },
    ready(): string | undefined {
      return last === READY_FOR_QUERY && remaining === 0 && filled === 0 ? String.fromCharCode(status) : undefined;
    },
  };
}

/** A NUL-terminated string in a message, from `offset`. */
function cString(message: Uint8Array, offset: number): string {
  const end = message.indexOf(0, offset);
  return Buffer.from(message.subarray(offset, end < 0 ? message.length : end)).toString('utf8');
}

function frame(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = byte(type);
  new DataView(out.buffer).setInt32(1, 4 + body.length);
  out.set(body, 5);
  return out;
}

const syncMessage = frame('S', new Uint8Array(0));
const queryMessage = (text: string) => frame('Q', Buffer.from(`${text}\0`, 'utf8'));
const closeStatementMessage = (name: string) => frame('C', Buffer.from(`S${name}\0`, 'utf8'));
