import { apiSection, startApi } from '@mirror/api';
import { createClientFactory, workerRateLimitWaitMs } from '@mirror/projector';
import { answerUnknownRoutes, listen, mountHealth } from '@mirror/core/http';
import type { Command } from 'commander';
import { Hono } from 'hono';
import { apiHooks, createMirrorMetrics, mountMetrics } from '../server/metrics.ts';
import { createOperatorActions } from '../server/operator-actions.ts';
import { baseSections, ecwidSection, httpSection, loadConfig, oauthSection, requireSecretBox, secretKeySection } from '../config.ts';
import { createOAuthApp } from '../oauth/oauth-app.ts';
import { createRootLogger, onShutdown, openDatabase } from '../runtime.ts';

export function registerApi(program: Command): void {
  program
    .command('api')
    .description(
      'serve the query API under /v1, the operator console at /, /openapi.json and /docs (PORT, default 3000), and the OAuth install flow when ECWID_CLIENT_ID is set',
    )
    .action(async () => {
      const config = loadConfig(process.env, {
        ...baseSections,
        http: httpSection,
        api: apiSection,
        ecwid: ecwidSection,
        oauth: oauthSection,
        secretKey: secretKeySection,
      });
      // The install flow stores tokens: sealed, so it needs the key. The console's buttons open
      // them with it when it is set.
      const box = config.oauth ? requireSecretBox(config.secretKey) : config.secretKey.box;
      const log = createRootLogger(config.log);
      const database = await openDatabase(config.database, log, { serve: true });
      await database.migrate();
      const metrics = createMirrorMetrics(database.db);
      const root = new Hono();
      answerUnknownRoutes(root);
      mountMetrics(root, metrics);
      mountHealth(root, () => database.checkReady());
      // The console's retry and verify buttons call Ecwid from this process, as the CLI's commands would.
      const controller = new AbortController();
      const clientFor = createClientFactory({ baseUrl: config.ecwid.apiBaseUrl, ratePerMinute: config.ecwid.ratePerMinute, log });
      const actions = createOperatorActions({
        db: database.db,
        log,
        clientFor,
        box,
        baseUrl: config.ecwid.apiBaseUrl,
        limiter: clientFor.limiter,
        signal: controller.signal,
        maxRateLimitWaitMs: workerRateLimitWaitMs,
      });
      if (config.oauth && box)
        root.route('/', createOAuthApp({ db: database.db, box, oauth: config.oauth, log: log.child({ component: 'oauth' }) }));
      root.route('/', startApi(database, config.api, log, { ...apiHooks(metrics), actions, signal: controller.signal }));
      const { server, port } = await listen(root, config.http.port, config.http.host);
      log.info({ port, console: `http://localhost:${port}/`, docs: `http://localhost:${port}/docs` }, 'api listening');
      onShutdown(log, async () => {
        controller.abort();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await actions.idle();
        await database.close();
      });
    });
}
