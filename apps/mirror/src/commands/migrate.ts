import type { Command } from 'commander';
import { baseConfigSchema, parseEnv } from '../config.ts';
import { createRootLogger, openDatabase } from '../runtime.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (Postgres or embedded PGlite)')
    .action(async () => {
      const config = parseEnv(baseConfigSchema, process.env);
      const log = createRootLogger(config);
      const database = await openDatabase(config, log);
      try {
        await database.migrate();
        const state = await database.checkReady();
        if (!state.ready) throw new Error(`database not ready after migrating: ${state.reason}`);
        log.info('migrations applied');
      } finally {
        await database.close();
      }
    });
}
