import { projectedKinds, rebuild, type ProjectedKind } from '@mirror/projector';
import { InvalidArgumentError, type Command } from 'commander';
import { baseConfigSchema, parseEnv } from '../config.ts';
import { openDatabase } from '../runtime.ts';
import { createProgressBar, createQuietLogger, exitTwoOnBadArguments } from './command-kit.ts';

const kindList = (value: string): ProjectedKind[] => {
  const names = value.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !(projectedKinds as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(`unknown entities: ${unknown.join(', ') || '(none given)'}; choose from ${projectedKinds.join(', ')}`);
  }
  return names as ProjectedKind[];
};

/** `mirror rebuild [--entities …]`: recompute entity tables from the log and swap them in. */
export function registerRebuild(program: Command): void {
  exitTwoOnBadArguments(
    program
      .command('rebuild')
      .description('recompute entity tables from the log alone into shadow tables, then swap them in atomically')
      .option('--entities <list>', `comma list of entity kinds (default all): ${projectedKinds.join(',')}`, kindList)
      .option('--force', 'take over from a rebuild that looks alive'),
  ).action(async (options: { entities?: ProjectedKind[]; force?: boolean }) => {
    const config = parseEnv(baseConfigSchema, process.env);
    const log = createQuietLogger(config, process.env);
    const database = await openDatabase(config, log);
    const bar = createProgressBar('rebuild');
    try {
      await database.migrate();
      const result = await rebuild(database.db, {
        ...(options.entities && { entities: options.entities }),
        ...(options.force && { force: true }),
        // The build counts records (most are applied in bulk, out of log order); the phases
        // after it follow the log position.
        onProgress: (p) => (p.phase === 'build' && p.total !== undefined ? bar.update(p.records, p.total, p.phase) : bar.update(p.position, p.head, p.phase)),
      });
      bar.stop();
      process.stdout.write(`rebuilt ${result.tables.length} tables from ${result.records} records, up to position ${result.position}\n`);
    } finally {
      bar.stop();
      await database.close();
    }
  });
}
