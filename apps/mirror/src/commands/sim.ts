import { writeFileSync } from 'node:fs';
import { runSimulatorServer, type RunSummary } from '@mirror/ecwid-sim';
import { type Command, InvalidArgumentError } from 'commander';
import { clientSecretSection, loadConfig, logSection } from '../config.ts';
import { createRootLogger, onShutdown } from '../runtime.ts';
import { usageError } from './command-kit.ts';

const integer =
  (name: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER ? `${name} must be an integer ≥ ${min}` : `${name} must be an integer from ${min} to ${max}`,
      );
    return n;
  };

const share = (name: string) => (value: string) => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError(`${name} must be a share between 0 and 1, e.g. 0.02`);
  return n;
};

const rate = (value: string) => {
  const n = Number(value.replace(/\/s$/, ''));
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('rate must be a positive number of changes per second, e.g. 5 or 5/s');
  return n;
};

type SimCliOptions = {
  port: number;
  target?: string;
  seed: number;
  rate: number;
  storeId: number;
  token?: string;
  scopes?: string[];
  dropWebhooks: number;
  silent: number;
  duplicate: number;
  reorder: number;
  changes?: number;
  truth?: string;
  truthReads: 'live' | 'after';
};

export function registerSim(program: Command): void {
  program
    .command('sim')
    .description('run a simulated Ecwid store (REST API + signed webhooks) for tests and demos; never for production')
    .option('--port <port>', 'port for the simulated REST API', integer('port', 0, 65535), 4000)
    .option('--target <url>', 'webhook URL to deliver live changes to, e.g. http://localhost:3000/webhooks/ecwid')
    .option('--seed <n>', 'seed for the generated store', integer('seed', 0), 1)
    .option('--rate <n/s>', 'store changes per second when --target is set', rate, 1)
    .option('--store-id <id>', 'store id of the simulated store', integer('store id', 1), 1003)
    .option('--token <token>', 'access token the simulated API accepts (default: random)')
    .option(
      '--scopes <list>',
      'access scopes the store granted, comma-separated (default: all); others get 403 INSUFFICIENT_APP_SCOPE',
      (v: string) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
    )
    // A lossy day (docs/reconcile.md): what Ecwid does to webhooks, and changes that send none.
    .option('--drop-webhooks <share>', 'share of webhooks lost for good, as after Ecwid gives up retrying', share('--drop-webhooks'), 0)
    .option('--silent <share>', 'share of changes that send no webhook at all (every event type, deletes included)', share('--silent'), 0)
    .option('--duplicate <share>', 'share of webhooks delivered twice', share('--duplicate'), 0)
    .option('--reorder <share>', 'share of webhooks delivered late, after later ones', share('--reorder'), 0)
    .option('--changes <n>', 'with --target: make n changes as fast as they are answered, then keep serving the API', integer('changes', 1))
    .option(
      '--truth <file>',
      "with --target: write the ground truth (every change, its webhook's fate, what a mirror has wrong) here on exit",
    )
    // Which mirror the truth describes: one reading each delivered webhook's entity as it comes
    // (a mirror running during the day) misses a change whose webhook was lost after an earlier
    // one was read; one whose workers run after the day reads the latest of every entity named.
    .option(
      '--truth-reads <when>',
      'the mirror --truth describes: live (it read each delivered entity as its webhook came) or after (its workers ran after the day)',
      (v: string) => {
        if (v !== 'live' && v !== 'after') throw new InvalidArgumentError('must be live or after');
        return v;
      },
      'live',
    )
    .action(async (options: SimCliOptions) => {
      const config = loadConfig(process.env, { log: logSection, ecwid: clientSecretSection });
      const log = createRootLogger(config.log);
      if (options.target) {
        try {
          new URL(options.target);
        } catch {
          throw usageError(`--target must be a URL, got "${options.target}"`);
        }
      }
      if (!options.target && (options.changes !== undefined || options.truth !== undefined))
        throw usageError('--changes and --truth need --target (where to send the webhooks)');
      const lossy = {
        dropRate: options.dropWebhooks,
        silentRate: options.silent,
        duplicateRate: options.duplicate,
        reorderRate: options.reorder,
      };
      const isLossy = Object.values(lossy).some((v) => v > 0) || options.truth !== undefined;
      const writeTruth = () => {
        if (!options.truth || !running.activity) return;
        writeFileSync(
          options.truth,
          `${JSON.stringify(running.activity.groundTruth({ reads: options.truthReads === 'live' ? 'onDelivery' : 'atEnd' }), null, 2)}\n`,
        );
      };
      const running = await runSimulatorServer({
        port: options.port,
        seed: options.seed,
        ratePerSecond: options.rate,
        storeId: options.storeId,
        log,
        // Sign with the secret ingest verifies with, when one is configured.
        ...(config.ecwid.clientSecret && { clientSecret: config.ecwid.clientSecret }),
        ...(options.token && { token: options.token }),
        ...(options.scopes && { scopes: options.scopes }),
        ...(options.target && { target: options.target }),
        ...(isLossy && { lossy }),
        ...(options.changes !== undefined && {
          changes: options.changes,
          onChangesDone: (summary: RunSummary) => {
            writeTruth();
            process.stdout.write(
              `made ${summary.steps} changes: ${summary.webhooks} webhooks, ${summary.silent} silent, ${summary.dropped} dropped, ` +
                `${summary.delivered} delivered (${summary.duplicated} twice, ${summary.reordered} late), ${summary.failed} refused` +
                `${options.truth ? `; ground truth in ${options.truth}` : ''}\n`,
            );
          },
        }),
      });
      // These are the simulator's own made-up credentials, printed so a person can use them.
      process.stdout.write(
        [
          '',
          'Simulated Ecwid store (test/demo only)',
          `  REST API base URL:    ${running.url}        (ECWID_API_BASE_URL)`,
          `  store id:             ${running.storeId}`,
          `  access token:         ${running.token}`,
          `  app client secret:    ${running.clientSecret}`,
          '  to mirror it, run with MIRROR_SECRET_KEY set (`openssl rand -base64 32`) and:',
          `    ECWID_API_BASE_URL=${running.url} ECWID_STORES=${running.storeId}:${running.token} ECWID_CLIENT_SECRET=${running.clientSecret}`,
          '  or install it as an app (OAuth: then open http://localhost:3000/oauth/ecwid/install) with:',
          `    ECWID_API_BASE_URL=${running.url} ECWID_OAUTH_BASE_URL=${running.oauthUrl} ECWID_CLIENT_ID=${running.clientId} ECWID_CLIENT_SECRET=${running.clientSecret} MIRROR_PUBLIC_URL=http://localhost:3000`,
          options.target
            ? `  webhooks to:          ${options.target} ${options.changes !== undefined ? `(${options.changes} changes now)` : `at ${options.rate}/s`}`
            : '  webhooks:             off (pass --target to send them)',
          ...(isLossy
            ? [
                `  lossy:                ${lossy.dropRate} dropped for good, ${lossy.silentRate} of changes silent, ${lossy.duplicateRate} duplicated, ${lossy.reorderRate} late`,
              ]
            : []),
          '',
        ].join('\n'),
      );
      onShutdown(log, async () => {
        await running.close();
        writeTruth();
      });
    });
}
