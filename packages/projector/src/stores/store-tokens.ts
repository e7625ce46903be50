import {
  createSecretBox,
  generateSecretKey,
  parseSecretKey,
  sealedKeyId,
  tokenFingerprint,
  UnsealError,
  type SecretBox,
} from '@mirror/core';
import { enrichmentStateTable, execRows, storesTable, storeTokensTable, type Db, type Executor, type StoreTokenRow } from '@mirror/db';
import { and, eq, inArray, isNotNull, notInArray, sql } from 'drizzle-orm';
import { appendRecords } from '../enrichment/append-records.ts';
import { subjectHasher } from '../personal-data/subject-key.ts';
import { EcwidStoreError, type EcwidClient } from '@mirror/ecwid';

export type StoreToken = { storeId: number; token: string };

/** Where a token came from: ECWID_STORES, `mirror stores add`, the OAuth install, or the demo. */
export type TokenSource = 'env' | 'cli' | 'oauth' | 'demo';

export class StoreTokensFormatError extends Error {
  override readonly name = 'StoreTokensFormatError';
}

/**
 * Parses `ECWID_STORES=<storeId>:<token>,…`. Errors name the entry by position only, so a
 * malformed value never echoes a token.
 */
export function parseEcwidStores(value: string | undefined): StoreToken[] {
  if (!value?.trim()) return [];
  return value.split(',').map((entry, index) => {
    const match = /^\s*(\d+)\s*:\s*(\S+)\s*$/.exec(entry);
    if (!match) throw new StoreTokensFormatError(`ECWID_STORES entry ${index + 1} is not <storeId>:<token>`);
    return { storeId: Number(match[1]), token: match[2]! };
  });
}

/** What a sealed token is bound to: moved to another store's row, it does not open. */
const sealContext = (storeId: number) => `store_tokens:${storeId}`;

/** The token of one row: sealed (opened with the key), or left in clear by an older version. */
export function openStoreToken(box: SecretBox, row: Pick<StoreTokenRow, 'storeId' | 'token' | 'tokenSealed'>): string {
  if (row.tokenSealed !== null) return box.open(row.tokenSealed, sealContext(row.storeId));
  if (row.token !== null) return row.token;
  throw new UnsealError(`store ${row.storeId} has no token`);
}

/**
 * Every store's token, opened. A row this key cannot open (sealed with another key: a process
 * started before `mirror secrets rotate`) is left out and reported, never guessed at: the store
 * then waits instead of calling Ecwid with garbage.
 */
export async function readStoreTokens(
  db: Executor,
  box: SecretBox,
  onUnreadable?: (storeId: number, error: UnsealError) => void,
): Promise<Map<number, string>> {
  const rows = await db.select().from(storeTokensTable);
  const tokens = new Map<number, string>();
  for (const row of rows) {
    try {
      tokens.set(row.storeId, openStoreToken(box, row));
    } catch (err) {
      if (!(err instanceof UnsealError)) throw err;
      onUnreadable?.(row.storeId, err);
    }
  }
  return tokens;
}

/** A store and the version of its `store_tokens` row (xmin as text), null without one (findStores). */
export type TokenVersion = { storeId: number; tokenVersion: string | null };

/**
 * Opened tokens kept between readings (the enrichment loop reads its stores at every wake): a
 * row is read and opened again only when its version changed (any write to it: a new token, a
 * re-seal by `mirror secrets rotate`, a delete), so a steady loop neither reads store_tokens nor
 * decrypts. A row this key cannot open is remembered as such until it changes, and reported
 * through `onUnreadable` at each reading, as readStoreTokens reports it.
 */
export function createTokenCache(db: Executor, box: SecretBox) {
  const opened = new Map<number, { version: string; token: string } | { version: string; error: UnsealError }>();
  return async function tokensOf(
    stores: readonly TokenVersion[],
    onUnreadable?: (storeId: number, error: UnsealError) => void,
  ): Promise<Map<number, string>> {
    const stale = stores.filter((s) => s.tokenVersion !== null && opened.get(s.storeId)?.version !== s.tokenVersion).map((s) => s.storeId);
    for (const s of stores) if (s.tokenVersion === null) opened.delete(s.storeId);
    if (stale.length > 0) {
      // The version as it is now: the row may have changed since the stores were read.
      const rows = await db
        .select({ row: storeTokensTable, version: sql<string>`${storeTokensTable}.xmin::text` })
        .from(storeTokensTable)
        .where(inArray(storeTokensTable.storeId, stale));
      for (const id of stale) opened.delete(id);
      for (const { row, version } of rows) {
        try {
          opened.set(row.storeId, { version, token: openStoreToken(box, row) });
        } catch (err) {
          if (!(err instanceof UnsealError)) throw err;
          opened.set(row.storeId, { version, error: err });
        }
      }
    }
    const tokens = new Map<number, string>();
    for (const s of stores) {
      const entry = opened.get(s.storeId);
      if (entry === undefined) continue;
      if ('token' in entry) tokens.set(s.storeId, entry.token);
      else onUnreadable?.(s.storeId, entry.error);
    }
    return tokens;
  };
}

/** One store's token, or undefined when the mirror holds none; throws UnsealError when this key cannot open it. */
export async function readStoreToken(db: Executor, box: SecretBox, storeId: number): Promise<string | undefined> {
  const [row] = await db.select().from(storeTokensTable).where(eq(storeTokensTable.storeId, storeId));
  return row ? openStoreToken(box, row) : undefined;
}

export type RegisterOutcome = {
  /** The store had no token, or another one. */
  changed: boolean;
  /** The store was uninstalled (or never installed) and is active again: a lifecycle record was appended. */
  installed: boolean;
  /** What `mirror project` / `pnpm start` will do for it (null: nothing). */
  catchUp: 'backfill' | 'reconcile' | null;
  /** An ECWID_STORES token for an uninstalled store: kept, the store left uninstalled. */
  held?: true;
};

/**
 * Stores a store's access token (sealed) and brings the store to life: the one way in for a
 * token from the OAuth callback, `mirror stores add` or ECWID_STORES. In one transaction:
 * - the token, sealed, with its fingerprint, scopes and source;
 * - a store uninstalled (or never installed) becomes active: a `store` record (the install, now)
 *   is appended to the log, and enrichment resumes from where it stopped, so the webhooks logged
 *   while it was uninstalled are fetched with the new token;
 * - a catch-up for the worker: `backfill` for a store installed by OAuth with no data yet,
 *   `reconcile` for one coming back after an uninstall (what changed while nobody could look),
 *   nothing for a token merely replaced;
 * - a store blocked by its old token is retried at once.
 * The same token again (ECWID_STORES at every start) changes nothing.
 *
 * ECWID_STORES (source `env`) does not by itself install an uninstalled store again. It is read
 * at every start and says nothing new: the token Ecwid refused at the uninstall was destroyed
 * then, so it cannot be told from a new one, and a store erased whole keeps its token while
 * fetching stops. Its token is kept (`held`); an `application.installed` that Ecwid confirms with
 * it (decision 0004), Ecwid answering with it at a start (`confirmedByEcwid`, syncEnvTokens), an
 * OAuth install or `mirror stores add` makes the store active again.
 */
export async function registerStoreToken(
  db: Db,
  box: SecretBox,
  input: {
    storeId: number;
    token: string;
    source: TokenSource;
    scopes?: readonly string[] | null;
    now?: Date;
    /** Ecwid has just answered a request made with this token: the app is installed. */
    confirmedByEcwid?: boolean;
  },
): Promise<RegisterOutcome> {
  const { storeId, token, source } = input;
  const now = input.now ?? new Date();
  const fingerprint = tokenFingerprint(token);
  return db.transaction(async (tx) => {
    // Serialises registrations of one store (two callbacks, a callback and a CLI add).
    await execRows(tx, sql`select pg_advisory_xact_lock(hashtext('store_tokens'), ${storeId}::int)`);
    const [existing] = await tx.select().from(storeTokensTable).where(eq(storeTokensTable.storeId, storeId));
    const [state] = await tx.select().from(enrichmentStateTable).where(eq(enrichmentStateTable.storeId, storeId));
    const [store] = await tx.select({ status: storesTable.status }).from(storesTable).where(eq(storesTable.storeId, storeId));
    const uninstalled = state?.status === 'uninstalled' || store?.status === 'uninstalled';
    const sameToken = existing?.tokenFingerprint === fingerprint && existing.tokenSealed !== null;
    const scopes = input.scopes === undefined ? (existing?.scopes ?? null) : input.scopes === null ? null : [...input.scopes];
    // Ecwid's answer confirms an install, but not of a store erased whole: checked here, under the
    // registration's lock, so an erasure committed while Ecwid was asked is seen.
    const confirmed = input.confirmedByEcwid === true && !(await erasedWhole(tx, storeId));
    const held = uninstalled && source === 'env' && !confirmed;
    if (sameToken && (!uninstalled || held)) {
      if (existing.source !== source || input.scopes !== undefined) {
        await tx.update(storeTokensTable).set({ source, scopes }).where(eq(storeTokensTable.storeId, storeId));
      }
      return { changed: false, installed: false, catchUp: null, ...(held && { held }) };
    }
    if (held) {
      await saveSealedToken(tx, box, { storeId, token, source, scopes, addedAt: existing?.addedAt ?? now });
      return { changed: true, installed: false, catchUp: null, held };
    }

    const [seen] = await execRows<{ data: boolean; lifecycle: boolean }>(
      tx,
      sql`select exists (select 1 from event_log where store_id = ${storeId} and kind in ('snapshot', 'tombstone')) as data,
                 exists (select 1 from event_log where store_id = ${storeId} and entity_kind = 'store') as lifecycle`,
    );
    const data = { found: seen?.data === true };
    // Never installed (no lifecycle record in the log) or uninstalled: the token is an install.
    const installed = uninstalled || seen?.lifecycle !== true;
    // A reinstall catches up what changed meanwhile; an app install starts with the history. A
    // token given by hand for a new store leaves the history to `mirror backfill` or the first
    // scheduled (full) reconcile, as before.
    const catchUp: RegisterOutcome['catchUp'] = uninstalled
      ? 'reconcile'
      : !data.found && source === 'oauth'
        ? 'backfill'
        : (existing?.catchUp ?? null);
    await saveSealedToken(tx, box, { storeId, token, source, scopes, addedAt: now, catchUp });
    if (installed) {
      // The install as the mirror saw it; the projection orders installs and uninstalls by their
      // time, so an older `application.uninstalled` delivered late cannot undo it.
      await appendRecords(tx, [
        {
          kind: 'snapshot',
          storeId,
          entityKind: 'store',
          entityId: String(storeId),
          payload: { status: 'active', at: now.toISOString(), source },
          causedBy: [],
          fetchedAt: now,
        },
      ]);
      // Enrichment resumes at its checkpoint: nothing logged meanwhile was skipped.
      await tx
        .insert(enrichmentStateTable)
        .values({ storeId, status: 'active', lifecycleAt: now })
        .onConflictDoUpdate({
          target: enrichmentStateTable.storeId,
          set: { status: 'active', lifecycleAt: now, retryAt: null, attempts: 0, lastError: null, updatedAt: sql`now()` },
        });
    } else {
      await tx
        .update(enrichmentStateTable)
        .set({ retryAt: null })
        .where(and(eq(enrichmentStateTable.storeId, storeId), eq(enrichmentStateTable.status, 'blocked')));
    }
    return { changed: true, installed, catchUp };
  });
}

/**
 * Writes a store's token, sealed, and nothing else (no lifecycle record, no catch-up unless
 * given): registerStoreToken's last step, and how tests give a store a token.
 */
export async function saveSealedToken(
  db: Executor,
  box: SecretBox,
  input: {
    storeId: number;
    token: string;
    source: TokenSource;
    scopes?: string[] | null;
    addedAt?: Date;
    catchUp?: 'backfill' | 'reconcile' | null;
  },
): Promise<void> {
  const values = {
    token: null,
    tokenSealed: box.seal(input.token, sealContext(input.storeId)),
    tokenFingerprint: tokenFingerprint(input.token),
    scopes: input.scopes ?? null,
    source: input.source,
    addedAt: input.addedAt ?? new Date(),
    catchUp: input.catchUp ?? null,
  };
  await db
    .insert(storeTokensTable)
    .values({ storeId: input.storeId, ...values })
    .onConflictDoUpdate({ target: storeTokensTable.storeId, set: values });
}

/**
 * Makes `store_tokens` match ECWID_STORES for the rows that came from it (source `env`):
 * registers the given ones and drops env rows no longer listed. Tokens added otherwise stay.
 * An empty list changes nothing: a worker started without ECWID_STORES must not delete the
 * tokens another process was configured with (remove one with `mirror stores remove`).
 * Returns the uninstalled stores whose token it kept without installing them (registerStoreToken),
 * for the caller to say so.
 */
export async function syncEnvTokens(
  db: Db,
  box: SecretBox,
  tokens: readonly StoreToken[],
  options: {
    /**
     * Whether Ecwid answers a request made with the token (GET /profile). Asked for a listed
     * token of an uninstalled store: a reinstall gives the store a token Ecwid honours, and the
     * operator lists it here, so Ecwid's answer is the install's confirmation (decision 0004),
     * as it is for an `application.installed`. Not asked for a store erased whole: its fetching
     * stays stopped until an OAuth install or `mirror stores add`.
     */
    honoured?: (storeId: number, token: string) => Promise<boolean>;
  } = {},
): Promise<{ uninstalled: number[]; reinstalled: number[] }> {
  const uninstalled: number[] = [];
  const reinstalled: number[] = [];
  if (tokens.length === 0) return { uninstalled, reinstalled };
  const held: StoreToken[] = [];
  for (const { storeId, token } of tokens) {
    if ((await registerStoreToken(db, box, { storeId, token, source: 'env' })).held) held.push({ storeId, token });
  }
  // Asked all at once, each for a few seconds at most: a start does not wait on Ecwid (its
  // retries and backoff) before it serves. Unanswered is no; the next start asks again, and an
  // application.installed confirms it sooner.
  const { honoured } = options;
  const answers = await Promise.all(
    held.map(async ({ storeId, token }) =>
      honoured !== undefined && !(await erasedWhole(db, storeId)) ? withDeadline(honoured(storeId, token), envProbeDeadlineMs) : false,
    ),
  );
  for (const [i, { storeId, token }] of held.entries()) {
    if (answers[i] && (await registerStoreToken(db, box, { storeId, token, source: 'env', confirmedByEcwid: true })).installed)
      reinstalled.push(storeId);
    else uninstalled.push(storeId);
  }
  const listed = tokens.map((t) => t.storeId);
  await db.delete(storeTokensTable).where(and(eq(storeTokensTable.source, 'env'), notInArray(storeTokensTable.storeId, listed)));
  return { uninstalled, reinstalled };
}

/**
 * syncEnvTokens' `honoured`: asks Ecwid for the store's profile with the token. A refusal (the
 * token, or the store, unknown to Ecwid) is no; so is Ecwid out of reach, logged, and asked
 * again at the next start (or confirmed sooner by an `application.installed`).
 */
export function honouredBy(
  clientFor: (storeId: number, token: string) => Pick<EcwidClient, 'getProfile'>,
  log: { warn(fields: object, message: string): void },
): (storeId: number, token: string) => Promise<boolean> {
  return async (storeId, token) => {
    try {
      await clientFor(storeId, token).getProfile();
      return true;
    } catch (err) {
      if (!(err instanceof EcwidStoreError)) {
        log.warn({ storeId, error: err instanceof Error ? err.message : String(err) }, 'could not ask Ecwid about the store');
        return false;
      }
      // A refused token (or a store Ecwid does not know) is no. A missing scope, a feature or plan
      // the store lacks, a suspended store: Ecwid knows the token, so the app is installed.
      return err.code !== 'TOKEN' && err.code !== 'STORE_NOT_FOUND';
    }
  };
}

/** How long a start waits for Ecwid's answer about an uninstalled store's ECWID_STORES token. */
const envProbeDeadlineMs = 5_000;

/** The promise's value, or false when it has not settled within `ms` (it runs on, unheard). */
function withDeadline(answer: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return Promise.race([answer.catch(() => false), late]).finally(() => clearTimeout(timer));
}

/** Whether the store's customers were all erased (docs/personal-data.md): its fetching stays stopped. */
async function erasedWhole(db: Executor, storeId: number): Promise<boolean> {
  const [any] = await execRows<{ found: boolean }>(
    db,
    sql`select exists (select 1 from erased_subjects where store_id = ${storeId}) as found`,
  );
  if (!any?.found) return false;
  const hash = (await subjectHasher(db)).store(storeId);
  const [whole] = await execRows<{ found: boolean }>(
    db,
    sql`select exists (select 1 from erased_subjects where store_id = ${storeId} and subject_hash = ${hash}) as found`,
  );
  return whole?.found === true;
}

/** What a process logs for each store {@link syncEnvTokens} installed again, Ecwid having answered with its token. */
export const envTokenReinstalled = 'store installed again: Ecwid answers with its ECWID_STORES token; what changed meanwhile is fetched';

/** What a process logs for each store {@link syncEnvTokens} kept uninstalled. */
export const envTokenHeld =
  'store uninstalled: Ecwid refuses its ECWID_STORES token (or it was erased whole); the token is kept, and the store becomes active once Ecwid answers with it (a reinstall, at a start or by application.installed), by an OAuth install, or by `mirror stores add`';

/** Adds or replaces a store's token from the command line (source `cli`). */
export function addStoreToken(
  db: Db,
  box: SecretBox,
  storeId: number,
  token: string,
  source: TokenSource = 'cli',
): Promise<RegisterOutcome> {
  return registerStoreToken(db, box, { storeId, token, source });
}

/** Removes a store's token; its webhooks then wait (`waiting_for_token`). */
export async function removeStoreToken(db: Executor, storeId: number): Promise<boolean> {
  const rows = await db
    .delete(storeTokensTable)
    .where(eq(storeTokensTable.storeId, storeId))
    .returning({ storeId: storeTokensTable.storeId });
  return rows.length > 0;
}

/** Drops the demo's tokens (a simulator of an earlier run): a mirror of real stores has no use for them. */
export async function removeDemoTokens(db: Executor): Promise<number> {
  const rows = await db
    .delete(storeTokensTable)
    .where(eq(storeTokensTable.source, 'demo'))
    .returning({ storeId: storeTokensTable.storeId });
  return rows.length;
}

/**
 * Whether the database holds a real store (anything but the demo's): a token, or data. A store
 * whose token is gone (removed, or destroyed by a confirmed uninstall) keeps its data readable,
 * and a demo must not mix a simulated store into it, so a store with records in the log, a row
 * in `stores` or an enrichment state counts too, unless it is the demo's own (its token's source
 * is `demo`). The log's stores are found by a loose index scan (one probe per store).
 */
export async function hasRealStores(db: Executor): Promise<boolean> {
  const [row] = await execRows<{ found: boolean }>(
    db,
    sql`with recursive logged(store_id) as (
          (select store_id from event_log order by store_id limit 1)
          union all
          select (select l.store_id from event_log l where l.store_id > logged.store_id order by l.store_id limit 1)
          from logged where logged.store_id is not null
        )
        select exists (select 1 from store_tokens where source <> 'demo')
          or exists (
            select 1 from (
              select store_id from logged union select store_id from stores union select store_id from enrichment_state
            ) k
            where k.store_id is not null
              and not exists (select 1 from store_tokens d where d.source = 'demo' and d.store_id = k.store_id)
          ) as found`,
  );
  return row?.found === true;
}

/**
 * Seals tokens an older version left in clear (column `token`), in one transaction. Run by every
 * process that holds the key, at start; a no-op once done.
 */
export async function sealPlaintextTokens(db: Db, box: SecretBox): Promise<number> {
  return db.transaction(async (tx) => {
    const rows = await tx.select().from(storeTokensTable).where(isNotNull(storeTokensTable.token)).for('update');
    for (const row of rows) {
      const token = row.token!;
      await tx
        .update(storeTokensTable)
        .set({ token: null, tokenSealed: box.seal(token, sealContext(row.storeId)), tokenFingerprint: tokenFingerprint(token) })
        .where(eq(storeTokensTable.storeId, row.storeId));
    }
    return rows.length;
  });
}

export class RotationError extends Error {
  override readonly name = 'RotationError';
}

/**
 * `mirror secrets rotate`: re-seals every token with the new key, in place and in one
 * transaction (all or nothing). Tokens already sealed with the new key are left alone, so a
 * rotation that was interrupted, or run twice, finishes cleanly; tokens in clear are sealed too.
 * A token neither key opens stops the rotation, naming its store (never the token).
 */
export async function rotateSecretKey(db: Db, from: SecretBox, to: SecretBox): Promise<{ resealed: number; alreadyNew: number }> {
  if (from.keyId === to.keyId) throw new RotationError('the old and the new key are the same key');
  return db.transaction(async (tx) => {
    const rows = await tx.select().from(storeTokensTable).orderBy(storeTokensTable.storeId).for('update');
    let resealed = 0;
    let alreadyNew = 0;
    for (const row of rows) {
      if (row.tokenSealed !== null && sealedKeyId(row.tokenSealed) === to.keyId) {
        alreadyNew++;
        continue;
      }
      let token: string;
      try {
        token = openStoreToken(from, row);
      } catch (err) {
        throw new RotationError(`store ${row.storeId}: its token does not open with the old key (${(err as Error).message})`, {
          cause: err,
        });
      }
      await tx
        .update(storeTokensTable)
        .set({ token: null, tokenSealed: to.seal(token, sealContext(row.storeId)), tokenFingerprint: tokenFingerprint(token) })
        .where(eq(storeTokensTable.storeId, row.storeId));
      resealed++;
    }
    return { resealed, alreadyNew };
  });
}

export type StoreTokenListing = {
  storeId: number;
  tokenFingerprint: string | null;
  source: string;
  scopes: string[] | null;
  addedAt: Date;
  catchUp: string | null;
};

/** Every store with a token; the token itself never leaves, only its fingerprint. */
export async function listStoreTokens(db: Executor): Promise<StoreTokenListing[]> {
  const rows = await db.select().from(storeTokensTable).orderBy(storeTokensTable.storeId);
  return rows.map((r) => ({
    storeId: r.storeId,
    tokenFingerprint: r.tokenFingerprint,
    source: r.source,
    scopes: r.scopes,
    addedAt: r.addedAt,
    catchUp: r.catchUp,
  }));
}

/** Stores whose new token asked for a catch-up (backfill or reconcile) not yet done. */
export async function storesToCatchUp(db: Executor): Promise<{ storeId: number; catchUp: 'backfill' | 'reconcile' }[]> {
  const rows = await db
    .select({ storeId: storeTokensTable.storeId, catchUp: storeTokensTable.catchUp })
    .from(storeTokensTable)
    .where(inArray(storeTokensTable.catchUp, ['backfill', 'reconcile']))
    .orderBy(storeTokensTable.addedAt);
  return rows.map((r) => ({ storeId: r.storeId, catchUp: r.catchUp! }));
}

/** Marks a store's catch-up done, unless a newer token asked for another meanwhile. */
export async function finishCatchUp(db: Executor, storeId: number, asked: 'backfill' | 'reconcile', addedAt?: Date): Promise<void> {
  await db
    .update(storeTokensTable)
    .set({ catchUp: null })
    .where(
      and(
        eq(storeTokensTable.storeId, storeId),
        eq(storeTokensTable.catchUp, asked),
        addedAt ? eq(storeTokensTable.addedAt, addedAt) : undefined,
      ),
    );
}

const demoKeyName = 'demo_token_key';

/**
 * The demo's own key (demo mode only, when MIRROR_SECRET_KEY is unset): made once and kept in
 * `mirror_keys`, beside what it seals. That protects nothing, and needs not to: the demo store's
 * token is the simulator's, made for one run. A mirror of real stores refuses to start without
 * MIRROR_SECRET_KEY instead.
 */
export async function demoSecretBox(db: Db): Promise<SecretBox> {
  await execRows(
    db,
    sql`insert into mirror_keys (name, secret) values (${demoKeyName}, ${generateSecretKey()}) on conflict (name) do nothing`,
  );
  const [row] = await execRows<{ secret: string }>(db, sql`select secret from mirror_keys where name = ${demoKeyName}`);
  return createSecretBox(parseSecretKey(row!.secret));
}
