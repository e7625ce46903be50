import { ConfigError, createSecretBox, durationSetting, parseSecretKey, SecretKeyError, type SecretBox } from '@mirror/core';
import { ecwidApiBaseUrl, ecwidOAuthBaseUrl } from '@mirror/ecwid';
import { parseEcwidStores, StoreTokensFormatError, type StoreToken } from '@mirror/projector';
import { z } from 'zod';

export { ConfigError, loadConfig, parseEnv } from '@mirror/core';

/*
 * The configuration, one section per concern. Each is a zod schema over the environment
 * variables of its concern, whose output is that concern's options in camelCase; a command
 * parses the sections it needs, once, with loadConfig(process.env, { … }), and passes the
 * options inward. Nothing below a command reads the environment. (Ingest's and the API's own
 * sections live in those apps: ingestSection, apiSection.)
 */

const positiveInt = () => z.coerce.number().int().positive();

export type DatabaseOptions = { url: string | undefined; dataDir: string };

/** DATABASE_URL (unset: embedded PGlite) and MIRROR_DATA_DIR. */
export const databaseSection = z
  .object({
    DATABASE_URL: z.url().optional(),
    MIRROR_DATA_DIR: z.string().min(1).default('./.mirror/pgdata'),
  })
  .transform((c): DatabaseOptions => ({ url: c.DATABASE_URL, dataDir: c.MIRROR_DATA_DIR }));

const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogOptions = {
  level: (typeof logLevels)[number];
  format: 'auto' | 'json' | 'pretty';
  /** Whether LOG_LEVEL was set: commands that print for a person log only warnings otherwise. */
  levelGiven: boolean;
};

/** LOG_LEVEL and LOG_FORMAT. */
export const logSection = z
  .object({ LOG_LEVEL: z.enum(logLevels).optional(), LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto') })
  .transform((c): LogOptions => ({ level: c.LOG_LEVEL ?? 'info', format: c.LOG_FORMAT, levelGiven: c.LOG_LEVEL !== undefined }));

export type HttpOptions = { port: number; host: string };

/** PORT and HOST. */
export const httpSection = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default('0.0.0.0'),
  })
  .transform((c): HttpOptions => ({ port: c.PORT, host: c.HOST }));

export type EcwidOptions = {
  apiBaseUrl: string;
  /** ECWID_STORES, parsed: the stores to mirror and their tokens (empty: none configured). */
  stores: StoreToken[];
  /** Requests per minute per token, shared by everything in the process. */
  ratePerMinute: number;
};

/** ECWID_API_BASE_URL, ECWID_STORES and ECWID_RATE_LIMIT_PER_MINUTE. */
export const ecwidSection = z
  .object({
    ECWID_API_BASE_URL: z.url().default(ecwidApiBaseUrl),
    ECWID_STORES: z.string().optional(),
    ECWID_RATE_LIMIT_PER_MINUTE: positiveInt().default(600),
  })
  .transform((c, ctx): EcwidOptions => {
    let stores: StoreToken[] = [];
    try {
      stores = parseEcwidStores(c.ECWID_STORES);
    } catch (err) {
      if (!(err instanceof StoreTokensFormatError)) throw err;
      // The message names the entry by position, never its token.
      ctx.addIssue({ code: 'custom', path: ['ECWID_STORES'], message: err.message });
      return z.NEVER;
    }
    return { apiBaseUrl: c.ECWID_API_BASE_URL, stores, ratePerMinute: c.ECWID_RATE_LIMIT_PER_MINUTE };
  });

/** The app's client_secret where a command needs it without ingest (the simulator signs with it). */
export const clientSecretSection = z
  .object({ ECWID_CLIENT_SECRET: z.string().min(1).optional() })
  .transform((c) => ({ clientSecret: c.ECWID_CLIENT_SECRET }));

export type EnrichmentOptions = { concurrency: number; pollMs: number; maxAttempts: number; batchSize: number };

/** ENRICHMENT_*. */
export const enrichmentSection = z
  .object({
    // Passes mostly wait on Ecwid, so a slot is cheap; with more busy stores than slots, stores
    // queue for one (bench:lag, 10 stores, the default pool: p99 267–290 ms on 4 slots, 164–185 on 8).
    ENRICHMENT_CONCURRENCY: positiveInt().default(8),
    ENRICHMENT_POLL_MS: positiveInt().default(100),
    ENRICHMENT_MAX_ATTEMPTS: positiveInt().default(5),
    ENRICHMENT_BATCH_SIZE: positiveInt().default(500),
  })
  .transform((c): EnrichmentOptions => ({
    concurrency: c.ENRICHMENT_CONCURRENCY,
    pollMs: c.ENRICHMENT_POLL_MS,
    maxAttempts: c.ENRICHMENT_MAX_ATTEMPTS,
    batchSize: c.ENRICHMENT_BATCH_SIZE,
  }));

export type ProjectionOptions = { idleMs: number };

/** PROJECTION_IDLE_MS. */
export const projectionSection = z
  .object({ PROJECTION_IDLE_MS: positiveInt().default(100) })
  .transform((c): ProjectionOptions => ({ idleMs: c.PROJECTION_IDLE_MS }));

export type DemoOptions = { rate: number; seed: number };

/** MIRROR_DEMO_RATE and MIRROR_DEMO_SEED. */
export const demoSection = z
  .object({
    MIRROR_DEMO_RATE: z.coerce.number().positive().max(1000).default(2),
    MIRROR_DEMO_SEED: z.coerce.number().int().min(0).default(1),
  })
  .transform((c): DemoOptions => ({ rate: c.MIRROR_DEMO_RATE, seed: c.MIRROR_DEMO_SEED }));

/** METRICS_PORT (`mirror project` only): unset, no HTTP server; set, /metrics and health there (0: a free port). */
export const metricsSection = z
  .object({ METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional() })
  .transform((c) => ({ port: c.METRICS_PORT }));

export type PersonalDataOptions = { erasureWebhooks: 'confirm' | 'run' };

/**
 * PERSONAL_DATA_WEBHOOK_ERASURE: `confirm` (default), an erasure Ecwid's webhook asks for waits
 * for an operator (`mirror personal-data confirm`); `run`, it runs at once (docs/personal-data.md).
 */
export const personalDataSection = z
  .object({
    PERSONAL_DATA_WEBHOOK_ERASURE: z.enum(['confirm', 'run'], { error: 'must be confirm or run' }).default('confirm'),
  })
  .transform((c): PersonalDataOptions => ({ erasureWebhooks: c.PERSONAL_DATA_WEBHOOK_ERASURE }));

export type ReconcileOptions = { intervalMs: number; fullIntervalMs: number; maxShare: number };

/**
 * RECONCILE_INTERVAL (incremental, default 1h; 0 turns the schedule off), RECONCILE_FULL_INTERVAL
 * (full, default 24h) and RECONCILE_MAX_SHARE (of the token's rate, default 0.2): the sweep
 * `mirror project` and `mirror start` run by themselves (docs/reconcile.md).
 */
export const reconcileSection = z
  .object({
    RECONCILE_INTERVAL: durationSetting().default(3_600_000),
    RECONCILE_FULL_INTERVAL: durationSetting()
      .default(86_400_000)
      .refine((ms) => ms > 0, 'must be longer than 0'),
    RECONCILE_MAX_SHARE: z.coerce.number().gt(0, 'must be above 0').max(1, 'must be at most 1').default(0.2),
  })
  .transform((c): ReconcileOptions => ({
    intervalMs: c.RECONCILE_INTERVAL,
    fullIntervalMs: c.RECONCILE_FULL_INTERVAL,
    maxShare: c.RECONCILE_MAX_SHARE,
  }));

export type SecretKeyOptions = { box: SecretBox | undefined };

/**
 * MIRROR_SECRET_KEY: 32 random bytes (64 hex digits or base64) that seal the stores' access
 * tokens in the database (docs/decisions/0008-store-tokens-sealed-at-rest.md). Optional here;
 * the commands that read or write tokens require it (requireSecretBox).
 */
export const secretKeySection = z.object({ MIRROR_SECRET_KEY: z.string().optional() }).transform((c, ctx): SecretKeyOptions => {
  if (!c.MIRROR_SECRET_KEY) return { box: undefined };
  try {
    return { box: createSecretBox(parseSecretKey(c.MIRROR_SECRET_KEY)) };
  } catch (err) {
    if (!(err instanceof SecretKeyError)) throw err;
    // The message never echoes the value.
    ctx.addIssue({ code: 'custom', path: ['MIRROR_SECRET_KEY'], message: err.message.replace(/^MIRROR_SECRET_KEY /, '') });
    return z.NEVER;
  }
});

/** The key that opens the stores' tokens, or a configuration error (exit 2) that says what to set. */
export function requireSecretBox(options: SecretKeyOptions, why = "to seal and open the stores' access tokens"): SecretBox {
  if (options.box) return options.box;
  throw new ConfigError(
    `MIRROR_SECRET_KEY is not set: it is needed ${why}. Set it to 32 random bytes, e.g. MIRROR_SECRET_KEY=$(openssl rand -base64 32), and keep it safe: without it the stored tokens cannot be read`,
  );
}

export type OAuthOptions = {
  clientId: string;
  clientSecret: string;
  /** Where the mirror is reachable from the merchant's browser; the redirect_uri is built on it. */
  publicUrl: string;
  /** Ecwid's OAuth root (`/authorize`, `/token` under it). */
  baseUrl: string;
};

/**
 * The OAuth install flow (`GET /oauth/ecwid/install`, `/callback`): ECWID_CLIENT_ID turns it on
 * and then needs ECWID_CLIENT_SECRET and MIRROR_PUBLIC_URL; ECWID_OAUTH_BASE_URL defaults to
 * Ecwid's. Undefined when ECWID_CLIENT_ID is unset.
 */
export const oauthSection = z
  .object({
    ECWID_CLIENT_ID: z.string().min(1).optional(),
    ECWID_CLIENT_SECRET: z.string().min(1).optional(),
    MIRROR_PUBLIC_URL: z.url().optional(),
    ECWID_OAUTH_BASE_URL: z.url().default(ecwidOAuthBaseUrl),
  })
  .transform((c, ctx): OAuthOptions | undefined => {
    if (!c.ECWID_CLIENT_ID) return undefined;
    const missing = (['ECWID_CLIENT_SECRET', 'MIRROR_PUBLIC_URL'] as const).filter((name) => !c[name]);
    for (const name of missing)
      ctx.addIssue({ code: 'custom', path: [name], message: 'required when ECWID_CLIENT_ID is set (the OAuth install flow)' });
    if (missing.length > 0) return z.NEVER;
    return {
      clientId: c.ECWID_CLIENT_ID,
      clientSecret: c.ECWID_CLIENT_SECRET!,
      publicUrl: c.MIRROR_PUBLIC_URL!,
      baseUrl: c.ECWID_OAUTH_BASE_URL,
    };
  });

/** What most commands need: where the database is and how to log. */
export const baseSections = { database: databaseSection, log: logSection };
