import { durationSetting, parseEnv } from '@mirror/core';
import { z } from 'zod';

const flag = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

/** What ingest needs to know: how webhooks are verified, and how they are committed. */
export type IngestOptions = {
  /** The app's client_secret; undefined only when signatures are not verified. */
  clientSecret: string | undefined;
  /** false: accept unsigned webhooks (local testing only). */
  verifySignatures: boolean;
  /** Larger bodies get 413. */
  bodyLimitBytes: number;
  /** Most webhooks committed in one group. */
  batchMax: number;
  /** How long a lone webhook waits for company before committing. */
  batchWindowMs: number;
  /** Answer 503 when a commit takes longer. */
  appendTimeoutMs: number;
  /** Webhooks created longer ago are answered 200 `ignored` and not stored. */
  maxEventAgeMs: number;
  /** Webhooks dated further ahead of our clock are ignored too (default 5 minutes; tests only). */
  maxFutureSkewMs?: number;
};

const duration = durationSetting();

/** The ingest section of the configuration: ECWID_CLIENT_SECRET, ECWID_WEBHOOK_VERIFY and INGEST_* (and NODE_ENV, read only to refuse unsigned webhooks in production). */
export const ingestSection = z
  .object({
    ECWID_CLIENT_SECRET: z.string().min(1).optional(),
    ECWID_WEBHOOK_VERIFY: flag.default(true),
    INGEST_BODY_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(256 * 1024),
    INGEST_BATCH_MAX: z.coerce.number().int().positive().max(5000).default(200),
    INGEST_BATCH_WINDOW_MS: z.coerce.number().min(0).max(1000).default(0),
    INGEST_APPEND_TIMEOUT_MS: z.coerce.number().int().positive().default(8000),
    // Ecwid stops retrying a webhook after 24 h; twice that leaves room for a long outage here.
    // At least 24 h: a shorter window would answer Ecwid's own retries `ignored` and lose them
    // (0 would lose every webhook).
    INGEST_MAX_EVENT_AGE: duration
      .refine(
        (ms) => ms >= 24 * 3_600_000,
        'must be at least 24h: Ecwid retries a webhook for 24 h, and a shorter window ignores its retries',
      )
      .default(48 * 3_600_000),
    NODE_ENV: z.string().optional(),
  })
  .superRefine((c, ctx) => {
    // Unsigned webhooks let anyone append to the log and ask for personal-data requests: never
    // in production (the image sets NODE_ENV=production), where one log line was the only sign.
    if (!c.ECWID_WEBHOOK_VERIFY && c.NODE_ENV === 'production') {
      ctx.addIssue({
        code: 'custom',
        path: ['ECWID_WEBHOOK_VERIFY'],
        message:
          'is false while NODE_ENV=production: unsigned webhooks are for local testing only (anyone could post one); ' +
          "set ECWID_CLIENT_SECRET to your Ecwid app's client_secret, or test with another NODE_ENV",
      });
    }
    if (c.ECWID_WEBHOOK_VERIFY && !c.ECWID_CLIENT_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['ECWID_CLIENT_SECRET'],
        message:
          "is required to verify webhook signatures: set it to your Ecwid app's client_secret " +
          '(not an access token), or set ECWID_WEBHOOK_VERIFY=false to accept unsigned webhooks in local testing',
      });
    }
  })
  .transform((c): IngestOptions => ({
    clientSecret: c.ECWID_CLIENT_SECRET,
    verifySignatures: c.ECWID_WEBHOOK_VERIFY,
    bodyLimitBytes: c.INGEST_BODY_LIMIT_BYTES,
    batchMax: c.INGEST_BATCH_MAX,
    batchWindowMs: c.INGEST_BATCH_WINDOW_MS,
    appendTimeoutMs: c.INGEST_APPEND_TIMEOUT_MS,
    maxEventAgeMs: c.INGEST_MAX_EVENT_AGE,
  }));

/** Ingest's options from environment variables (for callers that need only this section). */
export function loadIngestOptions(env: NodeJS.ProcessEnv): IngestOptions {
  return parseEnv(ingestSection, env);
}
