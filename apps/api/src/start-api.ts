import { serve, type ServerType } from '@hono/node-server';
import type { Logger } from '@mirror/core';
import type { Database } from '@mirror/db';
import { createApiApp, type ApiDeps } from './app.ts';
import type { ApiConfig } from './config.ts';

/** Wires the API to a database from its config. Used by the CLI and the all-in-one server. */
export function startApi(
  database: Database,
  config: Pick<ApiConfig, 'MIRROR_ADMIN_TOKEN' | 'API_CURSOR_SECRET' | 'API_KEY_CACHE_MS'>,
  log: Logger,
  hooks: Pick<ApiDeps, 'onRequest'> = {},
) {
  if (!config.MIRROR_ADMIN_TOKEN) log.info('MIRROR_ADMIN_TOKEN is not set: only per-store API keys are accepted');
  if (!config.API_CURSOR_SECRET) log.info('API_CURSOR_SECRET is not set: pagination cursors are valid until this process exits');
  return createApiApp({
    db: database.db,
    adminToken: config.MIRROR_ADMIN_TOKEN,
    cursorSecret: config.API_CURSOR_SECRET,
    keyCacheMs: config.API_KEY_CACHE_MS,
    log,
    ...(hooks.onRequest && { onRequest: hooks.onRequest }),
  });
}

/** Listens on host:port; resolves once the socket is bound. */
export function listen(
  app: { fetch: (req: Request) => Response | Promise<Response> },
  port: number,
  host: string,
): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => resolve({ server, port: info.port }));
    server.once('error', reject);
  });
}
