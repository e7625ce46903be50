import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { linkSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

/*
 * Who owns a PGlite data folder: a JSON record beside it, `<dataDir>.owner.json`, that exists
 * exactly while one process has the folder open.
 *
 * - Taking it is atomic: the record is written complete to a temporary file and hard-linked to
 *   its name, which fails if the name exists (the guarantee of O_CREAT|O_EXCL, and nobody ever
 *   reads a half-written record). Two processes starting at once: one link succeeds.
 * - The owner removes it when it has closed the folder. A process killed with -9 leaves it.
 * - A record whose process is gone is stale. "Gone" is decided by the process, never by
 *   silence: the pid is not running, or it is running but started at another time than the
 *   recorded one (the pid was reused). A live owner that does not answer is not stale: PGlite
 *   runs in the owner's event loop, so a long statement keeps it silent, and opening the folder
 *   beside it would corrupt it.
 * - Removing a stale record is a compare-and-delete: only the holder of a marker file named
 *   after the stale record's nonce (`<record>.recover-<nonce>.<k>`, taken by the same atomic
 *   link) may delete it, after reading that the record is still that one. A new record can only
 *   be created once the stale one is gone, so the delete never hits a fresh record. A marker
 *   whose holder died is passed over by taking the next k.
 */

export type OwnerRecord = {
  pid: number;
  /** Unique per ownership: what a stale record is recognised by. */
  nonce: string;
  host: string;
  /** When the process started, as the OS tells it (Linux /proc, else `ps`), to tell a reused pid. */
  processStart: string | undefined;
  startedAt: string;
  /** What the process runs, for people: `mirror start`. */
  command: string;
  dataDir: string;
  /** Where it serves the database; unset while it is opening the folder. */
  url: string | undefined;
};

/** The record's path for a data folder: `<dataDir>.owner.json`, beside it. */
export function ownerRecordPath(dataDir: string): string {
  return `${resolve(dataDir)}.owner.json`;
}

export function newOwnerRecord(dataDir: string, command: string): OwnerRecord {
  return {
    pid: process.pid,
    nonce: randomBytes(8).toString('hex'),
    host: hostname(),
    processStart: processStartOf(process.pid),
    startedAt: new Date().toISOString(),
    command,
    dataDir: resolve(dataDir),
    url: undefined,
  };
}

/** Creates `path` with `content`, complete, unless it exists: true if this call created it. */
export function createExclusive(path: string, content: unknown): boolean {
  const temp = tempName(path);
  writeFileSync(temp, `${JSON.stringify(content, null, 2)}\n`, { flush: true });
  try {
    linkSync(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(temp);
  }
}

/** Replaces the record this process owns (to add its URL); atomic for readers. */
export function rewriteOwnRecord(path: string, record: OwnerRecord): void {
  const temp = tempName(path);
  writeFileSync(temp, `${JSON.stringify(record, null, 2)}\n`, { flush: true });
  renameSync(temp, path);
}

/** The record at `path`, undefined when there is none; throws when it cannot be read as one. */
export function readOwnerRecord(path: string): OwnerRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let parsed: Partial<OwnerRecord>;
  try {
    parsed = JSON.parse(text) as Partial<OwnerRecord>;
  } catch {
    throw new Error(`${path} is not a readable owner record; if no mirror process is running, delete it`);
  }
  if (typeof parsed.pid !== 'number' || typeof parsed.nonce !== 'string') {
    throw new Error(`${path} is not a readable owner record; if no mirror process is running, delete it`);
  }
  return parsed as OwnerRecord;
}

/** Deletes the record if it is still this one (an owner releasing, or a failed start). */
export function removeOwnRecord(path: string, nonce: string): void {
  try {
    if (readOwnerRecord(path)?.nonce === nonce) unlinkSync(path);
  } catch {
    // Gone, or unreadable: not ours to remove.
  }
}

export type Liveness = 'alive' | 'dead';

/**
 * Whether the process of a record still runs. A record from another host cannot be checked and
 * counts as alive (the folder is shared; the message says how to clear it by hand).
 */
export function livenessOf(record: Pick<OwnerRecord, 'pid' | 'host' | 'processStart'>): Liveness {
  if (record.host !== hostname()) return 'alive';
  if (!pidRunning(record.pid)) return 'dead';
  if (record.processStart !== undefined) {
    const now = processStartOf(record.pid);
    if (now !== undefined && now !== record.processStart) return 'dead';
  }
  return 'alive';
}

/**
 * Removes `stale` (a record whose process is dead) from `path`, unless another process is
 * already doing so or it has been replaced. Returns once this attempt is over; the caller reads
 * the record again.
 */
export async function removeStaleRecord(path: string, stale: OwnerRecord): Promise<void> {
  const me = { pid: process.pid, host: hostname(), processStart: processStartOf(process.pid) };
  for (let k = 1; k < 1000; k++) {
    const marker = `${path}.recover-${stale.nonce}.${k}`;
    if (createExclusive(marker, me)) {
      try {
        if (readOwnerRecord(path)?.nonce === stale.nonce) unlinkSync(path);
      } finally {
        removeMarkers(path, (nonce) => nonce === stale.nonce);
      }
      return;
    }
    let holder: typeof me | undefined;
    try {
      holder = JSON.parse(readFileSync(marker, 'utf8')) as typeof me;
    } catch {
      return; // the marker went away: that recovery is over
    }
    if (livenessOf(holder) === 'alive') {
      // Someone is removing it right now (a few milliseconds).
      await new Promise((r) => setTimeout(r, 20));
      return;
    }
    // Its holder died in the middle: take the next one.
  }
}

/** Leftovers of this folder's record that no one needs: markers of other nonces, temp files of dead processes. */
export function sweepLeftovers(path: string, ownNonce: string): void {
  removeMarkers(path, (nonce) => nonce !== ownNonce);
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  for (const name of safeReaddir(dir)) {
    const match = name.startsWith(prefix) ? /\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name) : null;
    if (match && !pidRunning(Number(match[1]))) safeUnlink(join(dir, name));
  }
}

function removeMarkers(path: string, which: (nonce: string) => boolean): void {
  const dir = dirname(path);
  const prefix = `${basename(path)}.recover-`;
  for (const name of safeReaddir(dir)) {
    if (!name.startsWith(prefix)) continue;
    const nonce = name.slice(prefix.length).split('.')[0] ?? '';
    if (which(nonce)) safeUnlink(join(dir, name));
  }
}

function tempName(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function safeUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function pidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's start time as the OS reports it, or undefined where it cannot be read. */
export function processStartOf(pid: number): string | undefined {
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Field 22, counted after the command name, which is in parentheses and may hold spaces.
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    } catch {
      return undefined;
    }
  }
  if (process.platform === 'win32') return undefined;
  try {
    return (
      execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() ||
      undefined
    );
  } catch {
    return undefined;
  }
}
