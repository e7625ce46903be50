import { parseEnv } from '@mirror/core';
import { z } from 'zod';

const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Reads every store. Optional: without it only per-store keys (`mirror api-keys create`) work. */
  MIRROR_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters (use a long random value)').optional(),
  /** Signs pagination cursors; set it (same value everywhere) to keep cursors valid across restarts and instances. */
  API_CURSOR_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  API_KEY_CACHE_MS: z.coerce.number().int().min(0).max(300_000).default(5000),
});

export type ApiConfig = z.infer<typeof configSchema>;

/** The only reader of environment variables for the API (database settings come from the CLI's base config). */
export function loadApiConfig(env: NodeJS.ProcessEnv): ApiConfig {
  return parseEnv(configSchema, env);
}
