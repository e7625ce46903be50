import { z } from 'zod';

export { ConfigError, parseEnv } from '@mirror/core';

/** Settings every command shares. Each command adds its own; only main code reads process.env. */
export const baseConfigSchema = z.object({
  DATABASE_URL: z.url().optional(),
  MIRROR_DATA_DIR: z.string().min(1).default('./.mirror/pgdata'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;
