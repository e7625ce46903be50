import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * A benchmark's helper process (the simulated Ecwid, ingest…), so the process being measured
 * holds only what it holds in production. The parent calls the child's operations over node's
 * IPC channel; each answer comes back with the same id. The child runs under tsx, like the
 * bench, and exits when its parent goes (the channel closes).
 */
type Reply = { id: number; result?: unknown; error?: string };

export type BenchChild = {
  pid: number;
  call<T>(op: string, arg?: unknown): Promise<T>;
  /** Asks the child to close (its `close` operation), then waits for it to exit. */
  close(): Promise<void>;
};

export function forkChild(script: URL): Promise<BenchChild> {
  const child: ChildProcess = fork(fileURLToPath(script), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (message: Reply) => {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.result);
  });
  child.once('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`bench child exited (${code ?? 'signal'})`));
    pending.clear();
  });
  const call = <T>(op: string, arg?: unknown) =>
    new Promise<T>((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, op, arg });
    });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () =>
      resolve({
        pid: child.pid!,
        call,
        async close() {
          if (child.exitCode === null && child.signalCode === null) {
            await call('close').catch(() => {});
            const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
            await exited;
            clearTimeout(timer);
          }
        },
      }),
    );
  });
}

/**
 * In the child: answers the parent's calls with `handlers`; `close` runs the handler of that
 * name (if any), answers, and exits. `cpuMs` (this process's user + system time) is always there.
 */
export function serveParent(handlers: Record<string, (arg: never) => unknown>): void {
  const all: Record<string, (arg: never) => unknown> = {
    cpuMs: () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    },
    ...handlers,
  };
  process.on('message', (message: { id: number; op: string; arg: never }) => {
    void (async () => {
      try {
        const handler = all[message.op];
        if (!handler && message.op !== 'close') throw new Error(`unknown operation ${message.op}`);
        const result = await handler?.(message.arg);
        process.send!({ id: message.id, result });
      } catch (err) {
        process.send!({ id: message.id, error: err instanceof Error ? err.message : String(err) });
      }
      if (message.op === 'close') process.disconnect();
    })();
  });
  // The parent went (ended or killed): nothing left to serve.
  process.once('disconnect', () => process.exit(0));
}
