import { listen } from '@mirror/core/http';
import { createIngest, ingestSection } from '@mirror/ingest';
import type { Command } from 'commander';
import { Hono } from 'hono';
import { createMirrorMetrics, ingestHooks, mountMetrics } from '../server/metrics.ts';
import { baseSections, httpSection, loadConfig } from '../config.ts';
import { createRootLogger, onShutdown, openDatabase } from '../runtime.ts';

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description('receive Ecwid webhooks at POST /webhooks/ecwid and append them to the log (PORT, default 3000)')
    .action(async () => {
      const config = loadConfig(process.env, { ...baseSections, http: httpSection, ingest: ingestSection });
      const log = createRootLogger(config.log);
      const database = await openDatabase(config.database, log, { serve: true });
      await database.migrate();
      const metrics = createMirrorMetrics(database.db);
      const { app, drain } = createIngest(database, config.ingest, log, ingestHooks(metrics));
      const root = new Hono();
      mountMetrics(root, metrics);
      root.route('/', app);
      const { server, port } = await listen(root, config.http.port, config.http.host);
      log.info({ port, url: `http://localhost:${port}/webhooks/ecwid` }, 'ingest listening');
      onShutdown(log, async () => {
        // Stop taking requests, let the in-flight ones commit and answer, then close the pool.
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await drain();
        await database.close();
      });
    });
}
