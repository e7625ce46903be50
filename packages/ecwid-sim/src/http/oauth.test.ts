import { describe, expect, it } from 'vitest';
import { createSimulator } from '../create-simulator.ts';

const redirectUri = 'https://mirror.example/oauth/ecwid/callback';

function setup(now = { t: 1_800_000_000_000 }) {
  const sim = createSimulator({
    stores: [{ storeId: 1003, token: 'secret_old', size: { orders: 1, products: 1, customers: 1 } }],
    clientSecret: 'app-secret',
    now: () => now.t,
  });
  const authorize = async (params: Record<string, string> = {}) => {
    const query = new URLSearchParams({
      client_id: sim.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'read_orders read_catalog',
      state: 'st-1',
      ...params,
    });
    const res = await sim.app.request(`/api/oauth/authorize?${query}`);
    return new URL(res.headers.get('location') ?? 'http://none/');
  };
  const exchange = (code: string, extra: Record<string, string> = {}) =>
    sim.app.request('/api/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: sim.clientId,
        client_secret: 'app-secret',
        code,
        redirect_uri: redirectUri,
        grant_type: 'authorization_code',
        ...extra,
      }).toString(),
    });
  return { sim, authorize, exchange, now };
}

describe('simulated OAuth', () => {
  it('grants a code bound to the state, and exchanges it once for a new token that replaces the old one', async () => {
    const { sim, authorize, exchange } = setup();
    const back = await authorize();
    expect(back.searchParams.get('state')).toBe('st-1');
    const code = back.searchParams.get('code')!;
    const res = await exchange(code);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; token_type: string; scope: string; store_id: number };
    expect(body).toMatchObject({ token_type: 'Bearer', store_id: 1003, scope: 'read_store_profile read_orders read_catalog' });
    expect(sim.store(1003).token).toBe(body.access_token);
    const rest = await sim.app.request('/api/v3/1003/profile', { headers: { authorization: 'Bearer secret_old' } });
    expect(rest.status).toBe(403);
  });

  it('disables the first token when a code is exchanged a second time', async () => {
    const { sim, authorize, exchange } = setup();
    const code = (await authorize()).searchParams.get('code')!;
    expect((await exchange(code)).status).toBe(200);
    const again = await exchange(code);
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: 'invalid_grant' });
    expect(sim.store(1003).token).toBeUndefined();
  });

  it('refuses an expired code, a wrong secret or redirect_uri, and scopes the app was not given', async () => {
    const { authorize, exchange, now } = setup();
    const code = (await authorize()).searchParams.get('code')!;
    expect((await exchange(code, { client_secret: 'wrong' })).status).toBe(401);
    expect((await exchange(code, { redirect_uri: 'https://evil.example/cb' })).status).toBe(400);
    now.t += 300_001;
    expect(await (await exchange(code)).json()).toMatchObject({ error: 'invalid_grant', error_description: 'The code expired' });
    expect((await authorize({ scope: 'update_orders' })).searchParams.get('error')).toBe('invalid_scope');
  });
});
