import { apiSection, startApi } from '@mirror/api';
import { listen, mountHealth } from '@mirror/core/http';
import type { Command } from 'commander';
import { Hono } from 'hono';
import { apiHooks, createMirrorMetrics, mountMetrics } from '../server/metrics.ts';
import { baseSections, httpSection, loadConfig, oauthSection, requireSecretBox, secretKeySection } from '../config.ts';
import { createOAuthApp } from '../oauth/oauth-app.ts';
import { createRootLogger, onShutdown, openDatabase } from '../runtime.ts';

export function registerApi(program: Command): void {
  program
    .command('api')
    .description(
      'serve the query API under /v1, with /openapi.json and /docs (PORT, default 3000), and the OAuth install flow when ECWID_CLIENT_ID is set',
    )
    .action(async () => {
      const config = loadConfig(process.env, {
        ...baseSections,
        http: httpSection,
        api: apiSection,
        oauth: oauthSection,
        secretKey: secretKeySection,
      });
      // The install flow stores tokens: sealed, so it needs the key.
      const box = config.oauth ? requireSecretBox(config.secretKey) : undefined;
      const log = createRootLogger(config.log);
      const database = await openDatabase(config.database, log, { serve: true });
      await database.migrate();
      const metrics = createMirrorMetrics(database.db);
      const root = new Hono();
      mountMetrics(root, metrics);
      mountHealth(root, () => database.checkReady());
      if (config.oauth && box)
        root.route('/', createOAuthApp({ db: database.db, box, oauth: config.oauth, log: log.child({ component: 'oauth' }) }));
      root.route('/', startApi(database, config.api, log, apiHooks(metrics)));
      const { server, port } = await listen(root, config.http.port, config.http.host);
      log.info({ port, docs: `http://localhost:${port}/docs` }, 'api listening');
      onShutdown(log, async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await database.close();
      });
    });
}
