import { randomBytes } from 'node:crypto';
import { createSecretBox, createSilentLogger } from '@mirror/core';
import { eventLogTable, oauthStatesTable, storeTokensTable, type Db } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { readStoreToken } from '@mirror/projector';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOAuthApp } from './oauth-app.ts';

/*
 * The callback against a fake of Ecwid's token endpoint written from docs/ecwid.md §6 alone (not
 * the simulator): a POST with a form body, answered `{access_token, token_type, scope, store_id}`.
 */

let database: TestDatabase;
let db: Db;
const box = createSecretBox(randomBytes(32));
const oauth = {
  clientId: 'app-id',
  clientSecret: 'app-secret',
  publicUrl: 'https://mirror.example/base/',
  baseUrl: 'https://ecwid.example/api/oauth',
};

type Exchange = { url: string; method: string; contentType: string | null; form: URLSearchParams };

beforeEach(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterEach(() => database.close());

function setup(answer: (form: URLSearchParams) => Response | Promise<Response>, clock = { t: Date.parse('2026-12-05T12:00:00Z') }) {
  const exchanges: Exchange[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const form = new URLSearchParams(String(init?.body ?? ''));
    exchanges.push({
      url: String(input),
      method: init?.method ?? 'GET',
      contentType: new Headers(init?.headers).get('content-type'),
      form,
    });
    return answer(form);
  };
  const app = createOAuthApp({
    db,
    box,
    oauth,
    log: createSilentLogger(),
    now: () => new Date(clock.t),
    fetch: fetch as typeof globalThis.fetch,
  });
  const install = async () => {
    const res = await app.request('/oauth/ecwid/install');
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location')!);
  };
  const callback = (params: Record<string, string>) => app.request(`/oauth/ecwid/callback?${new URLSearchParams(params)}`);
  return { app, exchanges, install, callback, clock };
}

const tokenAnswer = (tokenType = 'bearer') =>
  Response.json({
    access_token: 'secret_from_the_fake_ecwid',
    token_type: tokenType,
    scope: 'read_store_profile read_orders',
    store_id: 4321,
  });

describe('the OAuth install flow', () => {
  it('sends the merchant to Ecwid with the app, the redirect_uri under MIRROR_PUBLIC_URL, the scopes and a state', async () => {
    const { install } = setup(() => tokenAnswer());
    const url = await install();
    expect(`${url.origin}${url.pathname}`).toBe('https://ecwid.example/api/oauth/authorize');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: 'app-id',
      redirect_uri: 'https://mirror.example/base/oauth/ecwid/callback',
      response_type: 'code',
      scope: 'read_store_profile read_catalog read_customers read_discount_coupons read_promotion read_orders read_reviews read_invoices',
    });
    expect(url.searchParams.get('state')).toMatch(/^[\w-]{40,}$/);
    // Only a hash of the state is kept.
    const [row] = await db.select().from(oauthStatesTable);
    expect(row!.stateHash).not.toContain(url.searchParams.get('state')!);
  });

  it('exchanges the code with a POST form, accepts token_type in any case, and stores the token sealed', async () => {
    const { install, callback, exchanges } = setup(() => tokenAnswer('Bearer'));
    const state = (await install()).searchParams.get('state')!;
    const res = await callback({ code: 'code-1', state });
    expect(res.status).toBe(200);
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]).toMatchObject({
      url: 'https://ecwid.example/api/oauth/token',
      method: 'POST',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(Object.fromEntries(exchanges[0]!.form)).toEqual({
      client_id: 'app-id',
      client_secret: 'app-secret',
      code: 'code-1',
      redirect_uri: 'https://mirror.example/base/oauth/ecwid/callback',
      grant_type: 'authorization_code',
    });
    expect(await readStoreToken(db, box, 4321)).toBe('secret_from_the_fake_ecwid');
    const [row] = await db.select().from(storeTokensTable);
    expect(row).toMatchObject({
      storeId: 4321,
      token: null,
      source: 'oauth',
      scopes: ['read_store_profile', 'read_orders'],
      catchUp: 'backfill',
    });
    const page = await res.text();
    expect(page).toContain('Not granted: read_catalog');
    expect(page).not.toContain('secret_from_the_fake_ecwid');
  });

  it('refuses a stale callback without asking Ecwid, and stores nothing', async () => {
    const { install, callback, exchanges, clock } = setup(() => tokenAnswer());
    const state = (await install()).searchParams.get('state')!;
    clock.t += 15 * 60_000 + 1;
    const res = await callback({ code: 'code-1', state });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('expired');
    expect(exchanges).toHaveLength(0);
    expect(await db.$count(storeTokensTable)).toBe(0);
    expect(await db.$count(eventLogTable)).toBe(0);
  });

  it('refuses a replayed callback (the state is used up, even by a failed attempt) and a forged one', async () => {
    let refuse = true;
    const { install, callback, exchanges } = setup(() =>
      refuse ? Response.json({ error: 'invalid_grant' }, { status: 400 }) : tokenAnswer(),
    );
    const state = (await install()).searchParams.get('state')!;
    const refused = await callback({ code: 'code-1', state });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('HTTP 400 invalid_grant');
    refuse = false;
    const replayed = await callback({ code: 'code-1', state });
    expect(replayed.status).toBe(400);
    expect(await replayed.text()).toContain('already used');
    const forged = await callback({ code: 'code-2', state: 'a'.repeat(43) });
    expect(forged.status).toBe(400);
    expect(exchanges).toHaveLength(1);
    expect(await db.$count(storeTokensTable)).toBe(0);
  });

  it('exchanges a code once: a used code brought back with a fresh state never reaches Ecwid again', async () => {
    const { install, callback, exchanges } = setup(() => tokenAnswer());
    const first = await callback({ code: 'code-1', state: (await install()).searchParams.get('state')! });
    expect(first.status).toBe(200);
    expect(exchanges).toHaveLength(1);
    // The install link is public: anyone can get a fresh state. Ecwid would answer a second
    // exchange of code-1 by disabling the token the first one gave.
    const fresh = (await install()).searchParams.get('state')!;
    const again = await callback({ code: 'code-1', state: fresh });
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('install code was already used');
    expect(exchanges).toHaveLength(1);
    expect(await readStoreToken(db, box, 4321)).toBe('secret_from_the_fake_ecwid');
    // The fresh state was not used up by the refused code: an install with a new code goes on.
    const next = await callback({ code: 'code-2', state: fresh });
    expect(next.status).toBe(200);
    expect(exchanges).toHaveLength(2);
  });

  it('stores nothing when Ecwid says no, or answers something that is not a bearer token', async () => {
    for (const [answer, status, says] of [
      [() => Response.json({ access_token: 'secret_x', token_type: 'mac', scope: '', store_id: 1 }), 400, 'token_type'],
      [() => Response.json({ token_type: 'bearer', store_id: 1 }), 400, 'access_token'],
      [() => new Response('upstream down', { status: 503 }), 502, 'could not be reached'],
    ] as const) {
      const { install, callback } = setup(answer);
      const state = (await install()).searchParams.get('state')!;
      // Each attempt with its own code, as Ecwid gives them: a code is exchanged once.
      const res = await callback({ code: `code-${says}`, state });
      expect(res.status).toBe(status);
      expect(await res.text()).toContain(says);
    }
    const { install, callback, exchanges } = setup(() => tokenAnswer());
    const state = (await install()).searchParams.get('state')!;
    expect((await callback({ error: 'access_denied', state })).status).toBe(400);
    expect(exchanges).toHaveLength(0);
    expect(await db.$count(storeTokensTable)).toBe(0);
  });
});
