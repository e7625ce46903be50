import { randomBytes } from 'node:crypto';
import { apiSection } from '@mirror/api';
import { createSecretBox, parseEnv } from '@mirror/core';
import { eventLogTable, execRows, storeTokensTable, type Db } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { buildWebhook, createSimulator, type SimServer, type Simulator } from '@mirror/ecwid-sim';
import { ingestSection } from '@mirror/ingest';
import { and, eq, sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../commands/test-process.ts';
import { startAll, type RunningMirror } from './start-all.ts';

/*
 * The Ecwid app lifecycle end to end, browser-less, against the simulator over real HTTP:
 * install (OAuth) → authorize → callback → token stored sealed → backfill → rows visible →
 * uninstall (confirmed: Ecwid refuses the token) → webhooks logged meanwhile → reinstall with a
 * new token → those webhooks fetched, none skipped. Then every text of every table, and every
 * log line, is searched for the tokens in clear. Replayed and forged callbacks store nothing.
 */

const storeId = 1003;
const adminToken = 'admin-token-for-the-lifecycle-test';
const clientSecret = 'lifecycle-app-secret';

let database: TestDatabase;
let db: Db;
let sim: Simulator;
let simServer: SimServer;
let mirror: RunningMirror;
let base: string;
const logLines: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  // The store exists before the app is installed, with a token some other app holds.
  sim = createSimulator({
    stores: [{ storeId, token: 'secret_of_another_app', seed: 11, size: { orders: 30, products: 20, customers: 10 } }],
    clientSecret,
    clientId: 'mirror-lifecycle-app',
  });
  simServer = await sim.listen(0);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
  mirror = await startAll(
    database,
    {
      http: { port, host: '127.0.0.1' },
      ecwid: { apiBaseUrl: simServer.url, stores: [], ratePerMinute: 6000 },
      ingest: parseEnv(ingestSection, { ECWID_CLIENT_SECRET: clientSecret }),
      api: parseEnv(apiSection, { MIRROR_ADMIN_TOKEN: adminToken }),
      enrichment: { concurrency: 2, pollMs: 20, maxAttempts: 3, batchSize: 500 },
      projection: { idleMs: 20 },
      reconcile: { intervalMs: 0, fullIntervalMs: 86_400_000, maxShare: 0.5 },
      demo: { rate: 1, seed: 1 },
      oauth: { clientId: sim.clientId, clientSecret, publicUrl: base, baseUrl: simServer.oauthUrl },
      box: createSecretBox(randomBytes(32)),
      demoMode: false,
    },
    log,
  );
}, 60_000);

afterAll(async () => {
  await mirror?.close();
  await simServer?.close();
  await database?.close();
});

/** The browser's part: the install link, Ecwid's authorize page, and the URL Ecwid sends it back to. */
async function authorize(): Promise<URL> {
  const install = await fetch(`${base}/oauth/ecwid/install`, { redirect: 'manual' });
  expect(install.status).toBe(302);
  const authorizeUrl = new URL(install.headers.get('location')!);
  expect(`${authorizeUrl.origin}${authorizeUrl.pathname}`).toBe(`${simServer.oauthUrl}/authorize`);
  expect(authorizeUrl.searchParams.get('redirect_uri')).toBe(`${base}/oauth/ecwid/callback`);
  expect(authorizeUrl.searchParams.get('scope')!.split(' ')).toEqual(
    expect.arrayContaining(['read_store_profile', 'read_orders', 'read_catalog']),
  );
  const granted = await fetch(authorizeUrl, { redirect: 'manual' });
  expect(granted.status).toBe(302);
  const callback = new URL(granted.headers.get('location')!);
  expect(callback.searchParams.get('code')).toBeTruthy();
  return callback;
}

const admin = { authorization: `Bearer ${adminToken}` };
type StoreView = {
  storeId: number;
  status: string;
  tokenFingerprint: string | null;
  catchUp: string | null;
  scopes: string[] | null;
} & Record<string, unknown>;
async function storeView(): Promise<StoreView | undefined> {
  const body = (await (await fetch(`${base}/v1/stores`, { headers: admin })).json()) as { data: StoreView[] };
  return body.data.find((s) => s.storeId === storeId);
}
async function productSku(id: number): Promise<string | undefined> {
  const res = await fetch(`${base}/v1/stores/${storeId}/products/${id}`, { headers: admin });
  return res.status === 200 ? ((await res.json()) as { doc: { sku: string } }).doc.sku : undefined;
}
async function sendWebhook(eventType: string, entityId: number): Promise<void> {
  const signed = buildWebhook({ storeId, eventType, entityId }, clientSecret);
  const res = await fetch(`${base}/webhooks/ecwid`, {
    method: 'POST',
    body: signed.json,
    headers: { 'content-type': 'application/json', 'x-ecwid-webhook-signature': signed.signature },
  });
  expect(res.status).toBe(200);
}
async function until<T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
/** Every row of every table of the database, as text: what a dump would show. */
async function dumpEverything(): Promise<string> {
  const tables = await execRows<{ schema: string; name: string }>(
    db,
    sql`select table_schema as schema, table_name as name from information_schema.tables
        where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`,
  );
  expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['store_tokens', 'event_log', 'oauth_states']));
  const parts: string[] = [];
  for (const t of tables) {
    const rows = await execRows<{ row: string }>(
      db,
      sql`select t::text as row from ${sql.identifier(t.schema)}.${sql.identifier(t.name)} t`,
    );
    parts.push(...rows.map((r) => r.row));
  }
  return parts.join('\n');
}

describe('the Ecwid app lifecycle', () => {
  const tokens: string[] = [];

  it('refuses a forged callback and stores nothing', async () => {
    const res = await fetch(`${base}/oauth/ecwid/callback?code=anything&state=${randomBytes(16).toString('hex')}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('not issued by this mirror');
    const noState = await fetch(`${base}/oauth/ecwid/callback?code=anything`);
    expect(noState.status).toBe(400);
    expect(await db.$count(storeTokensTable)).toBe(0);
    expect(sim.oauth.stats.exchanged + sim.oauth.stats.refused).toBe(0);
  });

  it('installs by OAuth: the token sealed, the store backfilled, its rows visible', async () => {
    const callback = await authorize();
    const res = await fetch(callback);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain(`Ecwid store ${storeId} is now mirrored`);
    const token = sim.store(storeId).token!;
    tokens.push(token);
    expect(token).not.toBe('secret_of_another_app');
    expect(page).not.toContain(token);
    expect(page).not.toContain(callback.searchParams.get('code')!);

    const [row] = await db.select().from(storeTokensTable);
    expect(row).toMatchObject({ storeId, token: null, source: 'oauth' });
    expect(row!.tokenSealed).not.toContain(token);
    expect(row!.scopes).toEqual(expect.arrayContaining(['read_store_profile', 'read_orders']));

    // The backfill and first reconcile run by themselves; the orders become readable.
    const orders = sim.store(storeId).orders.size;
    await until(async () => {
      const body = (await (await fetch(`${base}/v1/stores/${storeId}/orders?limit=200`, { headers: admin })).json()) as { data: unknown[] };
      return body.data.length === orders;
    }, 'the backfilled orders');
    const view = await until(async () => {
      const v = await storeView();
      return v?.catchUp === null && v.lastReconcileAt !== null ? v : undefined;
    }, 'the first reconcile');
    expect(view).toMatchObject({ status: 'active', tokenFingerprint: expect.stringMatching(/^sha256:[0-9a-f]{12}$/), uninstalledAt: null });
    expect(view.installedAt).not.toBeNull();
    expect(JSON.stringify(view)).not.toContain(token);
    const runs = await execRows<{ trigger: string }>(db, sql`select distinct trigger from reconcile_runs where store_id = ${storeId}`);
    expect(runs.map((r) => r.trigger)).toEqual(['install']);

    // The same callback again: refused before Ecwid is asked (a second exchange of the code
    // would disable the token), so the token still works.
    const replay = await fetch(callback);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('already used');
    expect(sim.oauth.stats).toMatchObject({ exchanged: 1, refused: 0 });
    expect(sim.store(storeId).token).toBe(token);
    expect((await db.select().from(storeTokensTable))[0]!.tokenSealed).toBe(row!.tokenSealed);
  }, 120_000);

  it('uninstalls once Ecwid refuses the token, keeps the data, logs what comes meanwhile, and fetches it after a reinstall', async () => {
    const store = sim.store(storeId);
    const products = store.products.values().slice(0, 3);
    store.uninstall();
    await sendWebhook('application.uninstalled', storeId);
    const uninstalled = await until(async () => {
      const v = await storeView();
      return v?.status === 'uninstalled' && v.uninstalledAt !== null ? v : undefined;
    }, 'the confirmed uninstall');
    expect(uninstalled.tokenFingerprint).toBeNull();
    expect(await db.$count(storeTokensTable)).toBe(0);
    const [subscription] = await execRows<{ deleted_at: unknown }>(
      db,
      sql`select deleted_at from app_subscriptions where store_id = ${storeId}`,
    );
    expect(subscription?.deleted_at).not.toBeNull();

    // While uninstalled: changes and their webhooks, logged but not fetched (no token).
    for (const p of products) store.update('products', p.id, (doc) => void (doc.sku = `gap-${p.id}`));
    for (const p of products) await sendWebhook('product.updated', p.id);
    const logged = await db.$count(eventLogTable, and(eq(eventLogTable.storeId, storeId), eq(eventLogTable.eventType, 'product.updated')));
    expect(logged).toBeGreaterThanOrEqual(3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await productSku(products[0]!.id)).not.toBe(`gap-${products[0]!.id}`);
    const waiting = await storeView();
    expect(waiting).toMatchObject({ status: 'uninstalled' });
    expect(waiting!.lagRecords).toBeGreaterThanOrEqual(3);
    // The data stays readable.
    expect((await fetch(`${base}/v1/stores/${storeId}/orders?limit=1`, { headers: admin })).status).toBe(200);

    // Reinstall: a new token, and the webhooks from the gap are fetched.
    const callback = await authorize();
    expect((await fetch(callback)).status).toBe(200);
    const token = store.token!;
    tokens.push(token);
    expect(token).not.toBe(tokens[0]);
    for (const p of products) await until(async () => (await productSku(p.id)) === `gap-${p.id}`, `product ${p.id} from the gap`);
    const back = await until(async () => {
      const v = await storeView();
      return v?.status === 'active' && v.catchUp === null && v.lagRecords === 0 ? v : undefined;
    }, 'the reinstalled store caught up');
    expect(back.tokenFingerprint).not.toBe(uninstalled.tokenFingerprint);
    expect(new Date(back.installedAt as string).getTime()).toBeGreaterThan(new Date(uninstalled.uninstalledAt as string).getTime());
    const [again] = await execRows<{ deleted_at: unknown; status: string | null }>(
      db,
      sql`select deleted_at, status from app_subscriptions where store_id = ${storeId}`,
    );
    expect(again).toMatchObject({ deleted_at: null });
  }, 120_000);

  it('keeps every token out of the database in clear and out of the logs', async () => {
    expect(tokens).toHaveLength(2);
    const dump = await dumpEverything();
    expect(dump).toContain(String(storeId));
    for (const token of tokens) {
      expect(dump).not.toContain(token);
      expect(dump).not.toContain(token.slice('secret_'.length));
    }
    const logs = logLines.join('');
    expect(logs).toContain('store installed');
    for (const token of tokens) expect(logs).not.toContain(token.slice('secret_'.length));
  });
});
