import { listen, loadApiConfig, startApi } from '@mirror/api';
import { mountHealth } from '@mirror/ingest';
import type { Command } from 'commander';
import { Hono } from 'hono';
import { apiHooks, createMirrorMetrics, mountMetrics } from '../server/metrics.ts';
import { baseConfigSchema, parseEnv } from '../config.ts';
import { createRootLogger, onShutdown, openDatabase } from '../runtime.ts';

export function registerApi(program: Command): void {
  program
    .command('api')
    .description('serve the query API under /v1, with /openapi.json and /docs (PORT, default 3000)')
    .action(async () => {
      const apiConfig = loadApiConfig(process.env);
      const config = parseEnv(baseConfigSchema, process.env);
      const log = createRootLogger(config);
      const database = await openDatabase(config, log);
      await database.migrate();
      const metrics = createMirrorMetrics(database.db);
      const root = new Hono();
      mountMetrics(root, metrics);
      mountHealth(root, () => database.checkReady());
      root.route('/', startApi(database, apiConfig, log, apiHooks(metrics)));
      const { server, port } = await listen(root, apiConfig.PORT, apiConfig.HOST);
      log.info({ port, docs: `http://localhost:${port}/docs` }, 'api listening');
      onShutdown(log, async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await database.close();
      });
    });
}
