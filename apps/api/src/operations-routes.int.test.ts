import { createSilentLogger, tokenFingerprint } from '@mirror/core';
import {
  apiKeysTable,
  backfillStateTable,
  consumerCheckpointsTable,
  enrichmentStateTable,
  execRows,
  parkedEventsTable,
  reconcileRunsTable,
  storesTable,
  storeTokensTable,
} from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLagHistory } from './lag-history.ts';
import type { OperatorActions, VerifyState } from './operations-routes.ts';
import { adminToken, createTestApp, get, insertLog, keyFor, type TestApp } from './test-helpers.ts';

let database: TestDatabase;
let app: TestApp;
let storeKey: string;
const store = 7007;
const other = 8008;
const ago = (seconds: number) => new Date(Date.now() - seconds * 1000);
const parked: Record<string, number> = {};
const retried: { storeId: number; ids: readonly number[] }[] = [];
const verifies = new Map<number, VerifyState>();

/** Stands in for the server's Ecwid side (apps/mirror wires the real one; the browser test drives it). */
const actions: OperatorActions = {
  retryParked: async (storeId, ids) => {
    retried.push({ storeId, ids });
    return ids.map((id) => ({ id, outcome: 'resolved' as const }));
  },
  startVerify: (storeId) => {
    const state: VerifyState = { status: 'running', startedAt: new Date(), finishedAt: null, error: null, kinds: [] };
    verifies.set(storeId, state);
    return state;
  },
  verifyState: (storeId) => verifies.get(storeId),
};

async function send(path: string, method: string, token: string | null = adminToken, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await app.request(path, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  database = await createTestDatabase();
  const { db } = database;
  app = createTestApp(db, { actions });
  storeKey = await keyFor(db, store, 'console test');
  const webhook = (storeId: number, n: number, seconds: number) => ({
    kind: 'webhook' as const,
    storeId,
    eventId: `evt-${storeId}-${n}`,
    eventType: 'order.updated',
    entityKind: 'order',
    entityId: String(n),
    receivedAt: ago(seconds),
    payload: {},
  });
  const snapshot = (storeId: number, n: number, seconds: number) => ({
    kind: 'snapshot' as const,
    storeId,
    eventType: 'order',
    entityKind: 'order',
    entityId: String(n),
    receivedAt: ago(seconds),
    fetchedAt: ago(seconds),
    payload: {},
  });
  // Store 7007: three webhooks, enrichment has handled the first; two snapshots, projection has applied the first.
  const [w1, w2] = await insertLog(db, [webhook(store, 1, 120), webhook(store, 2, 60), webhook(store, 3, 30)]);
  const [s1] = await insertLog(db, [snapshot(store, 1, 50), snapshot(store, 2, 10)]);
  await insertLog(db, [webhook(other, 9, 5)]);
  // The mirror's own install record of store 8008, the newest record: not a fetch from Ecwid.
  await insertLog(db, [{ ...snapshot(other, 0, 1), eventType: 'store', entityKind: 'store', entityId: String(other) }]);
  await db.insert(enrichmentStateTable).values([
    { storeId: store, position: w1!.position },
    { storeId: other, position: 0, status: 'paused', lastError: 'Ecwid answered 503', retryAt: new Date('2030-01-01T00:00:00Z') },
  ]);
  await db.insert(consumerCheckpointsTable).values({ name: 'projection', position: s1!.position });
  await db.insert(storeTokensTable).values({ storeId: store, token: 'secret_console_test' });
  await db.insert(reconcileRunsTable).values([
    { storeId: store, kind: 'order', mode: 'full', trigger: 'cli', status: 'done', finishedAt: ago(300) },
    // A run that failed since: the last reconcile is still the one that finished.
    { storeId: store, kind: 'product', mode: 'full', trigger: 'cli', status: 'failed', finishedAt: ago(30) },
  ]);
  const rows = await db
    .insert(parkedEventsTable)
    .values([
      { storeId: store, position: w2!.position, entityKind: 'order', entityId: '2', error: 'Ecwid answered 400', attempts: 5 },
      { storeId: store, position: w1!.position, entityKind: 'order', entityId: '1', error: 'old', attempts: 5, resolvedAt: new Date() },
      { storeId: other, position: 999_999, entityKind: 'product', entityId: '7', error: 'Ecwid answered 404', attempts: 5 },
    ])
    .returning({ id: parkedEventsTable.id, storeId: parkedEventsTable.storeId, error: parkedEventsTable.error });
  for (const r of rows) parked[`${r.storeId}:${r.error}`] = r.id;
  await db.insert(backfillStateTable).values([
    { storeId: store, entity: 'order', offset: 250, startedAt: ago(100), details: { phase: 'scan', total: 1000 } },
    { storeId: store, entity: 'product', offset: 40, startedAt: ago(200), completedAt: ago(150), details: { phase: 'done' } },
  ]);
});
afterAll(() => database.close());

describe('GET /v1/me', () => {
  test('names the admin, and the store of a store key', async () => {
    expect((await get(app, '/v1/me')).body).toEqual({ role: 'admin', storeId: null });
    expect((await get(app, '/v1/me', storeKey)).body).toEqual({ role: 'store', storeId: store });
    expect((await get(app, '/v1/me', 'mk_nope')).status).toBe(401);
  });
});

describe('GET /v1/status', () => {
  test("gives each store's state, newest webhook, fetch and reconcile, parked count and lag per stage", async () => {
    const res = await get(app, '/v1/status');
    expect(res.status).toBe(200);
    expect(res.body.stores.map((s: any) => s.storeId)).toEqual([store, other]);
    const [a, b] = res.body.stores;
    expect(a).toMatchObject({ status: 'active', reason: null, hasToken: true, parkedOpen: 1 });
    // Enrichment has handled webhook 1: webhooks 2 (60 s old) and 3 wait.
    expect(a.lag.enrichment.records).toBe(2);
    expect(a.lag.enrichment.seconds).toBeGreaterThanOrEqual(59);
    expect(a.lag.enrichment.seconds).toBeLessThan(90);
    // Projection has applied snapshot 1: snapshot 2 (10 s old) waits.
    expect(a.lag.projection.records).toBe(1);
    expect(a.lag.projection.seconds).toBeGreaterThanOrEqual(9);
    expect(a.lag.projection.seconds).toBeLessThan(40);
    expect(Date.parse(a.lastWebhookAt)).toBeGreaterThan(Date.now() - 40_000);
    expect(Date.parse(a.lastFetchAt)).toBeGreaterThan(Date.now() - 20_000);
    expect(Date.parse(a.lastReconcileAt)).toBeLessThan(Date.now() - 290_000);
    expect(b).toMatchObject({ status: 'paused', reason: 'Ecwid answered 503', retryAt: '2030-01-01T00:00:00.000Z', hasToken: false });
    expect(b.lag.enrichment.records).toBe(1);
    expect(res.body.rebuild).toBeNull();
    // The console's figures are the store list's (and `mirror stores list`'s).
    const listed = (await get(app, '/v1/stores')).body.data as any[];
    for (const s of res.body.stores) {
      const same = listed.find((l) => l.storeId === s.storeId);
      expect([s.storeId, s.lastFetchAt, s.lastReconcileAt]).toEqual([s.storeId, same.lastFetchAt, same.lastReconcileAt]);
    }
    expect(b.lastFetchAt).toBeNull();
  });

  test('shows a store key its own store only', async () => {
    const res = await get(app, '/v1/status', storeKey);
    expect(res.body.stores.map((s: any) => s.storeId)).toEqual([store]);
  });

  test("gives a store key its own store's log head and projection backlog, the admin the whole log's", async () => {
    const { db } = database;
    const third = 9009;
    // After store 7007's records: two documents and a webhook of another store, none projected.
    const [x1, , x3] = await insertLog(db, [
      { kind: 'snapshot', storeId: third, eventType: 'product', entityKind: 'product', entityId: '1', payload: {} },
      { kind: 'tombstone', storeId: third, eventType: 'product', entityKind: 'product', entityId: '2', payload: {} },
      {
        kind: 'webhook',
        storeId: third,
        eventId: 'evt-9009-1',
        eventType: 'product.updated',
        entityKind: 'product',
        entityId: '3',
        payload: {},
      },
    ]);
    const [s1, s2] = await execRows<{ position: string }>(
      db,
      sql`select position from event_log where store_id = ${store} and kind = 'snapshot' order by position`,
    );
    const own = await get(app, '/v1/status', storeKey);
    // Store 7007: its newest record is snapshot 2; projection stands at its snapshot 1, with snapshot 2 to go.
    expect({ logHead: own.body.logHead, projection: own.body.projection }).toEqual({
      logHead: Number(s2!.position),
      projection: { position: Number(s1!.position), lagRecords: 1 },
    });
    const all = await get(app, '/v1/status');
    expect({ logHead: all.body.logHead, projection: all.body.projection }).toEqual({
      logHead: x3!.position,
      // Snapshot 2, store 8008's install record, and the two documents above.
      projection: { position: Number(s1!.position), lagRecords: 4 },
    });

    // Projection past store 7007 into the other store's records: the key sees its own newest record
    // passed and nothing behind; the checkpoint itself, and what waits after it, are the admin's.
    await db.update(consumerCheckpointsTable).set({ position: x1!.position }).where(eq(consumerCheckpointsTable.name, 'projection'));
    try {
      expect((await get(app, '/v1/status', storeKey)).body.projection).toEqual({ position: Number(s2!.position), lagRecords: 0 });
      expect((await get(app, '/v1/status')).body.projection).toEqual({ position: x1!.position, lagRecords: 1 });
    } finally {
      await db
        .update(consumerCheckpointsTable)
        .set({ position: Number(s1!.position) })
        .where(eq(consumerCheckpointsTable.name, 'projection'));
    }

    // A key of a store without records: nothing.
    const empty = await get(app, '/v1/status', await keyFor(db, 9010, 'no records'));
    expect(empty.body).toMatchObject({ logHead: 0, projection: { position: 0, lagRecords: 0 }, stores: [] });
  });

  test("shows each store's install, uninstall, scopes, token fingerprint and catch-up, never the token", async () => {
    const { db } = database;
    const uninstalled = 9011;
    await db
      .update(storeTokensTable)
      .set({ tokenFingerprint: tokenFingerprint('secret_console_test'), scopes: ['read_orders', 'read_catalog'], catchUp: 'reconcile' })
      .where(eq(storeTokensTable.storeId, store));
    await db.insert(storesTable).values([
      { storeId: store, status: 'active', installedAt: new Date('2026-01-02T03:04:05Z'), doc: {}, sourcePosition: 1, syncedAt: new Date() },
      {
        storeId: uninstalled,
        status: 'uninstalled',
        installedAt: new Date('2025-05-01T00:00:00Z'),
        uninstalledAt: new Date('2026-02-03T04:05:06Z'),
        doc: {},
        sourcePosition: 1,
        syncedAt: new Date(),
      },
    ]);
    // A webhook Ecwid sent before the uninstall: the mirror knows the store, has no token for it.
    await insertLog(db, [
      {
        kind: 'webhook',
        storeId: uninstalled,
        eventId: 'evt-9011-1',
        eventType: 'order.updated',
        entityKind: 'order',
        entityId: '1',
        payload: {},
      },
    ]);
    const res = await get(app, '/v1/status');
    const byId = new Map(res.body.stores.map((s: any) => [s.storeId, s]));
    expect(byId.get(store)).toMatchObject({
      status: 'active',
      installedAt: '2026-01-02T03:04:05.000Z',
      uninstalledAt: null,
      scopes: ['read_orders', 'read_catalog'],
      tokenFingerprint: tokenFingerprint('secret_console_test'),
      catchUp: 'reconcile',
    });
    expect(byId.get(uninstalled)).toMatchObject({
      status: 'uninstalled',
      hasToken: false,
      installedAt: '2025-05-01T00:00:00.000Z',
      uninstalledAt: '2026-02-03T04:05:06.000Z',
      scopes: null,
      tokenFingerprint: null,
      catchUp: null,
    });
    expect(JSON.stringify(res.body)).not.toContain('secret_console_test');
    // The store key reads the same of its own store.
    expect((await get(app, '/v1/status', storeKey)).body.stores[0]).toMatchObject({
      tokenFingerprint: tokenFingerprint('secret_console_test'),
    });
  });

  test('reports a rebuild in progress to the admin', async () => {
    await database.db.insert(consumerCheckpointsTable).values([
      { name: 'rebuild', position: 0 },
      { name: 'rebuild:0', position: 3 },
      { name: 'rebuild:1', position: 2 },
    ]);
    try {
      const res = await get(app, '/v1/status');
      expect(res.body.rebuild).toMatchObject({ position: 2, active: true });
      expect(res.body.rebuild.head).toBe(res.body.logHead);
      expect((await get(app, '/v1/status', storeKey)).body.rebuild).toBeNull();
    } finally {
      await database.db.delete(consumerCheckpointsTable).where(eq(consumerCheckpointsTable.name, 'rebuild'));
      await database.db.delete(consumerCheckpointsTable).where(eq(consumerCheckpointsTable.name, 'rebuild:0'));
      await database.db.delete(consumerCheckpointsTable).where(eq(consumerCheckpointsTable.name, 'rebuild:1'));
    }
  });
});

describe('GET /v1/stores/{storeId}/lag-history', () => {
  test('returns the samples of the last hour, oldest first, per stage', async () => {
    let clock = new Date(Date.now() - 2 * 3_600_000);
    const lagHistory = createLagHistory({ db: database.db, log: createSilentLogger(), intervalMs: 10_000, now: () => clock });
    const withHistory = createTestApp(database.db, { lagHistory });
    await lagHistory.sample(); // two hours ago: dropped once newer samples come
    clock = new Date(Date.now() - 20_000);
    await lagHistory.sample();
    clock = new Date();
    await lagHistory.sample();
    const res = await get(withHistory, `/v1/stores/${store}/lag-history`, storeKey);
    expect(res.status).toBe(200);
    expect(res.body.intervalSeconds).toBe(10);
    expect(res.body.samples).toHaveLength(2);
    expect(res.body.samples.map((s: any) => s.enrichment.records)).toEqual([2, 2]);
    expect(res.body.samples.map((s: any) => s.projection.records)).toEqual([1, 1]);
    expect(Date.parse(res.body.samples[0].at)).toBeLessThan(Date.parse(res.body.samples[1].at));
  });

  test('refuses a window over an hour, and another store for a store key', async () => {
    const res = await get(app, `/v1/stores/${store}/lag-history?minutes=61`);
    expect(res.status).toBe(400);
    expect(res.body.error.parameter).toBe('minutes');
    expect((await get(app, `/v1/stores/${other}/lag-history`, storeKey)).status).toBe(404);
  });
});

describe('parked webhooks', () => {
  test("lists the store's open ones with their webhook's event type", async () => {
    const res = await get(app, `/v1/stores/${store}/parked`, storeKey);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([
      expect.objectContaining({
        id: parked[`${store}:Ecwid answered 400`],
        eventType: 'order.updated',
        entity: 'orders',
        entityId: '2',
        attempts: 5,
      }),
    ]);
    expect((await get(app, `/v1/stores/${other}/parked`, storeKey)).status).toBe(404);
  });

  test('pages by id, oldest first: every open one is reachable, none twice', async () => {
    const added = await database.db
      .insert(parkedEventsTable)
      .values(
        [1, 2, 3].map((n) => ({
          storeId: store,
          position: 800_000 + n,
          entityKind: 'order',
          entityId: `p${n}`,
          error: `page ${n}`,
          attempts: 5,
        })),
      )
      .returning({ id: parkedEventsTable.id });
    try {
      const first = await get(app, `/v1/stores/${store}/parked?limit=2`, storeKey);
      expect(first.body.data).toHaveLength(2);
      expect(first.body.nextAfter).toBe(first.body.data[1].id);
      const second = await get(app, `/v1/stores/${store}/parked?limit=2&after=${first.body.nextAfter}`, storeKey);
      expect(second.body.nextAfter).toBeNull();
      const ids = [...first.body.data, ...second.body.data].map((r: { id: number }) => r.id);
      expect(ids).toEqual([parked[`${store}:Ecwid answered 400`], ...added.map((r: { id: number }) => r.id)]);
      expect((await get(app, `/v1/stores/${store}/parked?limit=1001`, storeKey)).body.error.parameter).toBe('limit');
    } finally {
      await database.db.delete(parkedEventsTable).where(
        inArray(
          parkedEventsTable.id,
          added.map((r: { id: number }) => r.id),
        ),
      );
    }
  });

  test('retries one for the admin; a store key may not, nor may anyone retry another store’s', async () => {
    const id = parked[`${store}:Ecwid answered 400`]!;
    retried.length = 0;
    expect((await send(`/v1/stores/${store}/parked/${id}/retry`, 'POST', storeKey)).status).toBe(403);
    const otherId = parked[`${other}:Ecwid answered 404`]!;
    expect((await send(`/v1/stores/${store}/parked/${otherId}/retry`, 'POST')).status).toBe(404);
    expect((await send(`/v1/stores/${store}/parked/x1/retry`, 'POST')).body.error.parameter).toBe('id');
    expect(retried).toEqual([]);
    const res = await send(`/v1/stores/${store}/parked/${id}/retry`, 'POST');
    expect(res).toEqual({ status: 200, body: { results: [{ id, outcome: 'resolved' }] } });
    expect(retried).toEqual([{ storeId: store, ids: [id] }]);
  });

  test("retries all of a store's open ones", async () => {
    retried.length = 0;
    const res = await send(`/v1/stores/${other}/parked/retry`, 'POST');
    expect(res.status).toBe(200);
    expect(retried).toEqual([{ storeId: other, ids: [parked[`${other}:Ecwid answered 404`]] }]);
  });

  test('answers 503 on a server that cannot call Ecwid', async () => {
    const bare = createTestApp(database.db);
    const res = await bare.request(`/v1/stores/${store}/parked/retry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(res.status).toBe(503);
  });
});

describe('verify now', () => {
  test('starts for the admin and is then readable; a store key may read but not start', async () => {
    // None has run: a state, not a missing page (a console polls it).
    expect((await get(app, `/v1/stores/${other}/verify`)).body).toEqual({
      status: 'none',
      startedAt: null,
      finishedAt: null,
      error: null,
      kinds: [],
    });
    expect((await send(`/v1/stores/${store}/verify`, 'POST', storeKey)).status).toBe(403);
    const started = await send(`/v1/stores/${store}/verify`, 'POST');
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: 'running', finishedAt: null, kinds: [] });
    expect((await get(app, `/v1/stores/${store}/verify`, storeKey)).body.status).toBe('running');
  });
});

describe('GET /v1/stores/{storeId}/backfill', () => {
  test('gives each kind’s phase and items read, with the total when the run recorded one', async () => {
    const res = await get(app, `/v1/stores/${store}/backfill`, storeKey);
    expect(res.body.data.map((r: any) => [r.entity, r.phase, r.offset, r.total, r.completedAt !== null])).toEqual([
      ['products', 'done', 40, null, true],
      ['orders', 'scan', 250, 1000, false],
    ]);
  });
});

describe('/v1/api-keys', () => {
  test('creates a key shown once, which then reads its store; lists it by prefix; revokes it', async () => {
    expect((await send('/v1/api-keys', 'POST', storeKey, { storeId: store })).status).toBe(403);
    const created = await send('/v1/api-keys', 'POST', adminToken, { storeId: store, label: 'made in a test' });
    expect(created.status).toBe(201);
    const { key, id, prefix } = created.body;
    expect(key).toMatch(/^mk_[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(prefix)).toBe(true);
    expect((await get(app, '/v1/me', key)).body).toEqual({ role: 'store', storeId: store });

    const list = await get(app, `/v1/api-keys?storeId=${store}`);
    const listed = list.body.data.find((k: any) => k.id === id);
    expect(listed).toMatchObject({ prefix, label: 'made in a test', revokedAt: null });
    expect(JSON.stringify(list.body)).not.toContain(key);

    expect((await send(`/v1/api-keys/${id}`, 'DELETE', storeKey)).status).toBe(403);
    const revoked = await send(`/v1/api-keys/${id}`, 'DELETE');
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect((await get(app, '/v1/me', key)).status).toBe(401);
    expect((await send(`/v1/api-keys/${id}`, 'DELETE')).status).toBe(404);
  });

  test('refuses a bad body with a 400 naming the field, and writes nothing', async () => {
    const before = await database.db.$count(apiKeysTable);
    const cases: [unknown, string][] = [
      [{ storeId: 'x' }, 'storeId'],
      [{ storeId: store, extra: 1 }, 'json'],
      [{ storeId: 4242 }, 'storeId'],
      [{ storeId: store, label: '' }, 'label'],
    ];
    for (const [body, parameter] of cases) {
      const res = await send('/v1/api-keys', 'POST', adminToken, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.parameter === parameter || res.body.error.message.includes(parameter), JSON.stringify(res.body)).toBe(true);
    }
    const notJson = await app.request('/v1/api-keys', { method: 'POST', headers: { authorization: `Bearer ${adminToken}` }, body: '{}' });
    expect(notJson.status).toBe(400);
    expect(await database.db.$count(apiKeysTable)).toBe(before);
  });
});

describe('the console and the docs', () => {
  test('/ serves the console page and its bundle from this server, with a policy that allows nothing else', async () => {
    const page = await app.request('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/console/console.js">');
    expect(html).not.toMatch(/https?:\/\//);
    const js = await app.request('/console/console.js');
    expect(js.headers.get('content-type')).toContain('javascript');
    expect((await js.text()).length).toBeGreaterThan(10_000);
    expect((await app.request('/console/../package.json')).status).toBe(404);
  });

  test('/docs serves Swagger UI from this server, and the spec reads as prose', async () => {
    const page = await app.request('/docs');
    const html = await page.text();
    expect(html).toContain('src="/docs/swagger-ui-bundle.js"');
    expect(html).not.toMatch(/https?:\/\//);
    expect((await app.request('/docs/swagger-ui-bundle.js')).status).toBe(200);
    expect((await app.request('/docs/swagger-ui.css')).headers.get('content-type')).toContain('text/css');
    const spec = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, { summary: string }>> };
    const summaries = Object.values(spec.paths).flatMap((item) => Object.values(item).map((op) => op.summary));
    expect(summaries.filter((s) => /^Get one |^List [a-z]+ [a-z]+s$| by [a-z]+Id$/.test(s))).toEqual([]);
    expect(spec.paths['/v1/stores/{storeId}/orders/{orderId}']!['get']!.summary).toBe('Read one order');
    expect(spec.paths['/v1/api-keys']!['post']!.summary).toContain('Create a key');
  });
});
