import {
  enrichmentStateTable,
  eventLogTable,
  execRows,
  reconcileRunsTable,
  storesTable,
  storeProfilesTable,
  storeTokensTable,
} from '@mirror/db';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { revokeApiKey } from './api-keys.ts';
import { adminToken, createTestApp, get, insertOrders, keyFor, projected, type TestApp } from './test-helpers.ts';

let database: TestDatabase;
let app: TestApp;
let keyA: string;
let keyB: string;
const storeA = 1001;
const storeB = 2002;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createTestApp(database.db);
  await insertOrders(database.db, storeA, [{ orderId: 'A1', items: 2 }, { orderId: 'A2' }]);
  await insertOrders(database.db, storeB, [{ orderId: 'B1' }]);
  await database.db
    .insert(storesTable)
    .values({ storeId: storeA, status: 'active', installedAt: new Date('2024-01-02T00:00:00Z'), ...projected({ status: 'active' }) });
  await database.db.insert(storeProfilesTable).values({
    storeId: storeA,
    storeName: 'Shop A',
    storeUrl: 'https://a.example',
    currency: 'USD',
    ...projected({ generalInfo: { storeId: storeA } }),
  });
  // Store A installed by OAuth (its token sealed: only the fingerprint is shown); B paused by an outage.
  await database.db.insert(storeTokensTable).values({
    storeId: storeA,
    tokenSealed: 'v1.00000000.bm9uY2U.c2VhbGVk',
    tokenFingerprint: 'sha256:0123456789ab',
    scopes: ['read_store_profile', 'read_orders'],
    source: 'oauth',
  });
  // A's last webhook, the document fetched for it, and a reconcile; B's webhook waits (paused).
  const [webhookA] = await database.db
    .insert(eventLogTable)
    .values({
      kind: 'webhook',
      storeId: storeA,
      eventId: 'evt-a-1',
      eventType: 'order.updated',
      isKnownType: true,
      payload: {},
      receivedAt: new Date('2024-01-03T00:00:00Z'),
    })
    .returning();
  await database.db.insert(eventLogTable).values([
    {
      kind: 'snapshot',
      storeId: storeA,
      eventType: 'order',
      entityKind: 'order',
      entityId: 'A9',
      isKnownType: true,
      payload: { id: 'A9' },
      causedBy: [webhookA!.position],
      fetchedAt: new Date('2024-01-03T00:00:01Z'),
    },
    {
      kind: 'webhook',
      storeId: storeB,
      eventId: 'evt-b-1',
      eventType: 'order.updated',
      isKnownType: true,
      payload: {},
      receivedAt: new Date(Date.now() - 60_000),
    },
  ]);
  await database.db.insert(reconcileRunsTable).values({
    storeId: storeA,
    kind: 'order',
    mode: 'incremental',
    trigger: 'schedule',
    status: 'done',
    finishedAt: new Date('2024-01-04T00:00:00Z'),
  });
  await database.db.insert(enrichmentStateTable).values([
    { storeId: storeA, status: 'active', position: webhookA!.position },
    { storeId: storeB, status: 'paused', lastError: 'UNAVAILABLE: HTTP 503', retryAt: new Date('2030-01-01T00:00:00Z') },
  ]);
  keyA = await keyFor(database.db, storeA, 'reporting');
  keyB = await keyFor(database.db, storeB);
});
afterAll(async () => {
  await database?.close();
});

describe('authentication', () => {
  test('answers 401 without a key, with a malformed header, or with a wrong key', async () => {
    const none = await get(app, `/v1/stores/${storeA}/orders`, null);
    const wrong = await get(app, `/v1/stores/${storeA}/orders`, 'mk_not-a-real-key');
    const basic = await app.request(`/v1/stores/${storeA}/orders`, { headers: { authorization: `Basic ${adminToken}` } });
    for (const res of [none, wrong, { status: basic.status, body: await basic.json() }]) {
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    }
    expect(basic.headers.get('www-authenticate')).toBe('Bearer');
  });

  test('the admin token reads every store; a wrong admin token of the same length does not', async () => {
    expect((await get(app, `/v1/stores/${storeA}/orders`)).status).toBe(200);
    expect((await get(app, `/v1/stores/${storeB}/orders`)).status).toBe(200);
    const forged = adminToken.slice(0, -1) + (adminToken.endsWith('9') ? '8' : '9');
    expect((await get(app, `/v1/stores/${storeA}/orders`, forged)).status).toBe(401);
  });

  test('without MIRROR_ADMIN_TOKEN no bearer value is an admin', async () => {
    const noAdmin = createTestApp(database.db, { adminToken: undefined });
    expect((await get(noAdmin, `/v1/stores/${storeA}/orders`, adminToken)).status).toBe(401);
    expect((await get(noAdmin, `/v1/stores/${storeA}/orders`, keyA)).status).toBe(200);
  });

  test('each store key sees only its own store; another store is a 404 exactly like a missing one', async () => {
    const ownA = await get(app, `/v1/stores/${storeA}/orders`, keyA);
    expect(ownA.body.data.map((o: { orderId: string }) => o.orderId).sort()).toEqual(['A1', 'A2']);
    const ownB = await get(app, `/v1/stores/${storeB}/orders`, keyB);
    expect(ownB.body.data.map((o: { orderId: string }) => o.orderId)).toEqual(['B1']);

    const foreign = await get(app, `/v1/stores/${storeB}/orders`, keyA);
    const foreignById = await get(app, `/v1/stores/${storeB}/orders/B1`, keyA);
    expect(foreign.status).toBe(404);
    expect(foreignById.status).toBe(404);
    // An admin asking for a store that does not exist gets the same body, shape and wording.
    const missing = await get(app, `/v1/stores/${storeB}/orders`.replace(String(storeB), '999999'));
    expect(missing.status).toBe(404);
    expect(foreign.body).toEqual({ error: { code: 'NOT_FOUND', message: `store ${storeB} not found` } });
    expect(missing.body).toEqual({ error: { code: 'NOT_FOUND', message: 'store 999999 not found' } });
    // The key's own store id with a store it cannot read: same answer whether B exists or not.
    const foreignMissing = await get(app, '/v1/stores/999999/orders', keyA);
    expect(foreignMissing).toEqual(missing);
  });

  test('a revoked key is refused with 401', async () => {
    const key = await keyFor(database.db, storeA, 'temporary');
    expect((await get(app, `/v1/stores/${storeA}/orders`, key)).status).toBe(200);
    const outcome = await revokeApiKey(database.db, key.slice(0, 11));
    expect(outcome.status).toBe('revoked');
    const after = await get(app, `/v1/stores/${storeA}/orders`, key);
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('UNAUTHORIZED');
  });

  test('a cached key lookup expires, so revocation takes effect within keyCacheMs', async () => {
    let now = 0;
    const key = await keyFor(database.db, storeA);
    const clockApp = createTestApp(database.db, { keyCacheMs: 1000, now: () => now });
    expect((await get(clockApp, `/v1/stores/${storeA}/orders`, key)).status).toBe(200);
    await revokeApiKey(database.db, key.slice(0, 11));
    now = 500;
    expect((await get(clockApp, `/v1/stores/${storeA}/orders`, key)).status).toBe(200);
    now = 1500;
    expect((await get(clockApp, `/v1/stores/${storeA}/orders`, key)).status).toBe(401);
  });
});

describe('GET /v1/stores', () => {
  test('the admin sees every store with data, with install state and profile', async () => {
    const res = await get(app, '/v1/stores');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([
      {
        storeId: storeA,
        status: 'active',
        statusReason: null,
        retryAt: null,
        installedAt: '2024-01-02T00:00:00.000Z',
        uninstalledAt: null,
        scopes: ['read_store_profile', 'read_orders'],
        tokenFingerprint: 'sha256:0123456789ab',
        catchUp: null,
        lastWebhookAt: '2024-01-03T00:00:00.000Z',
        lastFetchAt: '2024-01-03T00:00:01.000Z',
        lastReconcileAt: '2024-01-04T00:00:00.000Z',
        lagRecords: 0,
        lagSeconds: 0,
        storeName: 'Shop A',
        storeUrl: 'https://a.example',
        currency: 'USD',
      },
      {
        storeId: storeB,
        status: 'paused',
        statusReason: 'UNAVAILABLE: HTTP 503',
        retryAt: '2030-01-01T00:00:00.000Z',
        installedAt: null,
        uninstalledAt: null,
        scopes: null,
        tokenFingerprint: null,
        catchUp: null,
        lastWebhookAt: expect.any(String),
        lastFetchAt: null,
        lastReconcileAt: null,
        lagRecords: 1,
        lagSeconds: expect.closeTo(60, -1),
        storeName: null,
        storeUrl: null,
        currency: null,
      },
    ]);
    expect(JSON.stringify(res.body)).not.toContain('c2VhbGVk');
  });

  test('a store key sees only its store', async () => {
    const res = await get(app, '/v1/stores', keyB);
    expect(res.body.data.map((s: { storeId: number }) => s.storeId)).toEqual([storeB]);
  });
});

describe('errors', () => {
  test('a bad storeId is a 400 naming storeId', async () => {
    const res = await get(app, '/v1/stores/abc/orders');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'BAD_REQUEST', message: expect.stringContaining('storeId'), parameter: 'storeId' } });
  });

  test.each([
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['createdFrom=yesterday', 'createdFrom'],
    ['updatedTo=2024-13-45', 'updatedTo'],
    ['sort=name', 'sort'],
    ['paymentStatus=paid;drop', 'paymentStatus'],
    ['customerId=-1', 'customerId'],
    ['includeDeleted=yes', 'includeDeleted'],
    ['cursor=abc.def', 'cursor'],
  ])('GET orders?%s is a 400 naming %s', async (query, parameter) => {
    const res = await get(app, `/v1/stores/${storeA}/orders?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'BAD_REQUEST', parameter });
    expect(res.body.error.message).toContain(`"${parameter}"`);
    // Our shape, not zod's.
    expect(Object.keys(res.body)).toEqual(['error']);
  });

  test('get-by-id checks its parameters (without zod when plainly valid) with the same answers as zod', async () => {
    const base = `/v1/stores/${storeA}`;
    const body = (await get(app, `${base}/orders/A1`)).body;
    expect(body.orderId).toBe('A1');
    // A query string takes zod's path.
    expect(await get(app, `${base}/orders/A1?includeDeleted=false`)).toEqual({ status: 200, body });
    const cases: [string, string][] = [
      // An unknown parameter is refused (it used to be ignored), on the fast route as on lists.
      [`${base}/orders/A1?foo=bar`, 'foo'],
      // A NUL or an escape that is not UTF-8 never reaches the fast path's lookup.
      [`${base}/orders/%00`, 'orderId'],
      [`${base}/orders/A%FF1`, 'orderId'],
      [`${base}/orders/%C3%28`, 'orderId'],
      [`${base}/orders/%`, 'orderId'],
      [`${base}/products/%00`, 'productId'],
      [`${base}/orders/A1?includeDeleted=yes`, 'includeDeleted'],
      [`${base}/orders/A1?includeDeleted=true&includeDeleted=true`, 'includeDeleted'],
      [`${base}/orders/${'x'.repeat(201)}`, 'orderId'],
      [`${base}/products/abc`, 'productId'],
      [`${base}/products/${'9'.repeat(16)}`, 'productId'],
      // Both wrong: the query is checked first, as app.openapi() does.
      [`${base}/products/abc?includeDeleted=1`, 'includeDeleted'],
    ];
    for (const [path, parameter] of cases) {
      const res = await get(app, path);
      expect(res.status, path).toBe(400);
      expect(res.body, path).toEqual({ error: { code: 'BAD_REQUEST', message: expect.stringContaining(`"${parameter}"`), parameter } });
    }
    // Percent-encoded ids are decoded, as zod saw them; numeric ids reach the handler as numbers.
    expect((await get(app, `${base}/orders/%41%31`)).body.orderId).toBe('A1');
    expect(await get(app, `${base}/products/0042`)).toEqual({
      status: 404,
      body: { error: { code: 'NOT_FOUND', message: 'productId 42 not found' } },
    });
  });

  test('a tampered cursor is a 400 naming cursor', async () => {
    const first = await get(app, `/v1/stores/${storeA}/orders?limit=1`);
    const cursor: string = first.body.nextCursor;
    expect(cursor).toEqual(expect.any(String));
    const [payload, signature] = cursor.split('.');
    const state = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    state[4] = 'ZZZZ';
    const forged = `${Buffer.from(JSON.stringify(state)).toString('base64url')}.${signature}`;
    const flipped = `${payload}.${signature!.slice(0, -2)}${signature!.endsWith('AA') ? 'AB' : 'AA'}`;
    for (const bad of [forged, flipped, 'not-a-cursor', `${payload}`]) {
      const res = await get(app, `/v1/stores/${storeA}/orders?limit=1&cursor=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.parameter).toBe('cursor');
    }
    // A genuine cursor of another sort is refused too, not misread.
    const other = await get(app, `/v1/stores/${storeA}/orders?limit=1&sort=updatedAt&cursor=${encodeURIComponent(cursor)}`);
    expect(other.status).toBe(400);
    expect(other.body.error.parameter).toBe('cursor');
  });

  test('concurrent get-by-id requests (batched into one statement) each get their own answer', async () => {
    const paths = [
      `/v1/stores/${storeA}/orders/A1`,
      `/v1/stores/${storeA}/orders/NOPE`,
      `/v1/stores/${storeA}/orders/A2`,
      `/v1/stores/${storeA}/orders/A1`,
      `/v1/stores/${storeB}/orders/B1`,
      `/v1/stores/${storeB}/orders/A1`,
    ];
    const answers = await Promise.all(paths.map((path) => get(app, path)));
    expect(answers.map((a) => [a.status, a.body.orderId ?? a.body.error?.message])).toEqual([
      [200, 'A1'],
      [404, 'orderId NOPE not found'],
      [200, 'A2'],
      [200, 'A1'],
      [200, 'B1'],
      [404, 'orderId A1 not found'],
    ]);
    expect(answers[0]!.body.items).toHaveLength(2);
    expect(answers[0]).toEqual(await get(app, `/v1/stores/${storeA}/orders/A1`));
  });

  test.skipIf(concurrencySkipReason("closing the API's Postgres connections under it"))(
    'get-by-id keeps answering after Postgres closes the connections its batches used',
    async () => {
      const paths = [`/v1/stores/${storeA}/orders/A1`, `/v1/stores/${storeA}/orders/A2`, `/v1/stores/${storeB}/orders/B1`];
      const before = await Promise.all(paths.map((path) => get(app, path)));
      expect(before.map((a) => a.status)).toEqual([200, 200, 200]);
      // Every other connection of this database, idle now: the batches' connection among them.
      const killed = await execRows<{ n: number }>(
        database.db,
        sql`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
      );
      expect(killed[0]!.n).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const after = await Promise.all(paths.map((path) => get(app, path)));
      expect(after).toEqual(before);
    },
  );

  test('unknown routes and unknown entities are 404 in the error shape', async () => {
    const route = await get(app, '/v1/nope');
    expect(route.status).toBe(404);
    expect(route.body.error.code).toBe('NOT_FOUND');
    const order = await get(app, `/v1/stores/${storeA}/orders/NOPE`);
    expect(order).toEqual({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'orderId NOPE not found' } } });
  });

  test('calls onRequest with the route pattern, status and duration', async () => {
    const seen: { route: string; status: number; durationMs: number }[] = [];
    const metered = createTestApp(database.db, { onRequest: (info) => seen.push(info) });
    await get(metered, `/v1/stores/${storeA}/orders/A1`);
    await get(metered, `/v1/stores/${storeA}/orders?limit=0`);
    expect(seen.map((s) => [s.route, s.status])).toEqual([
      ['/v1/stores/:storeId/orders/:orderId', 200],
      ['/v1/stores/:storeId/orders', 400],
    ]);
    expect(seen[0]!.durationMs).toBeGreaterThan(0);
  });
});

describe('reference', () => {
  test('every GET a store key is refused (403) documents the 403, and no other does', async () => {
    const spec = (await get(app, '/openapi.json', null)).body;
    const refused: string[] = [];
    const documented: string[] = [];
    for (const [path, item] of Object.entries<any>(spec.paths)) {
      if (!item.get) continue;
      if (item.get.responses['403']) documented.push(path);
      // Path parameters: the key's own store, and an id of 1.
      const url = path.replace('{storeId}', String(storeA)).replaceAll(/\{[^}]+\}/g, '1');
      if ((await get(app, url, keyA)).status === 403) refused.push(path);
    }
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(documented.sort()).toEqual(refused.sort());
  });

  test("a line's options are documented as the list they are, in orders and carts", async () => {
    const spec = (await get(app, '/openapi.json', null)).body;
    const found: { where: string; schema: any }[] = [];
    const walk = (node: any, where: string) => {
      if (node === null || typeof node !== 'object') return;
      if (node.properties?.options) found.push({ where, schema: node.properties.options });
      for (const [key, child] of Object.entries<any>(node)) walk(child, `${where}.${key}`);
    };
    walk(spec.components.schemas, 'components');
    expect(found.map((f) => f.where)).toEqual(expect.arrayContaining([expect.stringMatching(/Order/), expect.stringMatching(/Cart/)]));
    for (const { where, schema } of found) {
      const types = [schema.type, ...(schema.anyOf ?? []).map((s: any) => s.type)].flat().filter(Boolean);
      expect({ where, types }).toEqual({ where, types: expect.arrayContaining(['array']) });
      expect({ where, types }).toEqual({ where, types: expect.not.arrayContaining(['object']) });
    }
  });

  test('no query parameter carries an example, which "Try it out" would send as a filter', async () => {
    const spec = (await get(app, '/openapi.json', null)).body;
    const withExamples = Object.entries<any>(spec.paths).flatMap(([path, item]) =>
      Object.values<any>(item).flatMap((op) =>
        (op.parameters ?? [])
          .filter((p: any) => p.in === 'query' && (p.example !== undefined || p.schema?.example !== undefined))
          .map((p: any) => `${path} ${p.name}`),
      ),
    );
    expect(withExamples).toEqual([]);
  });

  test('/openapi.json is an OpenAPI 3.1 document with a path for every route, generated from the request schemas', async () => {
    const res = await get(app, '/openapi.json', null);
    expect(res.status).toBe(200);
    const spec = res.body;
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.info.title).toEqual(expect.any(String));
    const paths = Object.keys(spec.paths);
    const entities = [
      'orders',
      'abandoned-carts',
      'products',
      'categories',
      'product-types',
      'customers',
      'customer-groups',
      'discount-coupons',
      'promotions',
      'reviews',
      'invoices',
      'storage',
    ];
    const expected = [
      '/v1/stores',
      '/v1/stores/{storeId}/events',
      '/v1/stores/{storeId}/reconcile-runs',
      '/v1/stores/{storeId}/personal-data-requests',
      '/v1/stores/{storeId}/personal-data-requests/{id}',
      '/v1/stores/{storeId}/personal-data-requests/{id}/export',
      '/v1/stores/{storeId}/personal-data-requests/{id}/confirm',
      '/v1/stores/{storeId}/personal-data-requests/{id}/cancel',
      '/v1/stores/{storeId}/profile',
      '/v1/stores/{storeId}/profile/history',
      '/v1/stores/{storeId}/subscription',
      '/v1/stores/{storeId}/subscription/history',
      // What the operator console reads and does (operations-routes.int.test.ts).
      '/v1/me',
      '/v1/status',
      '/v1/stores/{storeId}/lag-history',
      '/v1/stores/{storeId}/parked',
      '/v1/stores/{storeId}/parked/{id}/retry',
      '/v1/stores/{storeId}/parked/retry',
      '/v1/stores/{storeId}/verify',
      '/v1/stores/{storeId}/backfill',
      '/v1/api-keys',
      '/v1/api-keys/{id}',
      ...entities.flatMap((e) => [`/v1/stores/{storeId}/${e}`]),
    ];
    for (const path of expected) expect(paths, path).toContain(path);
    for (const e of entities) {
      expect(
        paths.filter((p) => p.startsWith(`/v1/stores/{storeId}/${e}/{`)),
        e,
      ).toHaveLength(2);
    }
    expect(paths).toHaveLength(expected.length + entities.length * 2);
    for (const item of Object.values<any>(spec.paths)) {
      for (const op of Object.values<any>(item)) {
        expect(Object.keys(op.responses).some((status) => status.startsWith('2'))).toBe(true);
        expect(op.security).toEqual([{ bearerAuth: [] }]);
      }
    }
    // Writes: personal-data requests, keys, retries and verify (the admin token's).
    expect(Object.keys(spec.paths['/v1/stores/{storeId}/personal-data-requests'])).toEqual(['get', 'post']);
    expect(spec.paths['/v1/stores/{storeId}/personal-data-requests'].post.responses['202']).toBeDefined();
    const orderParams = spec.paths['/v1/stores/{storeId}/orders'].get.parameters.map((p: { name: string }) => p.name);
    expect(orderParams).toEqual(
      expect.arrayContaining([
        'storeId',
        'limit',
        'cursor',
        'sort',
        'paymentStatus',
        'fulfillmentStatus',
        'email',
        'customerId',
        'createdFrom',
        'createdTo',
        'updatedFrom',
        'updatedTo',
        'includeDeleted',
        'includeDoc',
      ]),
    );
    const sort = spec.paths['/v1/stores/{storeId}/orders'].get.parameters.find((p: { name: string }) => p.name === 'sort');
    expect(sort.schema.enum).toEqual(expect.arrayContaining(['createdAt', '-createdAt', 'total', '-updatedAt']));
    expect(spec.components.schemas.Order.properties.total).toMatchObject({ type: expect.arrayContaining(['string']) });
    expect(spec.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  test('/docs serves a self-contained HTML reference', async () => {
    const res = await app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('<!doctype html>');
    // Every script and style from this server (the icon is none: `data:,`, so no request for
    // one); the spec URL is in the viewer's settings.
    expect(html).not.toMatch(/<script[^>]+src="(?!\/docs\/)|<link[^>]+href="(?!\/docs\/|data:,")/);
    expect(html).toContain('<link rel="icon" href="data:,">');
    expect(await (await app.request('/docs/init.js')).text()).toContain('/openapi.json');
  });
});
