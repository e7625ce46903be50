import { z } from 'zod';

/*
 * Ecwid's OAuth for apps (docs/ecwid.md §6): the merchant is sent to `{base}/authorize` with the
 * app's client_id, redirect_uri, `response_type=code`, the scopes (space-separated) and a state;
 * Ecwid sends them back to redirect_uri with a single-use `code`, which the app exchanges with a
 * POST (form body) to `{base}/token`. Tokens do not expire; a reinstall brings a new one.
 */

/** Where Ecwid's authorize and token endpoints live. */
export const ecwidOAuthBaseUrl = 'https://my.ecwid.com/api/oauth';

/** The URL the merchant's browser is sent to, to grant the app its scopes. */
export function buildAuthorizeUrl(input: {
  baseUrl?: string;
  clientId: string;
  redirectUri: string;
  scopes: readonly string[];
  state: string;
}): string {
  const url = new URL(`${(input.baseUrl ?? ecwidOAuthBaseUrl).replace(/\/+$/, '')}/authorize`);
  url.searchParams.set('client_id', input.clientId);
  url.searchParams.set('redirect_uri', input.redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', input.scopes.join(' '));
  url.searchParams.set('state', input.state);
  return url.toString();
}

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  // Ecwid's docs show "bearer", its WordPress plugin expects "Bearer": either is fine.
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'is not bearer'),
  scope: z.string().default(''),
  store_id: z.union([z.number().int().positive(), z.string().regex(/^\d+$/).transform(Number)]),
});

/** A token Ecwid issued for one store. */
export type OAuthGrant = { storeId: number; accessToken: string; scopes: string[] };

/**
 * Why an exchange failed: `rejected` (Ecwid answered 4xx: the code is unknown, used or expired,
 * or the app's credentials are wrong), `unavailable` (network, timeout, 5xx), `malformed` (a 2xx
 * that is not a token answer). The message never holds the code, the secret or a token.
 */
export class OAuthExchangeError extends Error {
  override readonly name = 'OAuthExchangeError';
  readonly reason: 'rejected' | 'unavailable' | 'malformed';
  readonly status: number | undefined;
  constructor(reason: OAuthExchangeError['reason'], message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.reason = reason;
    this.status = options.status;
  }
}

/** A short, safe excerpt of an OAuth error answer: its `error` code, if it is one. */
function errorCode(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; errorCode?: unknown };
    const code = typeof parsed.error === 'string' ? parsed.error : typeof parsed.errorCode === 'string' ? parsed.errorCode : undefined;
    return code && /^[\w.-]{1,64}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

/** Exchanges an authorization code for the store's access token (POST, form body). */
export async function exchangeOAuthCode(input: {
  baseUrl?: string;
  clientId: string;
  clientSecret: string;
  code: string;
  redirectUri: string;
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
}): Promise<OAuthGrant> {
  const { fetch = globalThis.fetch, timeoutMs = 10_000 } = input;
  const url = `${(input.baseUrl ?? ecwidOAuthBaseUrl).replace(/\/+$/, '')}/token`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        client_id: input.clientId,
        client_secret: input.clientSecret,
        code: input.code,
        redirect_uri: input.redirectUri,
        grant_type: 'authorization_code',
      }).toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new OAuthExchangeError('unavailable', 'Ecwid token endpoint unreachable', { cause: err });
  }
  const body = await res.text();
  if (!res.ok) {
    const code = errorCode(body);
    const reason = res.status >= 500 || res.status === 429 ? 'unavailable' : 'rejected';
    throw new OAuthExchangeError(reason, `Ecwid refused the code exchange: HTTP ${res.status}${code ? ` ${code}` : ''}`, {
      status: res.status,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new OAuthExchangeError('malformed', 'Ecwid token answer is not JSON', { status: res.status, cause: err });
  }
  const parsed = tokenResponseSchema.safeParse(json);
  if (!parsed.success) {
    // Names the fields only: the answer may hold a token.
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(body)'))].join(', ');
    throw new OAuthExchangeError('malformed', `Ecwid token answer is not usable (${fields})`, { status: res.status });
  }
  const { access_token, scope, store_id } = parsed.data;
  return { storeId: store_id, accessToken: access_token, scopes: scope.split(/[\s,]+/).filter(Boolean) };
}
