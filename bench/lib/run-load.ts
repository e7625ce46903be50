import { fork } from 'node:child_process';
import type { LatencySummary } from './latency.ts';

/** One HTTP request of a load run; `id` names it so the caller can check what got a 2xx. */
export type LoadRequest = {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  id: string;
};

/** Makes the next request; called once per request sent, in the load generator's process. */
export type RequestFactory = () => LoadRequest;

export type LoadJob = {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Module (absolute file URL) exporting `requestExport(requestOptions): RequestFactory`. */
  requestModule: string;
  requestExport: string;
  requestOptions: unknown;
  /** Return the ids of the requests answered 2xx (costs a little memory per request). */
  trackIds?: boolean;
};

export type LoadResult = {
  durationSeconds: number;
  /** Responses received (any status). */
  completed: number;
  requestsPerSecond: number;
  latency: LatencySummary;
  ok: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Ids of the requests answered 2xx, when `trackIds` was set. */
  okIds: string[];
  /** CPU time the load generator used (user + system), ms. */
  cpuMs: number;
};

const childPath = new URL('./load-child.ts', import.meta.url);

/**
 * Drives a server with autocannon from a child process. On a small machine the load
 * generator needs a core of its own: in the server's process it would steal the very event
 * loop it is measuring, and a server in one process compared against a baseline in another
 * would not be a like-for-like comparison.
 */
export function runLoad(job: LoadJob, signal?: AbortSignal): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // process.execArgv carries tsx's loader, so the child runs TypeScript too.
    const child = fork(childPath, [], {
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      ...(signal && { signal }),
    });
    let result: LoadResult | undefined;
    child.once('message', (message) => {
      result = message as LoadResult;
    });
    child.once('error', reject);
    child.once('exit', (code, sig) => {
      if (result) resolve(result);
      else reject(new Error(`load generator exited (${sig ?? `code ${code}`}) without a result`));
    });
    child.send(job);
  });
}
