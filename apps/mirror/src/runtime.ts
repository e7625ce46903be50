import { createDb, type Database } from '@mirror/db';
import { createLogger, type Logger } from '@mirror/core';
import type { BaseConfig } from './config.ts';

/** The root logger: JSON lines, or pino-pretty when a person is watching a terminal. */
export function createRootLogger(config: Pick<BaseConfig, 'LOG_LEVEL' | 'LOG_FORMAT'>): Logger {
  const pretty = config.LOG_FORMAT === 'pretty' || (config.LOG_FORMAT === 'auto' && process.stdout.isTTY);
  return createLogger({
    level: config.LOG_LEVEL,
    ...(pretty && { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }),
  });
}

/** Opens the configured database (Postgres, or embedded PGlite) and says which, without secrets. */
export async function openDatabase(config: Pick<BaseConfig, 'DATABASE_URL' | 'MIRROR_DATA_DIR'>, log: Logger): Promise<Database> {
  const database = await createDb({ url: config.DATABASE_URL, dataDir: config.MIRROR_DATA_DIR });
  if (database.kind === 'pglite') log.info({ dataDir: config.MIRROR_DATA_DIR }, 'using embedded PGlite (set DATABASE_URL for Postgres)');
  else log.info({ host: new URL(config.DATABASE_URL!).host }, 'using Postgres');
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
