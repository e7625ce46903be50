import { kinds, type Kind } from '@mirror/catalog';
import { rebuild } from '@mirror/projector';
import { InvalidArgumentError, type Command } from 'commander';
import { baseSections, loadConfig } from '../config.ts';
import { openDatabase } from '../runtime.ts';
import { createProgressBar, createQuietLogger, entitiesArgument, exitTwoOnBadArguments, kindNames } from './command-kit.ts';

const batchSizeArgument = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1_000_000) {
    throw new InvalidArgumentError('a batch size is an integer from 1 to 1000000');
  }
  return Number(value);
};

/** `mirror rebuild [--entities …]`: recompute entity tables from the log and swap them in. */
export function registerRebuild(program: Command): void {
  exitTwoOnBadArguments(
    program
      .command('rebuild')
      .description('recompute entity tables from the log alone into shadow tables, then swap them in atomically')
      .option('--entities <list>', `comma list (default all): ${kindNames(kinds)}`, entitiesArgument(kinds))
      .option('--force', 'take over from a rebuild that looks alive')
      .option('--batch-size <n>', 'records per transaction while building (default 10000)', batchSizeArgument),
  ).action(async (options: { entities?: Kind[]; force?: boolean; batchSize?: number }) => {
    const config = loadConfig(process.env, baseSections);
    const log = createQuietLogger(config.log);
    const database = await openDatabase(config.database, log);
    const bar = createProgressBar('rebuild');
    try {
      await database.migrate();
      const result = await rebuild(database.db, {
        ...(options.entities && { entities: options.entities }),
        ...(options.force && { force: true }),
        ...(options.batchSize && { batchSize: options.batchSize }),
        // On Postgres a crashed rebuild is resumed at once (its lock ended with its session);
        // the embedded PGlite's one session is everyone's, so there the lease decides.
        lock: database.kind === 'postgres' ? 'session' : 'lease',
        // Records, of a total counted before the build starts (it grows only by what is
        // appended meanwhile, which the catch-up applies).
        onProgress: (p) => bar.update(p.records, p.total, p.phase),
      });
      bar.stop();
      process.stdout.write(
        `rebuilt ${result.tables.length} tables from ${result.records} records, up to position ${result.position}${result.resumed ? ' (resumed where an earlier rebuild stopped)' : ''}\n`,
      );
    } finally {
      bar.stop();
      await database.close();
    }
  });
}
