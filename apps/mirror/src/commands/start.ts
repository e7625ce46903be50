import { loadApiConfig } from '@mirror/api';
import { loadIngestConfig } from '@mirror/ingest';
import { parseEcwidStores, StoreTokensFormatError } from '@mirror/projector';
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError, parseEnv } from '../config.ts';
import { createRootLogger, onShutdown, openDatabase } from '../runtime.ts';
import { startAll, type Demo } from '../server/start-all.ts';
import { ecwidConfigSchema, exitTwoOnBadArguments } from './command-kit.ts';

const startConfigSchema = ecwidConfigSchema.extend({
  ECWID_CLIENT_SECRET: z.string().min(1).optional(),
  ENRICHMENT_CONCURRENCY: z.coerce.number().int().positive().default(4),
  ENRICHMENT_POLL_MS: z.coerce.number().int().positive().default(100),
  ENRICHMENT_MAX_ATTEMPTS: z.coerce.number().int().positive().default(5),
  ENRICHMENT_BATCH_SIZE: z.coerce.number().int().positive().default(500),
  PROJECTION_IDLE_MS: z.coerce.number().int().positive().default(100),
  MIRROR_DEMO_RATE: z.coerce.number().positive().max(1000).default(2),
  MIRROR_DEMO_SEED: z.coerce.number().int().min(0).default(1),
});

/** `mirror start` (and `pnpm start`): the whole mirror in one process on one port. */
export function registerStart(program: Command): void {
  exitTwoOnBadArguments(
    program
      .command('start')
      .description(
        'run ingest, projector and query API in one process on PORT (default 3000); without ECWID_STORES, mirror a simulated demo store',
      ),
  ).action(async () => {
    const config = parseEnv(startConfigSchema, process.env);
    let stores;
    try {
      stores = parseEcwidStores(config.ECWID_STORES);
    } catch (err) {
      if (err instanceof StoreTokensFormatError) throw new ConfigError(err.message);
      throw err;
    }
    // Real stores need the app's secret; the demo store makes its own.
    const ingestConfig = loadIngestConfig(
      stores.length === 0
        ? { ...process.env, ECWID_WEBHOOK_VERIFY: 'true', ECWID_CLIENT_SECRET: config.ECWID_CLIENT_SECRET ?? 'demo' }
        : process.env,
    );
    const apiConfig = loadApiConfig(process.env);
    const log = createRootLogger(config);
    const database = await openDatabase(config, log);
    await database.migrate();
    const mirror = await startAll(
      database,
      { ...config, ...ingestConfig, ...apiConfig, ECWID_CLIENT_SECRET: config.ECWID_CLIENT_SECRET },
      stores,
      log,
    );
    if (mirror.demo) printDemoBanner(mirror.port, mirror.demo);
    onShutdown(log, async () => {
      await mirror.close();
      await database.close();
    });
  });
}

/**
 * Printed on stdout, not logged: the key belongs to a simulated store made for this run, and a
 * newcomer needs it to make a first request.
 */
function printDemoBanner(port: number, demo: Demo): void {
  const base = `http://localhost:${port}`;
  process.stdout.write(
    [
      '',
      '  DEMO MODE: no ECWID_STORES set, so the mirror is copying a SIMULATED Ecwid store.',
      `  Demo store id: ${demo.storeId}    API key for it: ${demo.apiKey}`,
      '',
      `    curl -H 'Authorization: Bearer ${demo.apiKey}' ${base}/v1/stores/${demo.storeId}/orders`,
      '',
      `  API reference: ${base}/docs    metrics: ${base}/metrics    webhooks: POST ${base}/webhooks/ecwid`,
      '  To mirror real stores, set ECWID_CLIENT_SECRET and ECWID_STORES=<storeId>:<token> (see README).',
      '',
    ].join('\n'),
  );
}
