import { parseEnv } from '@mirror/core';
import { z } from 'zod';

/** What the query API needs to know besides the database. */
export type ApiOptions = {
  /** Reads every store. Undefined: only per-store keys (`mirror api-keys create`) work. */
  adminToken: string | undefined;
  /** Signs pagination cursors; undefined: a random key per process (cursors die with it). */
  cursorSecret: string | undefined;
  /** How long an API-key lookup is reused (a revoked key works at most this long). */
  keyCacheMs: number;
};

/** The API section of the configuration: MIRROR_ADMIN_TOKEN, API_CURSOR_SECRET, API_KEY_CACHE_MS. */
export const apiSection = z
  .object({
    MIRROR_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters (use a long random value)').optional(),
    API_CURSOR_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    API_KEY_CACHE_MS: z.coerce.number().int().min(0).max(300_000).default(5000),
  })
  .transform((c): ApiOptions => ({ adminToken: c.MIRROR_ADMIN_TOKEN, cursorSecret: c.API_CURSOR_SECRET, keyCacheMs: c.API_KEY_CACHE_MS }));

/** The API's options from environment variables (for callers that need only this section). */
export function loadApiOptions(env: NodeJS.ProcessEnv): ApiOptions {
  return parseEnv(apiSection, env);
}
