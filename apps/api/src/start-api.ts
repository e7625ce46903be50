import type { Logger } from '@mirror/core';
import type { Database } from '@mirror/db';
import { createApiApp, type ApiDeps } from './app.ts';
import type { ApiOptions } from './config.ts';

/** Wires the API to a database. Used by the CLI and the all-in-one server. */
export function startApi(database: Database, options: ApiOptions, log: Logger, hooks: Pick<ApiDeps, 'onRequest'> = {}) {
  if (!options.adminToken) log.info('MIRROR_ADMIN_TOKEN is not set: only per-store API keys are accepted');
  if (!options.cursorSecret) log.info('API_CURSOR_SECRET is not set: pagination cursors are valid until this process exits');
  return createApiApp({
    db: database.db,
    adminToken: options.adminToken,
    cursorSecret: options.cursorSecret,
    keyCacheMs: options.keyCacheMs,
    log,
    ...(hooks.onRequest && { onRequest: hooks.onRequest }),
  });
}
