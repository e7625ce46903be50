import { replay } from '@mirror/projector';
import type { Command } from 'commander';
import { baseSections, loadConfig } from '../config.ts';
import { openDatabase } from '../runtime.ts';
import { createProgressBar, createQuietLogger, exitTwoOnBadArguments, positionArgument } from './command-kit.ts';

/** `mirror replay --from <position>`: re-apply the log after a position onto the live tables. */
export function registerReplay(program: Command): void {
  exitTwoOnBadArguments(
    program
      .command('replay')
      .description('re-apply snapshot/tombstone records after a log position to the live tables (idempotent)')
      .requiredOption('--from <position>', 'log position to replay after (0: the whole log)', positionArgument),
  ).action(async (options: { from: number }) => {
    const config = loadConfig(process.env, baseSections);
    const log = createQuietLogger(config.log);
    const database = await openDatabase(config.database, log);
    const bar = createProgressBar('replay', { unit: 'log positions' });
    try {
      const result = await replay(database.db, { from: options.from, onProgress: (p) => bar.update(p.position, p.head) });
      bar.stop();
      process.stdout.write(
        options.from >= result.head
          ? `replayed 0 records: nothing after position ${options.from} (the log ends at ${result.head})\n`
          : `replayed ${result.records} records after position ${options.from}, up to position ${result.position}\n`,
      );
    } finally {
      bar.stop();
      await database.close();
    }
  });
}
