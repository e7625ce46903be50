import { createHash, randomBytes } from 'node:crypto';
import { requiredScopes } from '@mirror/catalog';
import { describeError, type Logger, type SecretBox } from '@mirror/core';
import { oauthStatesTable, sqlState, type Db } from '@mirror/db';
import { buildAuthorizeUrl, exchangeOAuthCode, OAuthExchangeError } from '@mirror/ecwid';
import { registerStoreToken } from '@mirror/projector';
import { and, eq, gt, isNull, lt } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { OAuthOptions } from '../config.ts';

export type OAuthAppDeps = {
  db: Db;
  box: SecretBox;
  oauth: OAuthOptions;
  log: Logger;
  /** How long an install attempt's state stays valid (the merchant signs in and grants meanwhile). */
  stateTtlMs?: number;
  now?: () => Date;
  fetch?: typeof globalThis.fetch;
};

export const installPath = '/oauth/ecwid/install';
export const callbackPath = '/oauth/ecwid/callback';

const hashState = (state: string) => createHash('sha256').update(state, 'utf8').digest('hex');

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

/** The page a merchant's browser lands on: what happened, in words, and never a code or token. */
function page(c: Context, status: ContentfulStatusCode, title: string, lines: string[]) {
  c.header('cache-control', 'no-store');
  c.header('referrer-policy', 'no-referrer');
  return c.html(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
      `<body style="font-family:system-ui,sans-serif;max-width:40em;margin:3em auto"><h1>${escapeHtml(title)}</h1>` +
      lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('') +
      `</body></html>`,
    status,
  );
}

/**
 * The Ecwid app install flow (docs/ecwid.md §6):
 * - `GET /oauth/ecwid/install` makes a random state for this attempt (kept only as a hash, valid
 *   for `stateTtlMs`) and redirects to Ecwid's authorize URL with the app's client_id, the
 *   redirect_uri under MIRROR_PUBLIC_URL and the scopes of the kinds the mirror mirrors;
 * - `GET /oauth/ecwid/callback?code&state` uses the state up (atomically: a replay or a second
 *   tab finds it used), exchanges the code (POST, form body), and registers the store: its token
 *   sealed, the install in the log, and its backfill and first reconcile queued for the worker.
 * A forged, replayed or stale callback, or a refused exchange, answers a page saying so and
 * stores nothing. The state is checked before the code is sent to Ecwid: exchanging a code twice
 * would disable the token the first exchange gave.
 */
export function createOAuthApp(deps: OAuthAppDeps): Hono {
  const { db, box, oauth, log, stateTtlMs = 15 * 60_000, now = () => new Date() } = deps;
  // Relative to MIRROR_PUBLIC_URL's path too (a mirror behind a proxy under /mirror/).
  const redirectUri = new URL(callbackPath.slice(1), oauth.publicUrl.endsWith('/') ? oauth.publicUrl : `${oauth.publicUrl}/`).toString();
  const scopes = requiredScopes();
  const app = new Hono();

  app.get(installPath, async (c) => {
    const state = randomBytes(32).toString('base64url');
    const at = now();
    await db
      .insert(oauthStatesTable)
      .values({ stateHash: hashState(state), createdAt: at, expiresAt: new Date(at.getTime() + stateTtlMs) });
    // Attempts long gone are of no use, even as history.
    await db.delete(oauthStatesTable).where(lt(oauthStatesTable.expiresAt, new Date(at.getTime() - 7 * 86_400_000)));
    c.header('cache-control', 'no-store');
    return c.redirect(buildAuthorizeUrl({ baseUrl: oauth.baseUrl, clientId: oauth.clientId, redirectUri, scopes, state }), 302);
  });

  app.get(callbackPath, async (c) => {
    const state = c.req.query('state');
    const code = c.req.query('code');
    const ecwidError = c.req.query('error');
    if (!state) {
      log.warn({ reason: 'no_state' }, 'oauth callback refused');
      return page(c, 400, 'Install not completed', [
        'This link carries no state: it did not come from an install started here.',
        `Start the install again at ${installPath}.`,
      ]);
    }
    const at = now();
    // The state is used up and the code recorded at once: a code another callback brought
    // (with any state) fails the unique index, and nothing is sent to Ecwid.
    let claimed: { stateHash: string } | undefined;
    try {
      [claimed] = await db
        .update(oauthStatesTable)
        .set({ usedAt: at, ...(code && !ecwidError && { codeHash: hashState(code) }) })
        .where(and(eq(oauthStatesTable.stateHash, hashState(state)), isNull(oauthStatesTable.usedAt), gt(oauthStatesTable.expiresAt, at)))
        .returning({ stateHash: oauthStatesTable.stateHash });
    } catch (err) {
      if (sqlState(err) !== '23505') throw err;
      log.warn({ reason: 'used_code' }, 'oauth callback refused');
      return page(c, 400, 'Install not completed', [
        'This install code was already used: Ecwid gives each code for one exchange, and a second one would cut off the store.',
        `Start the install again at ${installPath}.`,
      ]);
    }
    if (!claimed) {
      const [known] = await db
        .select()
        .from(oauthStatesTable)
        .where(eq(oauthStatesTable.stateHash, hashState(state)));
      const reason = !known ? 'unknown_state' : known.usedAt ? 'used_state' : 'expired_state';
      log.warn({ reason }, 'oauth callback refused');
      const why = {
        unknown_state: 'This link was not issued by this mirror (or the attempt is long gone).',
        used_state: 'This link was already used: an install is completed once.',
        expired_state: 'This link expired: the install took too long.',
      }[reason];
      return page(c, 400, 'Install not completed', [why, `Start the install again at ${installPath}.`]);
    }
    const finish = (outcome: string, storeId?: number) =>
      db
        .update(oauthStatesTable)
        .set({ outcome, ...(storeId !== undefined && { storeId }) })
        .where(eq(oauthStatesTable.stateHash, claimed.stateHash));
    if (ecwidError || !code) {
      const reason = ecwidError && /^[\w.-]{1,64}$/.test(ecwidError) ? ecwidError : 'no_code';
      await finish(`ecwid:${reason}`);
      log.warn({ reason }, 'oauth install not granted');
      return page(c, 400, 'Install not completed', [`Ecwid did not grant the app access (${reason}).`, `Start again at ${installPath}.`]);
    }

    let grant;
    try {
      grant = await exchangeOAuthCode({
        baseUrl: oauth.baseUrl,
        clientId: oauth.clientId,
        clientSecret: oauth.clientSecret,
        code,
        redirectUri,
        ...(deps.fetch && { fetch: deps.fetch }),
      });
    } catch (err) {
      if (!(err instanceof OAuthExchangeError)) throw err;
      await finish(`exchange:${err.reason}`);
      log.warn({ reason: err.reason, status: err.status, error: describeError(err) }, 'oauth code exchange failed');
      return page(c, err.reason === 'unavailable' ? 502 : 400, 'Install not completed', [
        err.reason === 'unavailable'
          ? 'Ecwid could not be reached to complete the install.'
          : `Ecwid refused to complete the install (${err.message}).`,
        `Start again at ${installPath}.`,
      ]);
    }
    const outcome = await registerStoreToken(db, box, {
      storeId: grant.storeId,
      token: grant.accessToken,
      source: 'oauth',
      scopes: grant.scopes,
    });
    await finish('installed', grant.storeId);
    log.info(
      {
        storeId: grant.storeId,
        scopes: grant.scopes,
        reinstall: outcome.installed && outcome.catchUp === 'reconcile',
        catchUp: outcome.catchUp,
      },
      'store installed',
    );
    const missing = scopes.filter((s) => !grant.scopes.includes(s));
    return page(c, 200, 'Store installed', [
      `Ecwid store ${grant.storeId} is now mirrored.`,
      outcome.catchUp === 'backfill'
        ? 'Its history is being copied now; `mirror status` shows the progress.'
        : outcome.catchUp === 'reconcile'
          ? 'The mirror is catching up with what changed while it was away; `mirror status` shows the progress.'
          : 'Its token was renewed.',
      ...(missing.length > 0 ? [`Not granted: ${missing.join(', ')}. What needs those scopes is not mirrored.`] : []),
    ]);
  });

  // Anything else under /oauth/ecwid: a clear 404, not the API's.
  app.all('/oauth/ecwid/*', (c) => page(c, 404, 'Not found', [`The install starts at ${installPath}.`]));
  return app;
}
