import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestApp, get, insertLog, insertOrders, keyFor, walk, type TestApp } from './test-helpers.ts';

let database: TestDatabase;
let app: TestApp;
const store = 5005;
const other = 6006;
const base = `/v1/stores/${store}`;
const at = new Date('2024-02-01T10:00:00Z');

const webhook = (eventId: string, eventType: string, entityKind: string, entityId: string, extra: Record<string, unknown> = {}) => ({
  kind: 'webhook' as const,
  storeId: store,
  eventId,
  eventType,
  entityKind,
  entityId,
  eventCreatedAt: at,
  payload: { eventId, eventType, storeId: store, entityId, ...extra },
});
const snapshot = (entityKind: string, entityId: string, payload: unknown, causedBy: number[]) => ({
  kind: 'snapshot' as const,
  storeId: store,
  eventType: entityKind,
  entityKind,
  entityId,
  payload,
  causedBy,
  fetchedAt: at,
});

let positions: Record<string, number> = {};

beforeAll(async () => {
  database = await createTestDatabase();
  app = createTestApp(database.db);
  const db = database.db;
  await insertOrders(db, store, [{ orderId: 'K8XTQ', internalId: 123456 }]);
  // Order webhooks carry the internal id; snapshots the public one (docs/decisions/0002).
  const [w1] = await insertLog(db, [webhook('e1', 'order.created', 'order', '123456', { data: { orderId: 'K8XTQ' } })]);
  const [s1] = await insertLog(db, [snapshot('order', 'K8XTQ', { id: 'K8XTQ', total: 10 }, [w1!.position])]);
  const [p1] = await insertLog(db, [webhook('e2', 'product.updated', 'product', '77')]);
  const [w2] = await insertLog(db, [webhook('e3', 'order.updated', 'order', '123456')]);
  const [s2] = await insertLog(db, [snapshot('order', 'K8XTQ', { id: 'K8XTQ', total: 12 }, [w2!.position])]);
  // A cart's webhook carries the internal order id; only caused_by links it to the cart.
  const [c1] = await insertLog(db, [webhook('e4', 'unfinished_order.created', 'abandoned_cart', '999', { data: { cartId: 'CART-X' } })]);
  const [c2] = await insertLog(db, [snapshot('abandoned_cart', 'CART-X', { cartId: 'CART-X' }, [c1!.position])]);
  const [t1] = await insertLog(db, [
    {
      kind: 'tombstone',
      storeId: store,
      eventType: 'order',
      entityKind: 'order',
      entityId: 'internal:123456',
      payload: { reason: 'deleted', internalId: 123456 },
      causedBy: [],
      fetchedAt: at,
    },
  ]);
  await insertLog(db, [{ ...webhook('e5', 'order.created', 'order', '123456'), storeId: other }]);
  positions = {
    w1: w1!.position,
    s1: s1!.position,
    p1: p1!.position,
    w2: w2!.position,
    s2: s2!.position,
    c1: c1!.position,
    c2: c2!.position,
    t1: t1!.position,
  };
});
afterAll(async () => {
  await database?.close();
});

describe('GET …/{entity}/{id}/history', () => {
  test("an order's history holds webhooks by internal id, snapshots by public id and tombstones, newest first", async () => {
    const res = await get(app, `${base}/orders/K8XTQ/history`);
    expect(res.status).toBe(200);
    expect(res.body.data.map((r: { position: number }) => r.position)).toEqual([
      positions.t1,
      positions.s2,
      positions.w2,
      positions.s1,
      positions.w1,
    ]);
    expect(res.body.data[1]).toMatchObject({
      kind: 'snapshot',
      entityKind: 'order',
      entityId: 'K8XTQ',
      payload: { total: 12 },
      causedBy: [positions.w2],
      fetchedAt: at.toISOString(),
    });
    expect(res.body.data[4]).toMatchObject({
      kind: 'webhook',
      eventType: 'order.created',
      eventId: 'e1',
      eventCreatedAt: at.toISOString(),
    });
    expect(res.body.nextCursor).toBeNull();
  });

  test('history pages with a cursor', async () => {
    const { rows, pages } = await walk(app, `${base}/orders/K8XTQ/history?limit=2`);
    expect(pages).toBe(3);
    expect(rows.map((r) => r.position)).toEqual([positions.t1, positions.s2, positions.w2, positions.s1, positions.w1]);
  });

  test("a cart's history includes the webhooks its snapshots answer", async () => {
    const res = await get(app, `${base}/abandoned-carts/CART-X/history`);
    expect(res.body.data.map((r: { position: number }) => r.position)).toEqual([positions.c2, positions.c1]);
  });

  test("a storage entry's history says it is the whole storage's, and only that one says so", async () => {
    const spec = (await get(app, '/openapi.json', null)).body as { paths: Record<string, { get: { description: string } }> };
    const storage = spec.paths['/v1/stores/{storeId}/storage/{key}/history']!.get.description;
    expect(storage).toContain("The store's whole app storage, not this key's alone");
    expect(spec.paths['/v1/stores/{storeId}/orders/{orderId}/history']!.get.description).not.toContain('whole app storage');
  });

  test('an entity with neither a row nor log records is a 404; one with records only is listed', async () => {
    expect((await get(app, `${base}/orders/NOPE/history`)).status).toBe(404);
    const product = await get(app, `${base}/products/77/history`);
    expect(product.status).toBe(200);
    expect(product.body.data.map((r: { eventId: string }) => r.eventId)).toEqual(['e2']);
  });

  test("a store key cannot read another store's history", async () => {
    const key = await keyFor(database.db, other);
    expect((await get(app, `${base}/orders/K8XTQ/history`, key)).status).toBe(404);
  });
});

describe('GET …/events', () => {
  test("is the store's log in position order, resumable from nextAfter", async () => {
    const all = await get(app, `${base}/events`);
    expect(all.status).toBe(200);
    const list = all.body.data.map((r: { position: number }) => r.position);
    expect(list).toEqual(Object.values(positions).sort((a, b) => a - b));
    expect(all.body.nextAfter).toBe(list.at(-1));

    const first = await get(app, `${base}/events?limit=3`);
    expect(first.body.data).toHaveLength(3);
    const rest = await get(app, `${base}/events?after=${first.body.nextAfter}`);
    expect([...first.body.data, ...rest.body.data].map((r: { position: number }) => r.position)).toEqual(list);
    const empty = await get(app, `${base}/events?after=${all.body.nextAfter}`);
    expect(empty.body).toEqual({ data: [], nextAfter: all.body.nextAfter });
  });

  test('rejects a bad after with a 400 naming it', async () => {
    const res = await get(app, `${base}/events?after=-1`);
    expect(res.status).toBe(400);
    expect(res.body.error.parameter).toBe('after');
  });
});
