/**
 * bench:lag's ingest in a process of its own, as `mirror ingest` runs beside `mirror project`
 * in production: the webhooks reach enrichment through Postgres's NOTIFY only, and its CPU is
 * counted apart from the worker's.
 */
import { createSilentLogger } from '@mirror/core';
import { listen } from '@mirror/core/http';
import { createDb, type Database } from '@mirror/db';
import { createIngest, loadIngestOptions } from '@mirror/ingest';
import { serveParent } from './child.ts';

let database: Database | undefined;
let server: Awaited<ReturnType<typeof listen>>['server'] | undefined;
let drain: (() => Promise<unknown>) | undefined;

serveParent({
  async listen(arg: { url: string; clientSecret: string }) {
    database = await createDb({ url: arg.url });
    const ingest = createIngest(database, loadIngestOptions({ ECWID_CLIENT_SECRET: arg.clientSecret }), createSilentLogger());
    drain = ingest.drain;
    const listening = await listen(ingest.app, 0, '127.0.0.1');
    server = listening.server;
    return { port: listening.port };
  },
  async close() {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await drain?.();
    await database?.close();
  },
});
