import { grantReporting } from '@mirror/db';
import { type Command, InvalidArgumentError } from 'commander';
import { baseSections, loadConfig } from '../config.ts';
import { createRootLogger, openDatabase } from '../runtime.ts';

/** Checked here, so a bad name is a usage error (exit 2) before any database is opened. */
function roleArgument(value: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value)) throw new InvalidArgumentError('a role is a lowercase SQL identifier, e.g. mirror_reporting');
  return value;
}

export function registerReporting(program: Command): void {
  const reporting = program.command('reporting').description('SQL reporting views (schema `reporting`, see docs/reporting.md)');
  reporting
    .command('grant')
    .description('create the read-only role that BI tools use: entity tables and reporting views, never the log')
    .option('--role <name>', 'role to create or update (a lowercase SQL identifier)', roleArgument, 'mirror_reporting')
    .action(async (options: { role: string }) => {
      const config = loadConfig(process.env, baseSections);
      const log = createRootLogger(config.log);
      const database = await openDatabase(config.database, log);
      try {
        await database.migrate();
        await grantReporting(database.db, options.role);
        log.info({ role: options.role }, 'reporting role granted');
        process.stdout.write(
          config.database.url
            ? `granted read access to "${options.role}"; give it to a login role with:\n  GRANT ${options.role} TO <your_bi_user>;\n`
            : // PGlite has one user and no passwords: whoever connects is `postgres`, so a login
              // role cannot be enforced; a session takes the role itself (docs/reporting.md).
              `granted read access to "${options.role}" in the embedded database. It serves every connection as ` +
                `"postgres" (no other logins, no passwords), so start each session (or your BI tool's ` +
                `connection init SQL) with:\n  SET ROLE ${options.role};\nFor logins of their own, use Postgres (DATABASE_URL).\n`,
        );
      } finally {
        await database.close();
      }
    });
}
