import { personalDataExportPartsTable, personalDataRequestsTable } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { adminToken, createTestApp, get, insertOrders, keyFor, type TestApp } from './test-helpers.ts';

/* Personal-data requests over HTTP: the admin token only; bad bodies get a 400 naming the field and write nothing. */

let database: TestDatabase;
let app: TestApp;
const store = 7107;
const other = 8108;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createTestApp(database.db);
  await insertOrders(database.db, store, [{ orderId: 'A1' }]);
  await insertOrders(database.db, other, [{ orderId: 'B1' }]);
});
afterAll(() => database.close());

const post = (
  path: string,
  body: unknown,
  { token = adminToken, type = 'application/json' }: { token?: string | null; type?: string } = {},
) =>
  app.request(path, {
    method: 'POST',
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), 'content-type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const count = async () => (await database.db.select().from(personalDataRequestsTable)).length;

describe('personal-data requests over HTTP', () => {
  test('the admin asks for an erasure and reads it back; the answer names the request and its status', async () => {
    const res = await post(`/v1/stores/${store}/personal-data-requests`, { kind: 'erase', customerId: 42, email: 'Jane@Example.com' });
    expect(res.status).toBe(202);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      kind: 'erase',
      scope: 'customer',
      source: 'api',
      customerId: 42,
      email: 'jane@example.com',
      status: 'received',
    });
    const one = await get(app, `/v1/stores/${store}/personal-data-requests/${String(body.id)}`);
    expect(one).toMatchObject({ status: 200, body: { id: body.id, status: 'received', exportUrl: null } });
    const list = await get(app, `/v1/stores/${store}/personal-data-requests`);
    expect(list.body.data.map((r: { id: number }) => r.id)).toEqual([body.id]);
    // Another store's list does not show it.
    expect((await get(app, `/v1/stores/${other}/personal-data-requests`)).body.data).toEqual([]);
    expect((await get(app, `/v1/stores/${other}/personal-data-requests/${String(body.id)}`)).status).toBe(404);
  });

  test('an erasure awaiting confirmation is confirmed or cancelled once, by the admin only; any other request is a 409', async () => {
    const make = async () => {
      const res = await post(`/v1/stores/${store}/personal-data-requests`, { kind: 'erase', customerId: 77 });
      const id = ((await res.json()) as { id: number }).id;
      // As the worker records one a webhook asked for.
      await database.db
        .update(personalDataRequestsTable)
        .set({ status: 'awaiting_confirmation', source: 'webhook' })
        .where(and(eq(personalDataRequestsTable.storeId, store), eq(personalDataRequestsTable.id, id)));
      return id;
    };
    const [first, second] = [await make(), await make()];
    // Newest first, a page at a time: the older one is on the next page.
    const page = await get(app, `/v1/stores/${store}/personal-data-requests?limit=1`);
    expect(page.body).toMatchObject({ data: [{ id: second }], nextBefore: second });
    const older = await get(app, `/v1/stores/${store}/personal-data-requests?limit=1&before=${second}`);
    expect(older.body.data.map((r: { id: number }) => r.id)).toEqual([first]);
    const key = await keyFor(database.db, store);
    expect((await post(`/v1/stores/${store}/personal-data-requests/${first}/confirm`, '', { token: key })).status).toBe(403);
    expect((await post(`/v1/stores/${store}/personal-data-requests/${first}/confirm`, '', { token: null })).status).toBe(401);
    expect((await post(`/v1/stores/${other}/personal-data-requests/${first}/confirm`, '')).status).toBe(404);
    const bad = await post(`/v1/stores/${store}/personal-data-requests/x1/confirm`, '');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { parameter?: string } }).error.parameter).toBe('id');

    const confirmed = await post(`/v1/stores/${store}/personal-data-requests/${first}/confirm`, '');
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json()).toMatchObject({ id: first, status: 'received' });
    const again = await post(`/v1/stores/${store}/personal-data-requests/${first}/cancel`, '');
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { message: string } }).error.message).toMatch(/is received, not awaiting confirmation/);

    const cancelled = await post(`/v1/stores/${store}/personal-data-requests/${second}/cancel`, '');
    expect(await cancelled.json()).toMatchObject({ id: second, status: 'cancelled', reason: 'cancelled by an operator' });
    expect((await post(`/v1/stores/${store}/personal-data-requests/${second}/confirm`, '')).status).toBe(409);
  });

  test("a store's key may not list, read or ask: 403; no token: 401", async () => {
    const key = await keyFor(database.db, store);
    const before = await count();
    expect((await get(app, `/v1/stores/${store}/personal-data-requests`, key)).status).toBe(403);
    expect((await post(`/v1/stores/${store}/personal-data-requests`, { kind: 'export', customerId: 1 }, { token: key })).status).toBe(403);
    expect((await post(`/v1/stores/${store}/personal-data-requests`, { kind: 'export', customerId: 1 }, { token: null })).status).toBe(401);
    expect(await count()).toBe(before);
  });

  test.each([
    [{ customerId: 1 }, 'kind'],
    [{ kind: 'forget', customerId: 1 }, 'kind'],
    [{ kind: 'erase' }, 'customerId'],
    [{ kind: 'erase', customerId: -3 }, 'customerId'],
    [{ kind: 'erase', customerId: 1.5 }, 'customerId'],
    [{ kind: 'erase', email: 'not an email' }, 'email'],
    [{ kind: 'erase', customerId: 1, extra: true }, ''],
    [{ kind: 'erase', scope: 'world' }, 'scope'],
    // A store's request is about every customer: naming one beside it is a contradiction, not a store request.
    [{ kind: 'export', scope: 'store', customerId: 5 }, 'customerId'],
    [{ kind: 'export', scope: 'store', email: 'jane@example.com' }, 'email'],
    [{ kind: 'erase', scope: 'store', customerId: 5 }, 'customerId'],
    [{ kind: 'erase', scope: 'store', email: 'jane@example.com' }, 'email'],
    [{ kind: 'erase', scope: 'store', customerId: 5, email: 'jane@example.com' }, 'customerId'],
    ['{"kind": "erase",', 'body'],
    [[1, 2], ''],
  ])('refuses %j with a 400 naming %s, and writes nothing', async (body, field) => {
    const before = await count();
    const res = await post(`/v1/stores/${store}/personal-data-requests`, body);
    expect(res.status).toBe(400);
    const error = ((await res.json()) as { error: { code: string; message: string; parameter: string } }).error;
    expect(error.code).toBe('BAD_REQUEST');
    if (field) expect(error.parameter).toBe(field);
    expect(await count()).toBe(before);
  });

  test('refuses a body that is not JSON (415-like 400) or too large (413)', async () => {
    expect(
      (await post(`/v1/stores/${store}/personal-data-requests`, 'kind=erase', { type: 'application/x-www-form-urlencoded' })).status,
    ).toBe(400);
    const large = await post(`/v1/stores/${store}/personal-data-requests`, { kind: 'erase', email: `${'a'.repeat(20_000)}@x.io` });
    expect(large.status).toBe(413);
  });

  test('takes an email with letters beyond ASCII, as the CLI does', async () => {
    const res = await post(`/v1/stores/${store}/personal-data-requests`, { kind: 'export', email: 'José@Example.com' });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ kind: 'export', email: 'josé@example.com', status: 'received' });
  });

  test('serves a finished export as one JSON document, and says when it is not ready', async () => {
    const created = await post(`/v1/stores/${store}/personal-data-requests`, { kind: 'export', scope: 'store' });
    const { id } = (await created.json()) as { id: number };
    const notReady = await get(app, `/v1/stores/${store}/personal-data-requests/${id}/export`);
    expect(notReady.status).toBe(409);
    expect(notReady.body.error.message).toBe(`export ${id} is not ready: it is received`);
    // As the worker leaves it: parts written, the request done.
    await database.db.insert(personalDataExportPartsTable).values([
      {
        storeId: store,
        requestId: id,
        part: 0,
        items: sql`'[{"source":"table","table":"orders","row":{"order_id":"A1","total":10.10}}]'::jsonb`,
      },
      { storeId: store, requestId: id, part: 1, items: sql`'[{"source":"log","position":7}]'::jsonb` },
    ]);
    await database.db
      .update(personalDataRequestsTable)
      .set({ status: 'done', exportParts: 2, finishedAt: new Date('2024-06-01T00:00:00Z') })
      .where(and(eq(personalDataRequestsTable.storeId, store), eq(personalDataRequestsTable.id, id)));
    const res = await app.request(`/v1/stores/${store}/personal-data-requests/${id}/export`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    // Numbers as written: the document is streamed from the parts, not re-encoded.
    expect(text).toContain('"total": 10.10');
    expect(JSON.parse(text)).toMatchObject({
      request: { id, kind: 'export', scope: 'store' },
      subject: { store },
      items: [
        { source: 'table', table: 'orders' },
        { source: 'log', position: 7 },
      ],
    });
    expect((await get(app, `/v1/stores/${store}/personal-data-requests/${id}`)).body.exportUrl).toBe(
      `/v1/stores/${store}/personal-data-requests/${id}/export`,
    );

    // An erasure of its subject deletes an export (its parts, and says so): gone, not empty.
    await database.db
      .update(personalDataRequestsTable)
      .set({ reason: 'deleted by erasure request 99' })
      .where(and(eq(personalDataRequestsTable.storeId, store), eq(personalDataRequestsTable.id, id)));
    const deleted = await get(app, `/v1/stores/${store}/personal-data-requests/${id}/export`);
    expect(deleted.status).toBe(404);
    expect(deleted.body.error.message).toBe(`export ${id} was deleted by erasure request 99, which erased its subject`);
    expect((await get(app, `/v1/stores/${store}/personal-data-requests/${id}`)).body).toMatchObject({
      status: 'done',
      reason: 'deleted by erasure request 99',
      exportUrl: null,
    });
  });
});
