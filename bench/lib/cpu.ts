import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Busy time of all cores, ms; the difference of two readings is the CPU used in between. */
export function systemCpuBusyMs(): number {
  return cpus().reduce((sum, { times }) => sum + times.user + times.nice + times.sys + times.irq, 0);
}

// Linux reports per-process times in clock ticks, 100 per second on every common kernel.
const ticksPerMs = 100 / 1000;

/**
 * CPU time (user + system, ms) of every live process whose name is `name`, from /proc; 0 where
 * there is no /proc. Processes that exit between two readings drop out of the difference, so
 * measure long-lived ones (a connection pool's backends).
 */
export function processesCpuMs(name: string): number {
  let total = 0;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid …": comm may contain spaces, so split after the last ')'.
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    if (stat.slice(open + 1, close) !== name) continue;
    const fields = stat.slice(close + 2).split(' ');
    total += (Number(fields[11]) + Number(fields[12])) / ticksPerMs; // utime, stime
  }
  return total;
}
