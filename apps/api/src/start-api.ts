import type { Logger } from '@mirror/core';
import type { Database } from '@mirror/db';
import { createApiApp, type ApiDeps } from './app.ts';
import type { ApiOptions } from './config.ts';
import { createLagHistory } from './lag-history.ts';

export type StartApiHooks = Pick<ApiDeps, 'onRequest' | 'actions'> & {
  /** Stops the lag sampler; without it the sampler runs (unref'd) for the life of the process. */
  signal?: AbortSignal;
  /** How often each store's lag is sampled for the console's chart (default 10 s). */
  lagSampleMs?: number;
};

/** Wires the API to a database. Used by the CLI and the all-in-one server. */
export function startApi(database: Database, options: ApiOptions, log: Logger, hooks: StartApiHooks = {}) {
  if (!options.adminToken) log.info('MIRROR_ADMIN_TOKEN is not set: only per-store API keys are accepted');
  if (!options.cursorSecret) log.info('API_CURSOR_SECRET is not set: pagination cursors are valid until this process exits');
  const lagHistory = createLagHistory({ db: database.db, log, ...(hooks.lagSampleMs !== undefined && { intervalMs: hooks.lagSampleMs }) });
  lagHistory.start(hooks.signal ?? new AbortController().signal);
  return createApiApp({
    db: database.db,
    adminToken: options.adminToken,
    cursorSecret: options.cursorSecret,
    keyCacheMs: options.keyCacheMs,
    log,
    lagHistory,
    ...(hooks.actions && { actions: hooks.actions }),
    ...(hooks.onRequest && { onRequest: hooks.onRequest }),
  });
}
