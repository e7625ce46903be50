import { hostname } from 'node:os';
import { claimEmbedded, createDb, type Database } from '@mirror/db';
import { createLogger, type Logger } from '@mirror/core';
import type { DatabaseOptions, LogOptions } from './config.ts';

/** The root logger: JSON lines, or pino-pretty when a person is watching a terminal. */
export function createRootLogger(options: Pick<LogOptions, 'level' | 'format'>, { toStderr = false }: { toStderr?: boolean } = {}): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && (toStderr ? process.stderr : process.stdout).isTTY);
  const prettyOptions = { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', ...(toStderr && { destination: 2 }) };
  return createLogger(
    { level: options.level, ...(pretty && { transport: { target: 'pino-pretty', options: prettyOptions } }) },
    // A transport writes where its options say; pino takes no destination beside one.
    { toStderr: toStderr && !pretty },
  );
}

let commandName = 'mirror';

/** The command being run (`mirror api-keys create`), for the embedded database's owner record. */
export function setCommandName(name: string): void {
  commandName = name;
}

export type OpenOptions = {
  /**
   * A server (start, ingest, project, api): on embedded PGlite it must own the data folder, and
   * refuses to start when another live process does. Other commands connect through the owner.
   */
  serve?: boolean;
};

export type OpenedDatabase = Database & {
  /** Set when this process owns the embedded PGlite: where psql, BI tools and other commands connect. */
  servedUrl?: string | undefined;
};

/**
 * Opens the configured database and says which, without secrets. On Postgres, a pool. On
 * embedded PGlite (no DATABASE_URL), the data folder has one owner process, which serves it on a
 * local port; every process, the owner too, talks to it through that port with postgres.js:
 * - no live owner: this process becomes it, for as long as the database is open;
 * - a live owner: a server refuses (DataDirInUseError), any other command connects through it.
 * `memory://` (tests) is opened in-process: no other process can share it.
 */
export async function openDatabase(options: DatabaseOptions, log: Logger, open: OpenOptions = {}): Promise<OpenedDatabase> {
  if (options.url) {
    const database = await createDb({ url: options.url });
    log.info({ host: new URL(options.url).host }, 'using Postgres');
    return database;
  }
  if (options.dataDir.startsWith('memory://')) {
    log.info({ dataDir: options.dataDir }, 'using in-memory PGlite (set DATABASE_URL for Postgres)');
    return createDb({ dataDir: options.dataDir });
  }
  const claim = await claimEmbedded(options.dataDir, {
    command: commandName,
    exclusive: open.serve === true,
    onWaiting: (owner, waitedMs, giveUpInMs) =>
      log.warn(
        { dataDir: options.dataDir, ownerPid: owner.pid, ownerHost: owner.host, ownerCommand: owner.command, url: owner.url },
        `still waiting for process ${owner.pid}${owner.host === hostname() ? '' : ` on host ${owner.host}`} (${owner.command}), which owns the embedded database, ` +
          `to answer after ${Math.round(waitedMs / 1000)} s: it may be busy with a long statement or still opening the folder; giving up in ${Math.round(giveUpInMs / 1000)} s`,
      ),
    server: {
      onFatal: (err: unknown) => {
        log.fatal({ err }, 'the embedded database failed; exiting');
        process.exit(1);
      },
    },
  });
  if (claim.role === 'client') {
    log.info(
      { dataDir: options.dataDir, ownerPid: claim.owner.pid, url: claim.url },
      'using embedded PGlite through the process that owns it',
    );
    return createDb({ url: claim.url, embedded: true });
  }
  const database = await createDb({ url: claim.url, embedded: true }).catch(async (err: unknown) => {
    await claim.release();
    throw err;
  });
  log.info(
    { dataDir: options.dataDir, url: claim.url, ownerRecord: claim.recordPath },
    'using embedded PGlite (set DATABASE_URL for Postgres); psql and other processes connect at url',
  );
  // A command that ends while other commands or psql are connected through it waits for them
  // (a server does not: it is being stopped).
  const waitForClients = open.serve !== true;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      try {
        await database.close();
      } finally {
        releases.delete(stopNow);
        await claim.release({
          waitForClients,
          onWaiting: (n) =>
            log.warn({ connections: n }, 'other processes are connected through this one: waiting for them to close (Ctrl-C to stop now)'),
        });
      }
    })());
  const stopNow = async () => {
    await claim.release();
    await close();
  };
  releases.add(stopNow);
  handleSignals();
  return { ...database, close, servedUrl: claim.url };
}

/** Releases of the embedded folders this process owns, for a signal that arrives outside onShutdown. */
const releases = new Set<() => Promise<void>>();
/** What a command registered with onShutdown. */
let shutdown: { log: Logger; stop: () => Promise<void> } | undefined;
let stoppingSince: number | undefined;
let signalsHandled = false;

/** A signal this soon after the first is the same interrupt relayed (pnpm passes Ctrl-C on to its child). */
const sameInterruptMs = 1000;

const exitCodeOf = (signal: NodeJS.Signals) => (signal === 'SIGINT' ? 130 : 143);

const releaseAll = () => Promise.allSettled([...releases].map((release) => release()));

/**
 * SIGINT and SIGTERM: a command's onShutdown `stop`, then exit 0 (1 if it failed); without one,
 * exit 130 or 143. Either way an embedded folder this process still owns is released first
 * (stop serving, close PGlite, remove the owner record). Another signal later than a second
 * exits at once.
 */
function handleSignals(): void {
  if (signalsHandled) return;
  signalsHandled = true;
  const handler = (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince < sameInterruptMs) return;
      process.exit(exitCodeOf(signal));
    }
    stoppingSince = Date.now();
    if (shutdown) {
      const { log, stop } = shutdown;
      log.info({ signal }, 'shutting down');
      // Then whatever embedded folder the command still owns (one whose stop only aborts its work).
      stop().then(
        () => releaseAll().then(() => process.exit(0)),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          void releaseAll().then(() => process.exit(1));
        },
      );
      return;
    }
    void releaseAll().then(() => process.exit(exitCodeOf(signal)));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/**
 * Runs `stop` once on SIGINT or SIGTERM, then exits 0; a second signal (more than a second
 * later) exits at once.
 */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  shutdown = { log, stop };
  handleSignals();
}
