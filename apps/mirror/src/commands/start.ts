import { apiSection } from '@mirror/api';
import { ingestSection } from '@mirror/ingest';
import type { Command } from 'commander';
import {
  baseSections,
  clientSecretSection,
  demoSection,
  ecwidSection,
  enrichmentSection,
  httpSection,
  loadConfig,
  parseEnv,
  projectionSection,
  reconcileSection,
} from '../config.ts';
import { createRootLogger, onShutdown, openDatabase } from '../runtime.ts';
import { startAll, type Demo } from '../server/start-all.ts';
import { exitTwoOnBadArguments } from './command-kit.ts';

/** `mirror start` (and `pnpm start`): the whole mirror in one process on one port. */
export function registerStart(program: Command): void {
  exitTwoOnBadArguments(
    program
      .command('start')
      .description(
        'run ingest, projector and query API in one process on PORT (default 3000); without ECWID_STORES, mirror a simulated demo store',
      ),
  ).action(async () => {
    const config = loadConfig(process.env, {
      ...baseSections,
      http: httpSection,
      ecwid: ecwidSection,
      secret: clientSecretSection,
      api: apiSection,
      enrichment: enrichmentSection,
      projection: projectionSection,
      reconcile: reconcileSection,
      demo: demoSection,
    });
    // Real stores need the app's secret; the demo store signs with one it makes, so ingest
    // then always verifies (its secret is set once the simulator has made it).
    const demoMode = config.ecwid.stores.length === 0;
    const ingest = demoMode
      ? {
          ...parseEnv(ingestSection, { ...process.env, ECWID_WEBHOOK_VERIFY: 'true', ECWID_CLIENT_SECRET: 'set-by-the-demo' }),
          clientSecret: config.secret.clientSecret,
        }
      : parseEnv(ingestSection, process.env);
    const log = createRootLogger(config.log);
    const database = await openDatabase(config.database, log, { serve: true });
    await database.migrate();
    const mirror = await startAll(database, { ...config, ingest }, log);
    if (mirror.demo) printDemoBanner(mirror.port, mirror.demo, database.servedUrl);
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
function printDemoBanner(port: number, demo: Demo, sqlUrl: string | undefined): void {
  const base = `http://localhost:${port}`;
  process.stdout.write(
    [
      '',
      '  DEMO MODE: no ECWID_STORES set, so the mirror is copying a SIMULATED Ecwid store.',
      `  Demo store id: ${demo.storeId}    API key for it: ${demo.apiKey}`,
      "  (a new key at every start: the previous start's demo key is revoked)",
      '',
      `    curl -H 'Authorization: Bearer ${demo.apiKey}' ${base}/v1/stores/${demo.storeId}/orders`,
      '',
      `  API reference: ${base}/docs    metrics: ${base}/metrics    webhooks: POST ${base}/webhooks/ecwid`,
      ...(sqlUrl
        ? [`  SQL (psql, BI tools; while this runs): ${sqlUrl}`, `    psql ${sqlUrl} -c 'select * from reporting.daily_sales'`]
        : []),
      '  To mirror real stores, set ECWID_CLIENT_SECRET and ECWID_STORES=<storeId>:<token> (see README).',
      '',
    ].join('\n'),
  );
}
