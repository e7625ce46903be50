import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { serveEmbedded, type EmbeddedServerOptions } from './embedded-server.ts';
import {
  createExclusive,
  livenessOf,
  newOwnerRecord,
  ownerRecordPath,
  readOwnerRecord,
  removeOwnRecord,
  removeStaleRecord,
  rewriteOwnRecord,
  sweepLeftovers,
  type OwnerRecord,
} from './owner-record.ts';

/*
 * A PGlite data folder has one owner: the process that opened it, which serves it on a local
 * port and talks to it only through that port, like every other process (PGlite is one backend;
 * its server gives each connection exclusive turns, which in-process queries would bypass).
 * claimEmbedded() makes this process the owner, or finds the live owner to connect to.
 */

export type EmbeddedClaim =
  | {
      role: 'owner';
      /** Where this process serves the folder: connect to it (also from this process) with postgres.js. */
      url: string;
      recordPath: string;
      /** Stops serving, closes PGlite and removes the record. Idempotent. */
      release(options?: ReleaseOptions): Promise<void>;
    }
  | { role: 'client'; url: string; recordPath: string; owner: OwnerRecord };

export type ReleaseOptions = {
  /**
   * First wait until the other processes connected through this one (mirror commands, psql)
   * have disconnected, calling `onWaiting` after 1 s and every 10 s while they have not. A later
   * release() without it stops waiting.
   */
  waitForClients?: boolean | undefined;
  onWaiting?: ((connections: number) => void) | undefined;
};

export type ClaimOptions = {
  /** What this process is, written in the record for people: `mirror start`. */
  command: string;
  /** Only ownership will do (a server): a live owner is an error at once instead of a URL. */
  exclusive?: boolean | undefined;
  /**
   * How long to wait for a live owner to answer (it may be opening the folder, or busy). Default
   * 2 minutes: creating a new folder (initdb) takes tens of seconds on a slow or busy machine.
   */
  waitMs?: number | undefined;
  /**
   * Told once when the wait for a live owner has lasted `noticeAfterMs` (default 30 s), so a
   * command does not sit silent for the whole wait.
   */
  onWaiting?: ((owner: OwnerRecord, waitedMs: number, giveUpInMs: number) => void) | undefined;
  noticeAfterMs?: number | undefined;
  server?: EmbeddedServerOptions | undefined;
};

/**
 * The folder is owned by another live process: `exclusive` was asked for, or the owner has not
 * answered within `waitMs` (`unresponsive`: still opening the folder, or busy).
 */
export class DataDirInUseError extends Error {
  constructor(
    readonly owner: OwnerRecord,
    readonly recordPath: string,
    readonly reason: 'exclusive' | 'unresponsive',
  ) {
    const where = owner.url ? ` at ${owner.url}` : '';
    super(
      reason === 'exclusive'
        ? `the embedded database in ${owner.dataDir} is in use by process ${owner.pid} (${owner.command}, since ${owner.startedAt})${where}`
        : `the embedded database in ${owner.dataDir} is owned by process ${owner.pid} (${owner.command}, since ${owner.startedAt}), ` +
            (owner.url ? `which does not answer${where}` : 'which is still opening it'),
    );
    this.name = 'DataDirInUseError';
  }
}

/**
 * Becomes the owner of the PGlite data folder, or returns the live owner's URL. A record left by
 * a dead owner (kill -9) is removed and the folder taken over.
 */
export async function claimEmbedded(given: string, options: ClaimOptions): Promise<EmbeddedClaim> {
  // The folder itself, not a symbolic link to it: PGlite's file layer does not follow one, and
  // two names for one folder must share one owner record.
  const dataDir = existsSync(given) ? realpathSync(given) : given;
  const recordPath = ownerRecordPath(dataDir);
  mkdirSync(dirname(recordPath), { recursive: true });
  const started = Date.now();
  const deadline = started + (options.waitMs ?? 120_000);
  const mine = newOwnerRecord(dataDir, options.command);
  let noticed = false;
  for (;;) {
    if (createExclusive(recordPath, mine)) return becomeOwner(dataDir, recordPath, mine, options.server);
    const record = readOwnerRecord(recordPath);
    if (!record) continue; // released in between
    if (livenessOf(record) === 'dead') {
      await removeStaleRecord(recordPath, record);
      continue;
    }
    if (options.exclusive) throw new DataDirInUseError(record, recordPath, 'exclusive');
    if (record.url && (await listening(record.url))) return { role: 'client', url: record.url, recordPath, owner: record };
    if (Date.now() > deadline) {
      throw new DataDirInUseError(record, recordPath, 'unresponsive');
    }
    if (!noticed && Date.now() - started >= (options.noticeAfterMs ?? 30_000)) {
      noticed = true;
      options.onWaiting?.(record, Date.now() - started, deadline - Date.now());
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Postgres settings of the embedded backend. PGlite's WebAssembly memory only grows, so every
 * page the backend ever touches stays in the process's RSS: its defaults (128 MB of shared
 * buffers, 64 MB for an index build) would hold ~200 MB for good. A demo's database fits in a
 * few MB; a larger embedded one reads through the OS page cache like any Postgres.
 * (docs/decisions/0012-freshness-rebuild-and-memory.md)
 */
const embeddedSettings = [
  'shared_buffers = 8MB',
  'maintenance_work_mem = 16MB',
  'work_mem = 4MB',
  'temp_buffers = 2MB',
  'wal_buffers = 1MB',
];

/**
 * Creates a new data folder (initdb) in a short-lived child process. initdb runs a second
 * Postgres in WebAssembly and peaks near 900 MB; in this process that memory would stay in its
 * RSS for good (WebAssembly memory and the allocator's arenas are not given back), so a first
 * `pnpm start` would sit at twice the memory of a later one. The child builds a sibling folder
 * that is renamed into place once complete, and exits when this process dies (its stdin
 * closes), so a kill at any moment leaves either no database or a whole one.
 */
async function initializeDataDir(dataDir: string): Promise<void> {
  const parent = dirname(dataDir);
  const prefix = `${basename(dataDir)}.initdb-`;
  // Attempts of processes killed before they finished (this process owns the folder now).
  for (const entry of readdirSync(parent)) if (entry.startsWith(prefix)) rmSync(join(parent, entry), { recursive: true, force: true });
  const building = join(parent, `${prefix}${process.pid}`);
  const pglite = pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;
  const script =
    `process.stdin.on('end', () => process.exit(1)); process.stdin.resume();` +
    `const { PGlite } = await import(${JSON.stringify(pglite)}); const db = await PGlite.create(process.argv[1]); await db.close(); process.exit(0);`;
  await new Promise<void>((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--input-type=module', '-e', script, building],
      { maxBuffer: 16 * 1024 * 1024 },
      (err, _stdout, stderr) =>
        err
          ? reject(new Error(`initdb failed: ${stderr.trim().split('\n').slice(-3).join(' ') || err.message}`, { cause: err }))
          : resolve(),
    );
    child.stdin?.on('error', () => {});
  });
  // The folder the owner made (empty: it had no PG_VERSION) gives way to the complete one.
  rmSync(dataDir, { recursive: true, force: true });
  renameSync(building, dataDir);
}

async function becomeOwner(
  dataDir: string,
  recordPath: string,
  record: OwnerRecord,
  serverOptions: EmbeddedServerOptions | undefined,
): Promise<EmbeddedClaim> {
  // An exit without release (an uncaught error, process.exit) still frees the folder: PGlite's
  // files are as after a crash, which it recovers from; the record must not outlive the process.
  const onExit = () => removeOwnRecord(recordPath, record.nonce);
  process.on('exit', onExit);
  let pglite: PGlite | undefined;
  try {
    sweepLeftovers(recordPath, record.nonce);
    mkdirSync(dataDir, { recursive: true });
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await initializeDataDir(dataDir);
    // Loaded only by the owner of an embedded folder (see createDb's openPglite on its cost).
    const { PGlite } = await import('@electric-sql/pglite');
    // Every commit is written to the folder before it is acknowledged (relaxedDurability would
    // acknowledge first and write later).
    pglite = await PGlite.create(dataDir, { relaxedDurability: false, postgresqlconf: embeddedSettings }).catch((err: unknown) => {
      // PGlite's file errors are plain objects (`{ name: 'ErrnoError', errno }`), not Errors.
      const why =
        err instanceof Error
          ? err.message
          : typeof err === 'object' && err !== null && 'errno' in err
            ? `${String((err as { name?: unknown }).name ?? 'file error')} (errno ${String(err.errno)})`
            : String(err);
      throw new Error(`could not open the embedded database in ${record.dataDir}: ${why}`, {
        cause: err,
      });
    });
    const server = await serveEmbedded(pglite, serverOptions);
    rewriteOwnRecord(recordPath, { ...record, url: server.url });
    const db = pglite;
    let releasing: Promise<void> | undefined;
    let stopWaiting = false;
    return {
      role: 'owner',
      url: server.url,
      recordPath,
      release(release: ReleaseOptions = {}) {
        if (!release.waitForClients) stopWaiting = true;
        releasing ??= (async () => {
          try {
            for (let waited = 0; !stopWaiting && server.connections() > 0; waited += 100) {
              if (waited === 1000 || (waited > 0 && waited % 10_000 === 0)) release.onWaiting?.(server.connections());
              await new Promise((r) => setTimeout(r, 100));
            }
            await server.stop();
            await db.close();
          } finally {
            removeOwnRecord(recordPath, record.nonce);
            process.off('exit', onExit);
          }
        })();
        return releasing;
      },
    };
  } catch (err) {
    await pglite?.close().catch(() => {});
    removeOwnRecord(recordPath, record.nonce);
    process.off('exit', onExit);
    throw err;
  }
}

/** Whether something accepts connections at the URL's host and port (within 1 s). */
function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
