import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { describeError } from '@mirror/core';
import { DataDirInUseError, sqlState } from '@mirror/db';
import { Command, CommanderError } from 'commander';
import { DrizzleQueryError } from 'drizzle-orm';
import { registerApi } from './commands/api.ts';
import { registerApiKeys } from './commands/api-keys.ts';
import { registerBackfill } from './commands/backfill.ts';
import { exitTwoOnBadArguments, UsageError } from './commands/command-kit.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerIngest } from './commands/ingest.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerParked } from './commands/parked.ts';
import { registerPersonalData } from './commands/personal-data.ts';
import { registerProject } from './commands/project.ts';
import { registerReconcile } from './commands/reconcile.ts';
import { registerRebuild } from './commands/rebuild.ts';
import { registerReplay } from './commands/replay.ts';
import { registerReporting } from './commands/reporting.ts';
import { registerSim } from './commands/sim.ts';
import { registerStart } from './commands/start.ts';
import { registerStatus } from './commands/status.ts';
import { registerSecrets } from './commands/secrets.ts';
import { registerStores } from './commands/stores.ts';
import { ConfigError } from './config.ts';
import { setCommandName } from './runtime.ts';

/*
 * Exit codes: 0 done; 1 failed; 2 bad arguments or configuration (a one-line message, then the
 * command's usage); 3 the embedded database is in use by another process (a server refuses to
 * share it); 130/143 interrupted by SIGINT/SIGTERM (a server that stops cleanly on either exits 0).
 */

/** The CLI's version: apps/mirror/package.json's. */
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('mirror')
  .description('Ecwid store mirror: a faithful, queryable copy of Ecwid stores in Postgres')
  .version(version, '-V, --version', 'print the version')
  .showHelpAfterError()
  .showSuggestionAfterError();

registerStart(program);
registerMigrate(program);
registerIngest(program);
registerSim(program);
registerApi(program);
registerApiKeys(program);
registerReporting(program);
registerProject(program);
registerStores(program);
registerSecrets(program);
registerStatus(program);
registerParked(program);
registerBackfill(program);
registerReconcile(program);
registerPersonalData(program);
registerRebuild(program);
registerReplay(program);
registerDoctor(program);

/** Every command and subcommand, at any depth. */
const everyCommand = (command: Command): Command[] => [command, ...command.commands.flatMap(everyCommand)];

// Each command, however deep (`api-keys create`): bad arguments exit 2, after the message and
// the command's usage; an unknown command also suggests the nearest one.
for (const command of everyCommand(program)) exitTwoOnBadArguments(command).showHelpAfterError().showSuggestionAfterError();

let running: Command = program;
program.hook('preAction', (_, action) => {
  running = action;
  const names = [];
  for (let c: Command | null = action; c; c = c.parent) names.unshift(c.name());
  setCommandName(names.join(' '));
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // commander has printed its message (and the usage) already.
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (err instanceof UsageError) {
    process.stderr.write(`error: ${err.message}\n\n${running.helpInformation()}`);
    process.exit(2);
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof DataDirInUseError) {
    const { pid, host } = err.owner;
    // A record written on another machine (a shared or copied folder): its pid means nothing here.
    if (host !== hostname()) {
      process.stderr.write(
        `mirror: ${err.message}, on host ${host}.\n` +
          `Stop it there; if no mirror runs on ${host} any more (the folder was copied, or a container was recreated), delete ${err.recordPath}.\n`,
      );
      process.exit(3);
    }
    process.stderr.write(
      `mirror: ${err.message}.\n` +
        (err.reason === 'exclusive'
          ? `A server (start, ingest, project, api) needs the embedded database to itself: stop process ${pid} first ` +
            `(Ctrl-C in its terminal, or kill ${pid}), or set DATABASE_URL to a Postgres to run several. ` +
            'Other commands (status, backfill, api-keys, …) run beside it and connect through it.\n'
          : `It may be busy with a long statement: try again, or stop process ${pid}. ` +
            `If process ${pid} is not a mirror, delete ${err.recordPath}.\n`),
    );
    process.exit(3);
  }
  process.stderr.write(`mirror: ${unexpectedErrorText(err)}\n`);
  process.exit(1);
}

/**
 * An error nothing above expected, for the operator: the database's own words and SQLSTATE for a
 * statement it refused, never drizzle's wrapper, whose message is the statement and its
 * parameters (a page of SQL, and the values it was given, which can be a customer's).
 */
function unexpectedErrorText(err: unknown): string {
  const cause = err instanceof DrizzleQueryError && err.cause !== undefined ? err.cause : err;
  // The drivers' own errors (postgres.js, PGlite): a Node error's code (EROFS) is no SQLSTATE.
  const fromDatabase = err instanceof DrizzleQueryError || (cause instanceof Error && /^(PostgresError|DatabaseError)$/.test(cause.name));
  if (!fromDatabase) return err instanceof Error ? err.message : String(err);
  const state = sqlState(cause);
  // Class 22 (data exception) quotes the value it refused, which can be a customer's.
  const words = state?.startsWith('22') ? 'a value it was given does not fit' : describeError(cause, { withName: false });
  return `the database refused a statement: ${words}${state ? ` (SQLSTATE ${state})` : ''}`;
}
