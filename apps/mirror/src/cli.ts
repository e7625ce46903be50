import { Command, CommanderError } from 'commander';
import { registerApi } from './commands/api.ts';
import { registerApiKeys } from './commands/api-keys.ts';
import { registerBackfill } from './commands/backfill.ts';
import { registerIngest } from './commands/ingest.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerParked } from './commands/parked.ts';
import { registerProject } from './commands/project.ts';
import { registerRebuild } from './commands/rebuild.ts';
import { registerReplay } from './commands/replay.ts';
import { registerReporting } from './commands/reporting.ts';
import { registerSim } from './commands/sim.ts';
import { registerStart } from './commands/start.ts';
import { registerStatus } from './commands/status.ts';
import { registerStores } from './commands/stores.ts';
import { ConfigError } from './config.ts';

const program = new Command()
  .name('mirror')
  .description('Ecwid store mirror: a faithful, queryable copy of Ecwid stores in Postgres')
  .showHelpAfterError()
  .exitOverride();

registerStart(program);
registerMigrate(program);
registerIngest(program);
registerSim(program);
registerApi(program);
registerApiKeys(program);
registerReporting(program);
registerProject(program);
registerStores(program);
registerStatus(program);
registerParked(program);
registerBackfill(program);
registerRebuild(program);
registerReplay(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`mirror: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
