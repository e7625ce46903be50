import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Busy time of all cores, ms; the difference of two readings is the CPU used in between. */
export function systemCpuBusyMs(): number {
  return cpus().reduce((sum, { times }) => sum + times.user + times.nice + times.sys + times.irq, 0);
}

// Linux reports per-process times in clock ticks, 100 per second on every common kernel.
const ticksPerMs = 100 / 1000;

/** A process's name and CPU time so far (ms), from /proc/<pid>/stat; undefined if it is gone or there is no /proc. */
export function readProcessCpu(pid: number | string): { name: string; userMs: number; systemMs: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": comm may contain spaces, so split after the last ')'.
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  // utime and stime, in clock ticks.
  return {
    name: stat.slice(stat.indexOf('(') + 1, close),
    userMs: Number(fields[11]) / ticksPerMs,
    systemMs: Number(fields[12]) / ticksPerMs,
  };
}

/**
 * CPU time (user + system, ms) of every live process whose name is `name`, by pid, from /proc;
 * empty where there is no /proc.
 */
export function processesCpuByPid(name: string): Map<number, number> {
  const out = new Map<number, number>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return out;
  }
  for (const pid of pids) {
    const cpu = readProcessCpu(pid); // undefined: exited meanwhile
    if (cpu?.name === name) out.set(Number(pid), cpu.userMs + cpu.systemMs);
  }
  return out;
}

/**
 * CPU (ms) that processes named `name` used between `before` (a processesCpuByPid reading) and
 * now. Processes started meanwhile count from zero; those that exited meanwhile cannot be read
 * and drop out (so short-lived processes are undercounted, never counted negative).
 */
export function processesCpuSince(name: string, before: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of processesCpuByPid(name)) total += ms - (before.get(pid) ?? 0);
  return total;
}

/** CPU used during a load run, as fractions of one core (1 = one core busy the whole run). */
export type RunCpu = { server: number; load: number; postgres: number; other: number };

/**
 * Runs a load (a wrk run: its `cpu` is wrk's own, in cores) and reads the CPU used meanwhile by
 * this process (the servers under test live in it), the load generator, Postgres, and anything
 * else (the kernel, other work on the box).
 */
export async function measureRunCpu<R extends { durationSeconds: number; cpu: number }>(
  run: () => Promise<R>,
): Promise<{ result: R; cpu: RunCpu }> {
  const processBefore = process.cpuUsage();
  const systemBefore = systemCpuBusyMs();
  const postgresBefore = processesCpuByPid('postgres');
  const result = await run();
  const used = process.cpuUsage(processBefore);
  const wallMs = result.durationSeconds * 1000;
  const server = (used.user + used.system) / 1000 / wallMs;
  const load = result.cpu;
  const postgres = processesCpuSince('postgres', postgresBefore) / wallMs;
  const other = Math.max(0, (systemCpuBusyMs() - systemBefore) / wallMs - server - load - postgres);
  return { result, cpu: { server, load, postgres, other } };
}

/** CPU per answer (µs) of each party, and the most answers/s that cost allows on this machine. */
export type AnswerCost = {
  serverUs: number;
  postgresUs: number;
  loadUs: number;
  totalUs: number;
  /** Most answers/s at this cost: all cores busy, or the server's one JavaScript thread busy, whichever comes first. */
  ceiling: number;
};

/**
 * What one answer cost, from a run's CPU and its answers/s. The ceiling is what the target has
 * to fit under: a ratio to a bare server is reachable only if the ceiling is that far up.
 */
export function answerCost(cpu: RunCpu, answersPerSecond: number, cores = cpus().length): AnswerCost {
  const per = (fraction: number) => (fraction * 1e6) / Math.max(1, answersPerSecond);
  const serverUs = per(cpu.server);
  const postgresUs = per(cpu.postgres);
  const loadUs = per(cpu.load);
  const totalUs = serverUs + postgresUs + loadUs;
  const ceiling = Math.min((cores * 1e6) / Math.max(1, totalUs), 1e6 / Math.max(1, serverUs));
  return { serverUs, postgresUs, loadUs, totalUs, ceiling };
}

/** `server 71 + postgres 82 + wrk 17 = 170 µs`: an AnswerCost as printed by the benches. */
export function formatAnswerCost(cost: AnswerCost): string {
  const us = (n: number) => Math.round(n).toLocaleString('en-US');
  return `server ${us(cost.serverUs)} + postgres ${us(cost.postgresUs)} + wrk ${us(cost.loadUs)} = ${us(cost.totalUs)} µs`;
}
