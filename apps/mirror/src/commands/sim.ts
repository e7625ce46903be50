import { runSimulatorServer } from '@mirror/ecwid-sim';
import { type Command, InvalidArgumentError } from 'commander';
import { clientSecretSection, loadConfig, logSection } from '../config.ts';
import { createRootLogger, onShutdown } from '../runtime.ts';
import { usageError } from './command-kit.ts';

const integer = (name: string, min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
  return n;
};

const rate = (value: string) => {
  const n = Number(value.replace(/\/s$/, ''));
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('rate must be a positive number of changes per second, e.g. 5 or 5/s');
  return n;
};

export function registerSim(program: Command): void {
  program
    .command('sim')
    .description('run a simulated Ecwid store (REST API + signed webhooks) for tests and demos; never for production')
    .option('--port <port>', 'port for the simulated REST API', integer('port', 0), 4000)
    .option('--target <url>', 'webhook URL to deliver live changes to, e.g. http://localhost:3000/webhooks/ecwid')
    .option('--seed <n>', 'seed for the generated store', integer('seed', 0), 1)
    .option('--rate <n/s>', 'store changes per second when --target is set', rate, 1)
    .option('--store-id <id>', 'store id of the simulated store', integer('store id', 1), 1003)
    .option('--token <token>', 'access token the simulated API accepts (default: random)')
    .action(async (options: { port: number; target?: string; seed: number; rate: number; storeId: number; token?: string }) => {
      const config = loadConfig(process.env, { log: logSection, ecwid: clientSecretSection });
      const log = createRootLogger(config.log);
      if (options.target) {
        try {
          new URL(options.target);
        } catch {
          throw usageError(`--target must be a URL, got "${options.target}"`);
        }
      }
      const running = await runSimulatorServer({
        port: options.port,
        seed: options.seed,
        ratePerSecond: options.rate,
        storeId: options.storeId,
        log,
        // Sign with the secret ingest verifies with, when one is configured.
        ...(config.ecwid.clientSecret && { clientSecret: config.ecwid.clientSecret }),
        ...(options.token && { token: options.token }),
        ...(options.target && { target: options.target }),
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
          '  to mirror it, run with:',
          `    ECWID_API_BASE_URL=${running.url} ECWID_STORES=${running.storeId}:${running.token} ECWID_CLIENT_SECRET=${running.clientSecret}`,
          options.target
            ? `  webhooks to:          ${options.target} at ${options.rate}/s`
            : '  webhooks:             off (pass --target to send them)',
          '',
        ].join('\n'),
      );
      onShutdown(log, () => running.close());
    });
}
