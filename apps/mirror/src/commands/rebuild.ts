import { kinds, type Kind } from '@mirror/catalog';
import { rebuild } from '@mirror/projector';
import type { Command } from 'commander';
import { baseSections, loadConfig } from '../config.ts';
import { openDatabase } from '../runtime.ts';
import { createProgressBar, createQuietLogger, entitiesArgument, exitTwoOnBadArguments, kindNames } from './command-kit.ts';

/** `mirror rebuild [--entities …]`: recompute entity tables from the log and swap them in. */
export function registerRebuild(program: Command): void {
  exitTwoOnBadArguments(
    program
      .command('rebuild')
      .description('recompute entity tables from the log alone into shadow tables, then swap them in atomically')
      .option('--entities <list>', `comma list (default all): ${kindNames(kinds)}`, entitiesArgument(kinds))
      .option('--force', 'take over from a rebuild that looks alive'),
  ).action(async (options: { entities?: Kind[]; force?: boolean }) => {
    const config = loadConfig(process.env, baseSections);
    const log = createQuietLogger(config.log);
    const database = await openDatabase(config.database, log);
    const bar = createProgressBar('rebuild');
    try {
      await database.migrate();
      const result = await rebuild(database.db, {
        ...(options.entities && { entities: options.entities }),
        ...(options.force && { force: true }),
        // Records, of a total counted before the build starts (it grows only by what is
        // appended meanwhile, which the catch-up applies).
        onProgress: (p) => bar.update(p.records, p.total, p.phase),
      });
      bar.stop();
      process.stdout.write(`rebuilt ${result.tables.length} tables from ${result.records} records, up to position ${result.position}\n`);
    } finally {
      bar.stop();
      await database.close();
    }
  });
}
