import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { entityCatalog, kinds, type Scope } from '@mirror/catalog';
import { describeError, type Logger, type SecretBox } from '@mirror/core';
import { execRows, livenessOf, ownerRecordPath, readOwnerRecord, storeTokensTable, type OwnerRecord } from '@mirror/db';
import { ecwidApiBaseUrl, readErrorText, storeErrorCodeFor } from '@mirror/ecwid';
import { hasRealStores, openStoreToken, readStatus } from '@mirror/projector';
import { sql } from 'drizzle-orm';
import type { StartRefusals } from '../commands/start.ts';
import type { DatabaseOptions, EcwidOptions } from '../config.ts';
import { openDatabase, type OpenedDatabase } from '../runtime.ts';

/*
 * `mirror doctor`: what stands between this configuration and a working mirror, each finding
 * with what to do about it. It reads and asks, never writes: no migration, no token sync.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One finding: `fix` says what to do when it is not ok. */
export type Check = { area: string; status: CheckStatus; detail: string; fix?: string };

/**
 * Whether `mirror start` accepts this environment: `refused`, the message it exits with; else
 * whether real stores are configured in the environment, and why it would refuse (StartRefusals:
 * some only with real stores, configured here or found in the database).
 */
export type StartConfiguration = { refused: string } | { realStoresConfigured: boolean; refusals: StartRefusals };

export type DoctorOptions = {
  /** Checked when given: what `mirror start` would say of this environment. */
  start?: StartConfiguration | undefined;
  database: DatabaseOptions;
  ecwid: EcwidOptions;
  /** Only this store (default: every store with a token, in ECWID_STORES or store_tokens). */
  storeId?: number | undefined;
  /** The URL the Ecwid app's webhooks are sent to, to probe from here. */
  webhookUrl?: URL | undefined;
  /** Opens the sealed tokens in store_tokens (MIRROR_SECRET_KEY); without it they are reported, not checked. */
  box?: SecretBox | undefined;
  log: Logger;
  now?: () => Date;
  fetch?: typeof globalThis.fetch;
  /** Per Ecwid request (default 10 s). */
  timeoutMs?: number;
};

/** Clock skew the mirror absorbs: backfill's watermark and ingest's future-dated webhooks allow 5 minutes. */
const skewLimitMs = 5 * 60_000;
const skewWarnMs = 30_000;
/** Ecwid blocks an app's webhooks when its URL has not answered for two weeks (docs/ecwid.md). */
const quietWebhooksMs = 24 * 3_600_000;

/**
 * A cheap request per access scope the catalogue asks for, so a scope Ecwid did not grant shows
 * up as its 403 INSUFFICIENT_APP_SCOPE here instead of as parked webhooks later. A new scope in
 * packages/catalog without a probe here does not compile.
 */
const scopeProbes = {
  read_store_profile: () => '/profile',
  read_catalog: () => '/products?limit=1',
  read_orders: () => '/orders?limit=1',
  read_customers: () => '/customers?limit=1',
  read_discount_coupons: () => '/discount_coupons?limit=1',
  read_promotion: () => '/promotions',
  read_reviews: () => '/reviews?limit=1',
  // Invoices are read per order: the first order the orders probe listed, if any.
  read_invoices: (orderId: string | undefined) => (orderId === undefined ? undefined : `/orders/${encodeURIComponent(orderId)}/invoices`),
} as const satisfies Record<Scope, (orderId: string | undefined) => string | undefined>;

/** Scopes the mirror needs, each with the kinds (public names) that need it, from the entity catalogue. */
export function neededScopes(): Map<Scope, string[]> {
  const needed = new Map<Scope, string[]>();
  for (const kind of kinds) {
    const { scope, name } = entityCatalog[kind];
    needed.set(scope, [...(needed.get(scope) ?? []), name]);
  }
  return needed;
}

/** Runs every check; a failing one never stops the others. */
export async function runDoctor(options: DoctorOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (check: Check) => checks.push(check);
  const now = options.now ?? (() => new Date());

  const ownership = options.database.url ? undefined : checkEmbeddedOwner(options.database.dataDir);
  if (ownership) add(ownership.check);

  let database: OpenedDatabase | undefined;
  let migrated = false;
  if (ownership?.open !== false) {
    try {
      database = await openDatabase(options.database, options.log);
      await execRows(database.db, sql`select 1`);
      const where = options.database.url
        ? `Postgres at ${new URL(options.database.url).host}`
        : `embedded PGlite in ${options.database.dataDir}`;
      add({ area: 'database', status: 'ok', detail: `${where} answers` });
      const ready = await database.checkReady();
      migrated = ready.ready;
      add(
        ready.ready
          ? { area: 'migrations', status: 'ok', detail: 'every migration of this version is applied' }
          : {
              area: 'migrations',
              status: 'fail',
              detail: ready.reason,
              fix: 'run `mirror migrate` (or start the mirror, which migrates first)',
            },
      );
    } catch (err) {
      add({
        area: 'database',
        status: 'fail',
        detail: `cannot reach the database: ${err instanceof Error ? err.message : String(err)}`,
        fix: options.database.url
          ? 'check DATABASE_URL (host, port, user, database name) and that Postgres runs and accepts connections from here'
          : `check that ${options.database.dataDir} is readable and writable by this user`,
      });
    }
  }

  if (options.start) add(await checkStartConfiguration(options.start, database && migrated ? database : undefined));

  try {
    const stores = await storesToCheck(options, database, migrated, add);
    if (stores.length === 0) {
      add(
        options.storeId === undefined
          ? {
              area: 'stores',
              status: 'warn',
              detail: 'no store configured: `mirror start` mirrors a simulated demo store',
              fix: 'set ECWID_STORES=<storeId>:<token> (and ECWID_CLIENT_SECRET) to mirror a real store',
            }
          : {
              area: `store ${options.storeId}`,
              status: 'fail',
              detail: 'no access token for this store',
              fix: `set ECWID_STORES=${options.storeId}:<token>, or run \`mirror stores add ${options.storeId} --token-env VAR\``,
            },
      );
    }
    const status = database && migrated ? await readStatus(database.db) : undefined;
    for (const store of stores) {
      for (const check of await checkStore(store, options, now)) add(check);
      const state = status?.stores.find((s) => s.storeId === store.storeId);
      if (state?.status === 'blocked' || state?.status === 'waiting_for_token' || state?.status === 'uninstalled') {
        add({
          area: `store ${store.storeId}`,
          status: 'fail',
          detail: `the mirror has this store ${state.status.replaceAll('_', ' ')}${state.lastError ? `: ${state.lastError}` : ''}`,
          fix: 'once the token works, `mirror stores add <id> --token-env VAR` (or restart with ECWID_STORES) lets it resume',
        });
      } else if (state?.status === 'paused') {
        add({
          area: `store ${store.storeId}`,
          status: 'warn',
          detail: `paused after Ecwid failures${state.lastError ? ` (${state.lastError})` : ''}; retried ${state.retryAt ? `at ${state.retryAt.toISOString()}` : 'soon'}`,
        });
      }
      if (state && state.parkedOpen > 0) {
        add({
          area: `store ${store.storeId}`,
          status: 'warn',
          detail: `${state.parkedOpen} webhook(s) parked after repeated fetch failures`,
          fix: '`mirror parked` shows why; `mirror parked retry` once the cause is fixed',
        });
      }
      if (database && migrated) add(await lastWebhook(database, store.storeId, now()));
    }
    if (options.webhookUrl) add(await probeWebhookUrl(options.webhookUrl, options));
  } finally {
    await database?.close();
  }
  return checks;
}

/** One check: `mirror start` runs with this environment, or what it exits with. */
async function checkStartConfiguration(start: StartConfiguration, database: OpenedDatabase | undefined): Promise<Check> {
  const area = 'configuration';
  // Each message as the commands print it; one of several lines (one per setting) reads as one line here.
  const refused = (commands: string, messages: readonly string[], status: CheckStatus, fix: string): Check => ({
    area,
    status,
    detail: `${commands} this environment: ${messages.map((m) => m.replace(/\s*\n\s*/g, ' ')).join('; ')}`,
    fix,
  });
  if ('refused' in start) return refused('`mirror start` refuses', [start.refused], 'fail', 'correct the variables named');
  const { always, secretKey, ingest } = start.refusals;
  if (always.length > 0) return refused('`mirror start` and `mirror ingest` refuse', always, 'fail', 'correct the variables named');
  // As `mirror start` decides: real stores in the environment, or added earlier (the database).
  const real = start.realStoresConfigured || (database !== undefined && (await hasRealStores(database.db)));
  if (!real) return { area, status: 'ok', detail: '`mirror start` accepts this environment (it mirrors the simulated demo store)' };
  if (secretKey.length > 0)
    return refused(
      '`mirror start` and `mirror project` refuse',
      [...secretKey, ...ingest],
      'fail',
      'set the variables named (see .env.example)',
    );
  // Only start and ingest take webhooks: a project or api process of a split deployment runs.
  if (ingest.length > 0)
    return refused(
      '`mirror start` and `mirror ingest` refuse',
      ingest,
      'warn',
      'set it where webhooks are received (`mirror start` or `mirror ingest`); `mirror project` and `mirror api` do not need it',
    );
  return { area, status: 'ok', detail: '`mirror start` accepts this environment' };
}

type StoreToCheck = { storeId: number; token: string };

async function storesToCheck(
  options: DoctorOptions,
  database: OpenedDatabase | undefined,
  migrated: boolean,
  add: (check: Check) => void,
): Promise<StoreToCheck[]> {
  const tokens = new Map<number, string>();
  if (database && migrated) {
    for (const row of await database.db.select().from(storeTokensTable)) {
      if (options.storeId !== undefined && row.storeId !== options.storeId) continue;
      if (row.source === 'demo') {
        // Made by `mirror start` for its simulated store, which lives and dies with that process.
        add({
          area: `store ${row.storeId}`,
          status: 'ok',
          detail: "the simulated demo store of `mirror start`: its token is the simulator's, not checked against Ecwid",
        });
        continue;
      }
      if (!row.tokenSealed) {
        if (row.token) tokens.set(row.storeId, row.token);
        continue;
      }
      // Tokens are sealed at rest (docs/decisions/0008-store-tokens-sealed-at-rest.md).
      if (!options.box) {
        add({
          area: `store ${row.storeId}`,
          status: 'fail',
          detail: 'its token is sealed and MIRROR_SECRET_KEY is not set, so it cannot be checked (nor used)',
          fix: 'set MIRROR_SECRET_KEY to the key the tokens were sealed with',
        });
        continue;
      }
      try {
        tokens.set(row.storeId, openStoreToken(options.box, row));
      } catch (err) {
        add({
          area: `store ${row.storeId}`,
          status: 'fail',
          detail: `its token does not open with MIRROR_SECRET_KEY (${describeError(err)})`,
          fix: 'set MIRROR_SECRET_KEY to the key the tokens were sealed with, or add the store again with `mirror stores add`',
        });
      }
    }
  }
  // ECWID_STORES wins: the next start writes it into store_tokens.
  for (const { storeId, token } of options.ecwid.stores) tokens.set(storeId, token);
  return [...tokens]
    .filter(([storeId]) => options.storeId === undefined || storeId === options.storeId)
    .sort(([a], [b]) => a - b)
    .map(([storeId, token]) => ({ storeId, token }));
}

/** The embedded database's owner record (decision 0005): who has the folder, and whether doctor may open it. */
function checkEmbeddedOwner(dataDir: string): { check: Check; open: boolean } {
  const area = 'embedded database';
  if (dataDir.startsWith('memory://')) return { check: { area, status: 'ok', detail: 'in memory (tests)' }, open: true };
  const recordPath = ownerRecordPath(dataDir);
  if (!existsSync(dataDir)) {
    return {
      check: {
        area,
        status: 'fail',
        detail: `no database in ${dataDir} yet`,
        fix: 'run `mirror migrate` or `pnpm start` to create it, or set DATABASE_URL to use Postgres',
      },
      open: false,
    };
  }
  let owner: OwnerRecord | undefined;
  try {
    owner = readOwnerRecord(recordPath);
  } catch (err) {
    return {
      check: { area, status: 'fail', detail: (err as Error).message, fix: `if no mirror process runs, delete ${recordPath}` },
      open: false,
    };
  }
  if (!owner)
    return { check: { area, status: 'ok', detail: `${dataDir}: no process has it open; doctor opens it for its run` }, open: true };
  const who = `process ${owner.pid} (\`${owner.command}\`, since ${owner.startedAt})`;
  if (livenessOf(owner) === 'dead') {
    return {
      check: {
        area,
        status: 'warn',
        detail: `${recordPath} names ${who}, which is gone (killed?): a stale record`,
        fix: 'nothing to do: the next mirror command removes it and opens the folder (PGlite recovers like Postgres after a crash)',
      },
      open: true,
    };
  }
  return {
    check: {
      area,
      status: 'ok',
      detail: `owned by ${who}${owner.url ? `, serving it at ${owner.url}` : ''}; doctor connects through it`,
    },
    open: true,
  };
}

type EcwidAnswer =
  | { ok: true; status: number; body: unknown; date: string | null; sentAt: number; receivedAt: number }
  | { ok: false; status: number; errorCode: string | undefined; errorMessage: string | undefined; date: string | null }
  | { ok: false; status: 0; network: string };

async function ecwidGet(options: DoctorOptions, store: StoreToCheck, path: string, now: () => Date): Promise<EcwidAnswer> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const sentAt = now().getTime();
  let res: Response;
  try {
    res = await fetchFn(`${options.ecwid.apiBaseUrl}/${store.storeId}${path}`, {
      headers: { authorization: `Bearer ${store.token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (err) {
    return { ok: false, status: 0, network: networkReason(err) };
  }
  const receivedAt = now().getTime();
  const date = res.headers.get('date');
  const text = await res.text();
  if (!res.ok) return { ok: false, status: res.status, date, ...readErrorText(text) };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { ok: true, status: res.status, body, date, sentAt, receivedAt };
}

/** Why a fetch got no answer, in the system's words (ECONNREFUSED, ENOTFOUND, TimeoutError, …). */
function networkReason(err: unknown): string {
  type Failure = { name?: string; code?: string; message?: string; cause?: Failure; errors?: Failure[] };
  const e = err as Failure;
  const cause = e.cause;
  return cause?.code ?? cause?.errors?.[0]?.code ?? (e.name === 'TimeoutError' ? 'timed out' : (cause?.message ?? e.message ?? 'error'));
}

const describeFailure = (answer: Exclude<EcwidAnswer, { ok: true }>) =>
  'network' in answer ? `no answer (${answer.network})` : `HTTP ${answer.status}${answer.errorCode ? ` ${answer.errorCode}` : ''}`;

async function checkStore(store: StoreToCheck, options: DoctorOptions, now: () => Date): Promise<Check[]> {
  const area = `store ${store.storeId}`;
  const checks: Check[] = [];
  const profile = await ecwidGet(options, store, '/profile', now);
  if (!profile.ok) {
    const code = 'network' in profile ? undefined : storeErrorCodeFor(profile.status, profile.errorCode);
    const fixes: Record<string, string> = {
      TOKEN: `Ecwid refuses the token: copy the store's secret_… token again (Ecwid admin → apps), then set ECWID_STORES=${store.storeId}:<token> or run \`mirror stores add ${store.storeId} --token-env VAR\``,
      PLAN: "the store's plan does not include API access: the merchant must upgrade",
      SUSPENDED: 'the store is suspended in Ecwid: the merchant must contact Ecwid',
      STORE_NOT_FOUND: `no store ${store.storeId} at Ecwid: check the store id in ECWID_STORES`,
      SCOPE: 'the token lacks read_store_profile: reinstall the app with its scopes',
    };
    checks.push({
      area,
      status: 'fail',
      detail: `GET /profile: ${describeFailure(profile)}`,
      fix:
        (code && fixes[code]) ??
        (options.ecwid.apiBaseUrl === ecwidApiBaseUrl
          ? 'Ecwid did not answer: check the network from here to app.ecwid.com, or try again later'
          : `nothing answered at ECWID_API_BASE_URL (${options.ecwid.apiBaseUrl}): check it`),
    });
    return checks;
  }
  checks.push({ area, status: 'ok', detail: 'Ecwid accepts the token (GET /profile)' });
  checks.push(clockCheck(area, profile));

  // Each scope the catalogue needs, probed once.
  const missing: string[] = [];
  const unchecked: string[] = [];
  const featureOff: string[] = [];
  let firstOrderId: string | undefined;
  const needed = neededScopes();
  const order: Scope[] = [...needed.keys()].sort((a, b) => Number(a === 'read_invoices') - Number(b === 'read_invoices'));
  for (const scope of order) {
    if (scope === 'read_store_profile') continue;
    const path = scopeProbes[scope](firstOrderId);
    if (path === undefined) {
      unchecked.push(`${scope} (no order to ask for invoices)`);
      continue;
    }
    const answer = await ecwidGet(options, store, path, now);
    if (answer.ok) {
      if (scope === 'read_orders') firstOrderId = firstOrderIdOf(answer.body);
      continue;
    }
    const code = 'network' in answer ? undefined : storeErrorCodeFor(answer.status, answer.errorCode);
    const kindsNeeding = needed.get(scope)?.join(', ') ?? '';
    if (code === 'SCOPE') missing.push(`${scope} (${kindsNeeding})`);
    else if (code === 'FEATURE') featureOff.push(`${kindsNeeding} (${'network' in answer ? '' : answer.errorCode})`);
    else unchecked.push(`${scope} (${describeFailure(answer)})`);
  }
  const granted = needed.size - missing.length - unchecked.length;
  checks.push(
    missing.length > 0
      ? {
          area,
          status: 'fail',
          detail: `access scopes missing: ${missing.join('; ')}`,
          fix: 'those entities cannot be fetched and their webhooks park: add the scopes to the app (ask Ecwid support for a custom app), have the merchant re-authorise it, and put the new token in ECWID_STORES',
        }
      : { area, status: 'ok', detail: `all ${granted} access scopes the mirror needs are granted (${[...needed.keys()].join(', ')})` },
  );
  if (unchecked.length > 0) checks.push({ area, status: 'warn', detail: `scopes not checked: ${unchecked.join('; ')}` });
  if (featureOff.length > 0) {
    checks.push({
      area,
      status: 'warn',
      detail: `switched off in this store: ${featureOff.join('; ')}`,
      fix: 'nothing to mirror there until the merchant turns the feature on; their webhooks are parked meanwhile',
    });
  }
  return checks;
}

function firstOrderIdOf(body: unknown): string | undefined {
  const items = (body as { items?: unknown } | undefined)?.items;
  if (!Array.isArray(items) || items.length === 0) return undefined;
  const first = items[0] as { id?: unknown; orderId?: unknown };
  const id = first.orderId ?? first.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/** Skew between our clock and Ecwid's `Date` header, against the midpoint of the request. */
function clockCheck(area: string, answer: Extract<EcwidAnswer, { ok: true }>): Check {
  const theirs = answer.date ? Date.parse(answer.date) : NaN;
  if (Number.isNaN(theirs)) return { area, status: 'warn', detail: 'clock not checked: Ecwid sent no Date header' };
  const ours = (answer.sentAt + answer.receivedAt) / 2;
  // The header has whole seconds.
  const skewMs = Math.abs(ours - theirs) <= 1500 ? 0 : ours - theirs;
  const seconds = Math.round(Math.abs(skewMs) / 1000);
  const direction = skewMs > 0 ? 'ahead of' : 'behind';
  if (Math.abs(skewMs) < skewWarnMs) {
    return { area, status: 'ok', detail: `clock within ${Math.max(seconds, 1)} s of Ecwid's (Date header)` };
  }
  const fix = "synchronise this machine's clock (NTP: `timedatectl set-ntp true`, or chrony)";
  if (Math.abs(skewMs) < skewLimitMs) {
    return { area, status: 'warn', detail: `clock ${seconds} s ${direction} Ecwid's (Date header)`, fix };
  }
  return {
    area,
    status: 'fail',
    detail: `clock ${seconds} s ${direction} Ecwid's (Date header): beyond the 5 minutes the mirror allows (webhooks dated "in the future" are ignored, and backfill's watermark can skip changes)`,
    fix,
  };
}

/** When the store's last webhook arrived: none at all usually means Ecwid cannot reach the webhook URL. */
async function lastWebhook(database: OpenedDatabase, storeId: number, now: Date): Promise<Check> {
  const area = `store ${storeId}`;
  const [row] = await execRows<{ at: Date | string | null }>(
    database.db,
    sql`select max(received_at) as at from event_log where store_id = ${storeId} and kind = 'webhook'`,
  );
  const fix =
    "check the app's webhook URL (Ecwid support sets it for custom apps): it must be https://<this host>/webhooks/ecwid, reachable from the internet; `mirror doctor --webhook-url <url>` probes it from here";
  if (!row?.at) return { area, status: 'warn', detail: 'no webhook received from Ecwid for this store yet', fix };
  const at = new Date(row.at);
  const ageMs = now.getTime() - at.getTime();
  if (ageMs > quietWebhooksMs) {
    return {
      area,
      status: 'warn',
      detail: `last webhook received ${Math.round(ageMs / 3_600_000)} h ago (${at.toISOString()}); a quiet store, or Ecwid cannot reach the webhook URL (it blocks an app whose URL fails for two weeks)`,
      fix,
    };
  }
  return { area, status: 'ok', detail: `last webhook received ${at.toISOString()}` };
}

const privateHost = (host: string) => {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local')) return true;
  if (isIP(h) === 4) return /^(127\.|10\.|192\.168\.|169\.254\.|0\.)/.test(h) || /^172\.(1[6-9]|2\d|3[01])\./.test(h);
  if (isIP(h) === 6) return h === '::1' || /^f[cd]/i.test(h) || /^fe80:/i.test(h);
  return false;
};

/**
 * Probes the webhook URL from here: an unsigned, empty webhook, which the mirror's ingest
 * refuses with 401 (400 when it does not verify signatures, which is named: a warning, or a
 * failure against the real Ecwid) and its error body. It says whether this machine reaches a
 * mirror there; whether Ecwid can (from the internet) it can only hint at.
 */
async function probeWebhookUrl(url: URL, options: DoctorOptions): Promise<Check> {
  const area = 'webhook URL';
  const realEcwid = options.ecwid.apiBaseUrl === ecwidApiBaseUrl;
  if (!url.pathname.endsWith('/webhooks/ecwid')) {
    return {
      area,
      status: 'fail',
      detail: `${url.href} does not end in /webhooks/ecwid, the mirror's ingest path`,
      fix: 'point the app at https://<host>/webhooks/ecwid',
    };
  }
  if (realEcwid && privateHost(url.hostname)) {
    return {
      area,
      status: 'fail',
      detail: `${url.hostname} is a local or private address: Ecwid's servers cannot reach it`,
      fix: 'publish the mirror under a public https:// host name (a reverse proxy or tunnel) and give Ecwid that URL',
    };
  }
  const fetchFn = options.fetch ?? globalThis.fetch;
  let res: Response;
  try {
    res = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (err) {
    const cause = networkReason(err);
    return {
      area,
      status: 'fail',
      detail: `${url.href} does not answer from here (${cause})`,
      fix: 'check DNS, the firewall and the reverse proxy in front of the mirror; the mirror serves POST /webhooks/ecwid on PORT',
    };
  }
  const body = (await res.json().catch(() => undefined)) as { error?: { code?: unknown } } | undefined;
  // The mirror refuses it as unsigned (401) or, unverified, as no webhook (400), with its error body.
  const code = body?.error?.code;
  if ((res.status === 400 && code === 'BAD_REQUEST') || (res.status === 401 && code === 'UNAUTHORIZED')) {
    // A 400 means it read the unsigned body: that ingest does not verify signatures.
    const unverified = res.status === 400;
    if (unverified && realEcwid) {
      return {
        area,
        status: 'fail',
        detail: `a mirror answers at ${url.href}, but it does not verify webhook signatures: anyone can append to its log`,
        fix: "set ECWID_CLIENT_SECRET to your Ecwid app's client_secret and remove ECWID_WEBHOOK_VERIFY=false",
      };
    }
    const warnings = [
      ...(url.protocol === 'https:' ? [] : ['it is plain http: give Ecwid an https:// URL']),
      ...(!realEcwid || !privateHost(url.hostname) ? [] : ['it is a private address']),
      ...(unverified ? ['it does not verify webhook signatures (ECWID_WEBHOOK_VERIFY=false): for local testing only'] : []),
    ];
    return warnings.length > 0
      ? { area, status: 'warn', detail: `a mirror answers at ${url.href}, but ${warnings.join('; ')}` }
      : { area, status: 'ok', detail: `a mirror answers at ${url.href} (reachable from here; Ecwid must reach it from the internet)` };
  }
  return {
    area,
    status: 'fail',
    detail: `${url.href} answers HTTP ${res.status}, not as the mirror's ingest does (401 to an unsigned webhook)`,
    fix:
      res.status === 404
        ? 'the path does not reach the mirror: check the reverse proxy forwards /webhooks/ecwid'
        : 'check what serves that URL',
  };
}
