import { createDb, type Database } from '@mirror/db';
import { createLogger, type Logger } from '@mirror/core';
import type { DatabaseOptions, LogOptions } from './config.ts';

/** The root logger: JSON lines, or pino-pretty when a person is watching a terminal. */
export function createRootLogger(options: Pick<LogOptions, 'level' | 'format'>): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && process.stdout.isTTY);
  return createLogger({
    level: options.level,
    ...(pretty && { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }),
  });
}

/** Opens the configured database (Postgres, or embedded PGlite) and says which, without secrets. */
export async function openDatabase(options: DatabaseOptions, log: Logger): Promise<Database> {
  const database = await createDb({ url: options.url, dataDir: options.dataDir });
  if (database.kind === 'pglite') log.info({ dataDir: options.dataDir }, 'using embedded PGlite (set DATABASE_URL for Postgres)');
  else log.info({ host: new URL(options.url!).host }, 'using Postgres');
  return database;
}

/** Runs `stop` once on SIGINT or SIGTERM, then exits; a second signal exits at once. */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    log.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
