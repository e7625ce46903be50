import { apiSection, startApi } from '@mirror/api';
import { listen, mountHealth } from '@mirror/core/http';
import type { Command } from 'commander';
import { Hono } from 'hono';
import { apiHooks, createMirrorMetrics, mountMetrics } from '../server/metrics.ts';
import { baseSections, httpSection, loadConfig } from '../config.ts';
import { createRootLogger, onShutdown, openDatabase } from '../runtime.ts';

export function registerApi(program: Command): void {
  program
    .command('api')
    .description('serve the query API under /v1, with /openapi.json and /docs (PORT, default 3000)')
    .action(async () => {
      const config = loadConfig(process.env, { ...baseSections, http: httpSection, api: apiSection });
      const log = createRootLogger(config.log);
      const database = await openDatabase(config.database, log, { serve: true });
      await database.migrate();
      const metrics = createMirrorMetrics(database.db);
      const root = new Hono();
      mountMetrics(root, metrics);
      mountHealth(root, () => database.checkReady());
      root.route('/', startApi(database, config.api, log, apiHooks(metrics)));
      const { server, port } = await listen(root, config.http.port, config.http.host);
      log.info({ port, docs: `http://localhost:${port}/docs` }, 'api listening');
      onShutdown(log, async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await database.close();
      });
    });
}
