import { apiSection } from '@mirror/api';
import { ingestSection } from '@mirror/ingest';
import { demoSecretBox, hasRealStores } from '@mirror/projector';
import type { Command } from 'commander';
import {
  baseSections,
  ConfigError,
  clientSecretSection,
  demoSection,
  ecwidSection,
  enrichmentSection,
  httpSection,
  loadConfig,
  oauthSection,
  parseEnv,
  personalDataSection,
  projectionSection,
  reconcileSection,
  requireSecretBox,
  secretKeySection,
} from '../config.ts';
import { createRootLogger, onShutdown, openDatabase } from '../runtime.ts';
import { startAll, type Demo } from '../server/start-all.ts';
import { exitTwoOnBadArguments } from './command-kit.ts';

/** What `mirror start` reads from the environment (`mirror doctor` checks the same). */
export const startSections = {
  ...baseSections,
  http: httpSection,
  ecwid: ecwidSection,
  secret: clientSecretSection,
  api: apiSection,
  enrichment: enrichmentSection,
  projection: projectionSection,
  reconcile: reconcileSection,
  personalData: personalDataSection,
  demo: demoSection,
  oauth: oauthSection,
  secretKey: secretKeySection,
};

/** ECWID_STORES or ECWID_CLIENT_ID: the mirror is for real stores, whatever the database holds. */
export const realStoresConfigured = (config: { ecwid: { stores: readonly unknown[] }; oauth: unknown }): boolean =>
  config.ecwid.stores.length > 0 || config.oauth !== undefined;

/** The ingest settings as the demo reads them: it signs its own webhooks with a secret it makes. */
const demoIngestEnv = (env: NodeJS.ProcessEnv) => ({ ...env, ECWID_WEBHOOK_VERIFY: 'true', ECWID_CLIENT_SECRET: 'set-by-the-demo' });

/** Why `mirror start` would refuse this environment, beyond the sections' own checks, each message as it prints it. */
export type StartRefusals = {
  /** In any mode: an ingest setting it cannot use (INGEST_*). */
  always: string[];
  /** With real stores: no key to seal their tokens (every process that opens them needs it). */
  secretKey: string[];
  /** With real stores: the ingest's webhook secret, which only `mirror start` and `mirror ingest` need. */
  ingest: string[];
};

export function startRefusals(config: { secretKey: Parameters<typeof requireSecretBox>[0] }, env: NodeJS.ProcessEnv): StartRefusals {
  const refused = (check: () => unknown): string[] => {
    try {
      check();
      return [];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return [err.message];
    }
  };
  const always = refused(() => parseEnv(ingestSection, demoIngestEnv(env)));
  return {
    always,
    secretKey: refused(() => requireSecretBox(config.secretKey)),
    // What the demo's own secret does not already explain.
    ingest: always.length > 0 ? [] : refused(() => parseEnv(ingestSection, env)),
  };
}

/** `mirror start` (and `pnpm start`): the whole mirror in one process on one port. */
export function registerStart(program: Command): void {
  exitTwoOnBadArguments(
    program
      .command('start')
      .description(
        'run ingest, projector and query API in one process on PORT (default 3000), with the OAuth install flow when ECWID_CLIENT_ID is set; with no store configured, mirror a simulated demo store',
      ),
  ).action(async () => {
    const config = loadConfig(process.env, startSections);
    // Real stores are configured (ECWID_STORES, ECWID_CLIENT_ID): their tokens need the key, and
    // the check comes before anything is opened.
    const configured = realStoresConfigured(config);
    if (configured) requireSecretBox(config.secretKey);
    const log = createRootLogger(config.log);
    const database = await openDatabase(config.database, log, { serve: true });
    let demoMode: boolean;
    let box;
    try {
      await database.migrate();
      // Demo mode only when nothing real is configured, here or in the database (stores added
      // with `mirror stores add` or installed by OAuth earlier).
      demoMode = !configured && !(await hasRealStores(database.db));
      box = demoMode ? (config.secretKey.box ?? (await demoSecretBox(database.db))) : requireSecretBox(config.secretKey);
    } catch (err) {
      await database.close();
      throw err;
    }
    // Real stores need the app's secret; the demo store signs with one it makes, so ingest
    // then always verifies (its secret is set once the simulator has made it).
    const ingest = demoMode
      ? {
          ...parseEnv(ingestSection, demoIngestEnv(process.env)),
          clientSecret: config.secret.clientSecret,
        }
      : parseEnv(ingestSection, process.env);
    const mirror = await startAll(database, { ...config, ingest, oauth: config.oauth, box, demoMode }, log);
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
      `  Operator console: ${base}/ (sign in with the key above)`,
      `  API reference: ${base}/docs    metrics: ${base}/metrics    webhooks: POST ${base}/webhooks/ecwid`,
      ...(sqlUrl
        ? [`  SQL (psql, BI tools; while this runs): ${sqlUrl}`, `    psql ${sqlUrl} -c 'select * from reporting.daily_sales'`]
        : []),
      '  To mirror real stores, set MIRROR_SECRET_KEY, ECWID_CLIENT_SECRET and ECWID_STORES=<storeId>:<token>,',
      '  or ECWID_CLIENT_ID and MIRROR_PUBLIC_URL to install the mirror as an Ecwid app (see README).',
      '',
    ].join('\n'),
  );
}
