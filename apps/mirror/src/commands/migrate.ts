import type { Command } from 'commander';
import { baseSections, loadConfig } from '../config.ts';
import { createRootLogger, openDatabase } from '../runtime.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (Postgres or embedded PGlite)')
    .action(async () => {
      const config = loadConfig(process.env, baseSections);
      const log = createRootLogger(config.log);
      const database = await openDatabase(config.database, log);
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
