import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { SimStore } from '../../store/sim-store.ts';

/*
 * Ecwid's OAuth for apps, as the mirror relies on it (docs/ecwid.md §6):
 * - GET /api/oauth/authorize?client_id&redirect_uri&response_type=code&scope&state: the merchant
 *   (here: signed in to the simulator's current store, or `store_id=` for tests) grants the app,
 *   and is redirected to redirect_uri with `code` and `state` (or `error`);
 * - POST /api/oauth/token (form body): client_id, client_secret, code, redirect_uri,
 *   grant_type=authorization_code → `{access_token, token_type: "Bearer", scope, store_id}`.
 * Codes are single-use and short-lived; exchanging a code a second time also disables the token
 * the first exchange issued, as Ecwid does. A new token replaces the store's previous one.
 */

export type SimOAuthOptions = {
  clientId: string;
  clientSecret: string;
  /** Scopes Ecwid configured for the app: a request for any other is refused (`invalid_scope`). */
  appScopes: readonly string[];
  /** How long a code can be exchanged. */
  codeTtlMs: number;
};

type IssuedCode = { storeId: number; redirectUri: string; scopes: string[]; expiresAt: number; exchangedToken?: string };

export type SimOAuth = {
  /** The store whose merchant is signed in: authorize grants for it. */
  merchantStoreId: number | undefined;
  /** Codes issued and exchanged so far (tests). */
  stats: { authorized: number; exchanged: number; refused: number };
};

export function createOAuthRoutes(deps: {
  stores: ReadonlyMap<number, SimStore>;
  options: SimOAuthOptions;
  now: () => number;
  state: SimOAuth;
}): Hono {
  const { stores, options, now, state } = deps;
  const codes = new Map<string, IssuedCode>();
  const oauthError = (c: Context, status: 400 | 401, error: string, description: string) => {
    state.stats.refused++;
    return c.json({ error, error_description: description }, status);
  };

  return new Hono()
    .get('/authorize', (c) => {
      const q = (name: string) => c.req.query(name) ?? '';
      const redirectUri = q('redirect_uri');
      if (q('client_id') !== options.clientId) return c.text('Unknown client_id', 400);
      let target: URL;
      try {
        target = new URL(redirectUri);
      } catch {
        return c.text('redirect_uri is not a URL', 400);
      }
      const back = (params: Record<string, string>) => {
        for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
        if (q('state')) target.searchParams.set('state', q('state'));
        return c.redirect(target.toString(), 302);
      };
      if (q('response_type') !== 'code') return back({ error: 'unsupported_response_type' });
      const scopes = q('scope')
        .split(/[\s,]+/)
        .filter(Boolean);
      if (scopes.some((s) => !options.appScopes.includes(s))) return back({ error: 'invalid_scope' });
      const storeId = c.req.query('store_id') ? Number(c.req.query('store_id')) : state.merchantStoreId;
      if (storeId === undefined || !stores.has(storeId)) return back({ error: 'access_denied' });
      const code = randomBytes(16).toString('hex');
      // read_store_profile is always granted.
      const granted = [...new Set(['read_store_profile', ...scopes])];
      codes.set(code, { storeId, redirectUri, scopes: granted, expiresAt: now() + options.codeTtlMs });
      state.stats.authorized++;
      return back({ code });
    })
    .post('/token', async (c) => {
      const form = new URLSearchParams(await c.req.text());
      if (form.get('client_id') !== options.clientId || form.get('client_secret') !== options.clientSecret) {
        return oauthError(c, 401, 'invalid_client', 'Unknown client or wrong client_secret');
      }
      if (form.get('grant_type') !== 'authorization_code') return oauthError(c, 400, 'unsupported_grant_type', 'grant_type');
      const issued = codes.get(form.get('code') ?? '');
      if (!issued || issued.redirectUri !== form.get('redirect_uri')) {
        return oauthError(c, 400, 'invalid_grant', 'Unknown code or redirect_uri');
      }
      const store = stores.get(issued.storeId)!;
      if (issued.exchangedToken !== undefined) {
        // A code exchanged twice: the token it gave is disabled too.
        if (store.token === issued.exchangedToken) store.uninstall();
        return oauthError(c, 400, 'invalid_grant', 'The code was already used');
      }
      if (now() > issued.expiresAt) return oauthError(c, 400, 'invalid_grant', 'The code expired');
      const token = `secret_${randomBytes(16).toString('hex')}`;
      issued.exchangedToken = token;
      store.install(token);
      state.stats.exchanged++;
      return c.json({ access_token: token, token_type: 'Bearer', scope: issued.scopes.join(' '), store_id: issued.storeId });
    });
}
