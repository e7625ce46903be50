import { parseEnv } from '@mirror/core';
import { z } from 'zod';

const flag = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

const configSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default('0.0.0.0'),
    DATABASE_URL: z.url().optional(),
    MIRROR_DATA_DIR: z.string().min(1).default('./.mirror/pgdata'),
    ECWID_CLIENT_SECRET: z.string().min(1).optional(),
    ECWID_WEBHOOK_VERIFY: flag.default(true),
    INGEST_BODY_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(256 * 1024),
    INGEST_BATCH_MAX: z.coerce.number().int().positive().max(5000).default(200),
    INGEST_BATCH_WINDOW_MS: z.coerce.number().min(0).max(1000).default(0),
    INGEST_PARALLEL_MIN_BATCH: z.coerce.number().int().positive().max(5000).default(8),
    INGEST_APPEND_TIMEOUT_MS: z.coerce.number().int().positive().default(8000),
    LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  })
  .superRefine((c, ctx) => {
    if (c.ECWID_WEBHOOK_VERIFY && !c.ECWID_CLIENT_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['ECWID_CLIENT_SECRET'],
        message:
          "is required to verify webhook signatures: set it to your Ecwid app's client_secret " +
          '(not an access token), or set ECWID_WEBHOOK_VERIFY=false to accept unsigned webhooks in local testing',
      });
    }
  });

export type IngestConfig = z.infer<typeof configSchema>;

/** The only reader of environment variables for ingest. */
export function loadIngestConfig(env: NodeJS.ProcessEnv): IngestConfig {
  return parseEnv(configSchema, env);
}
