import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LatencySummary } from './latency.ts';

/** One wrk run: `script` is a file of bench/wrk/, `scriptArgs` what it reads in init(). */
export type WrkJob = {
  url: string;
  connections: number;
  /** wrk threads; each is a core's worth of load at most. */
  threads: number;
  durationSeconds: number;
  script: 'ingest.lua' | 'api.lua';
  scriptArgs: string[];
};

export type WrkResult = {
  durationSeconds: number;
  /** Responses received (any status). */
  completed: number;
  requestsPerSecond: number;
  /** Milliseconds. wrk's histogram has microsecond resolution. */
  latency: LatencySummary;
  /** Answers that were not 2xx or 3xx. */
  non2xx: number;
  /** Connect, read, write errors and timeouts. */
  errors: number;
  /** Requests each wrk thread sent (made by request()), including any cut off in flight at the end. */
  sentPerThread: number[];
  /** wrk's CPU (user + system) over the run, in cores (1 = one core busy all the time). */
  cpu: number;
  /** The same per wrk thread: above `saturatedAt`, wrk itself was the bottleneck. */
  cpuPerThread: number;
};

/** Above this share of a core per thread, the load generator, not the server, sets the pace. */
export const saturatedAt = 0.9;

const scriptsDir = fileURLToPath(new URL('../wrk/', import.meta.url));
// Linux reports per-process times in clock ticks, 100 per second on every common kernel.
const ticksPerSecond = 100;

/**
 * Drives a server with wrk (Debian's /usr/bin/wrk, or `WRK`), a C load generator that costs a
 * fraction of what a Node one does per request, so a server answering 40k requests/s on a
 * 2-core machine is measured and not the generator. The script reports wrk's own CPU time,
 * which callers must check against `saturatedAt` (see `assertNotSaturated`).
 */
export function runWrk(job: WrkJob, signal?: AbortSignal): Promise<WrkResult> {
  const args = [
    `-t${job.threads}`,
    `-c${job.connections}`,
    `-d${job.durationSeconds}s`,
    '--timeout',
    '10s',
    '-s',
    scriptsDir + job.script,
    job.url,
    '--',
    ...job.scriptArgs,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.env['WRK'] ?? 'wrk', args, { stdio: ['ignore', 'pipe', 'pipe'], ...(signal && { signal }) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (err) =>
      reject(
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? new Error('wrk not found: install it (apt install wrk) or set WRK', { cause: err })
          : err,
      ),
    );
    child.once('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('WRK_RESULT '));
      if (code !== 0 || !line) {
        reject(new Error(`wrk exited with ${code} and no result: ${(stderr || stdout).trim().slice(0, 500)}`));
        return;
      }
      resolve(toResult(JSON.parse(line.slice('WRK_RESULT '.length)) as RawResult, job.threads));
    });
  });
}

type RawResult = {
  durationUs: number;
  requests: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latencyUs: { mean: number; max: number; p50: number; p90: number; p99: number; p999: number };
  cpuTicks: number;
  sentPerThread: number[];
};

function toResult(raw: RawResult, threads: number): WrkResult {
  const seconds = raw.durationUs / 1e6;
  const ms = (us: number) => us / 1000;
  const cpu = raw.cpuTicks / ticksPerSecond / seconds;
  return {
    durationSeconds: seconds,
    completed: raw.requests,
    requestsPerSecond: raw.requests / seconds,
    latency: {
      count: raw.requests,
      mean: ms(raw.latencyUs.mean),
      p50: ms(raw.latencyUs.p50),
      p90: ms(raw.latencyUs.p90),
      p99: ms(raw.latencyUs.p99),
      p999: ms(raw.latencyUs.p999),
      max: ms(raw.latencyUs.max),
    },
    non2xx: raw.errors.status,
    errors: raw.errors.connect + raw.errors.read + raw.errors.write + raw.errors.timeout,
    sentPerThread: raw.sentPerThread,
    cpu,
    cpuPerThread: cpu / threads,
  };
}

/**
 * Fails loudly when the load generator saturated in any of `runs`: its figures would measure
 * wrk, not the server (raise --threads if the machine has a core to spare).
 */
export function generatorSaturation(runs: { name: string; result: WrkResult }[]): string[] {
  return runs
    .filter(({ result }) => result.cpuPerThread > saturatedAt)
    .map(
      ({ name, result }) =>
        `load generator saturated during ${name}: wrk used ${Math.round(result.cpuPerThread * 100)}% of a core per thread ` +
        `(limit ${Math.round(saturatedAt * 100)}%); the figure measures wrk, not the server`,
    );
}
