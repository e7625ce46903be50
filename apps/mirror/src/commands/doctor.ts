import { InvalidArgumentError, type Command } from 'commander';
import { baseSections, ConfigError, ecwidSection, loadConfig, secretKeySection } from '../config.ts';
import { runDoctor, type Check, type StartConfiguration } from '../doctor/run-doctor.ts';
import { realStoresConfigured, startRefusals, startSections } from './start.ts';
import { createQuietLogger, exitTwoOnBadArguments, storeIdArgument } from './command-kit.ts';

const webhookUrlArgument = (value: string): URL => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('a webhook URL is an absolute http(s) URL, e.g. https://mirror.example.com/webhooks/ecwid');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidArgumentError('a webhook URL is http(s)');
  return url;
};

const marks = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const satisfies Record<Check['status'], string>;

/**
 * `mirror doctor`: checks the database and its migrations, each store's token, scopes and clock
 * against Ecwid, the webhook URL and the embedded database's owner, and says what to fix.
 * Exit 0 when nothing failed (warnings allowed), 1 otherwise, 2 on bad arguments.
 */
export function registerDoctor(program: Command): void {
  exitTwoOnBadArguments(
    program
      .command('doctor')
      .description(
        "check the database and migrations, each store's token, access scopes and clock against Ecwid, the webhook URL and the embedded database's owner; print what to fix (exit 1 on any failure)",
      )
      .option('--store <id>', 'check only this store', storeIdArgument)
      .option('--webhook-url <url>', 'the URL the Ecwid app sends webhooks to: probe it from here', webhookUrlArgument)
      .option('--json', 'print the checks as JSON'),
  ).action(async (options: { store?: number; webhookUrl?: URL; json?: boolean }) => {
    const config = loadConfig(process.env, { ...baseSections, ecwid: ecwidSection, secretKey: secretKeySection });
    const log = createQuietLogger(config.log);
    const checks = await runDoctor({
      start: startConfiguration(),
      database: config.database,
      ecwid: config.ecwid,
      storeId: options.store,
      webhookUrl: options.webhookUrl,
      box: config.secretKey.box,
      log,
    });
    const failed = checks.filter((c) => c.status === 'fail').length;
    const warned = checks.filter((c) => c.status === 'warn').length;
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ healthy: failed === 0, checks }, null, 2)}\n`);
    } else {
      const width = Math.max(...checks.map((c) => c.area.length));
      for (const check of checks) {
        process.stdout.write(`${marks[check.status]}  ${check.area.padEnd(width)}  ${check.detail}\n`);
        if (check.fix && check.status !== 'ok') process.stdout.write(`      ${' '.repeat(width)}  fix: ${check.fix}\n`);
      }
      process.stdout.write(
        failed === 0
          ? `\nhealthy${warned > 0 ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}\n`
          : `\n${failed} check${failed === 1 ? '' : 's'} failed${warned > 0 ? `, ${warned} warning${warned === 1 ? '' : 's'}` : ''}: fix the FAIL lines above\n`,
      );
    }
    if (failed > 0) process.exitCode = 1;
  });
}

/** Whether `mirror start` would run with this environment, as it decides (see StartConfiguration). */
function startConfiguration(): StartConfiguration {
  let config;
  try {
    config = loadConfig(process.env, startSections);
  } catch (err) {
    if (err instanceof ConfigError) return { refused: err.message };
    throw err;
  }
  return { realStoresConfigured: realStoresConfigured(config), refusals: startRefusals(config, process.env) };
}
