import { reconcileRunsTable } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestApp, get, insertOrders, keyFor, type TestApp } from './test-helpers.ts';

let database: TestDatabase;
let app: TestApp;
const store = 7007;
const other = 8008;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createTestApp(database.db);
  await insertOrders(database.db, store, [{ orderId: 'A1' }]);
  await insertOrders(database.db, other, [{ orderId: 'B1' }]);
  const run = (storeId: number, kind: string, extra: Partial<typeof reconcileRunsTable.$inferInsert> = {}) => ({
    storeId,
    kind,
    mode: 'full' as const,
    trigger: 'cli',
    status: 'done' as const,
    finishedAt: new Date('2024-05-01T10:00:00Z'),
    ...extra,
  });
  await database.db
    .insert(reconcileRunsTable)
    .values([
      run(store, 'discount_coupon', { missing: 2, stale: 1, appended: 3, requests: 4 }),
      run(store, 'order', { mode: 'incremental', missedDeletes: 1, progress: { phase: 'done' } }),
      run(other, 'order', { healedTombstones: 5 }),
      run(store, 'product', { status: 'running', finishedAt: null }),
    ]);
});
afterAll(() => database.close());

describe('GET /v1/stores/{storeId}/reconcile-runs', () => {
  test("lists the store's runs, newest first, with entities by their public names and the counts", async () => {
    const res = await get(app, `/v1/stores/${store}/reconcile-runs`);
    expect(res.status).toBe(200);
    expect(res.body.data.map((r: { entity: string; status: string }) => [r.entity, r.status])).toEqual([
      ['products', 'running'],
      ['orders', 'done'],
      ['discount-coupons', 'done'],
    ]);
    expect(res.body.data[2]).toMatchObject({
      mode: 'full',
      missing: 2,
      stale: 1,
      appended: 3,
      requests: 4,
      finishedAt: '2024-05-01T10:00:00.000Z',
    });
    expect(res.body.data[0]).not.toHaveProperty('progress');
    expect(res.body.nextBefore).toBeNull();
  });

  test('pages with nextBefore', async () => {
    const first = await get(app, `/v1/stores/${store}/reconcile-runs?limit=2`);
    expect(first.body.data).toHaveLength(2);
    const second = await get(app, `/v1/stores/${store}/reconcile-runs?limit=2&before=${first.body.nextBefore}`);
    expect(second.body.data.map((r: { entity: string }) => r.entity)).toEqual(['discount-coupons']);
    expect(second.body.nextBefore).toBeNull();
  });

  test("a store key reads its own store's runs and no other's", async () => {
    const key = await keyFor(database.db, other);
    const own = await get(app, `/v1/stores/${other}/reconcile-runs`, key);
    expect(own.body.data.map((r: { healedTombstones: number }) => r.healedTombstones)).toEqual([5]);
    expect((await get(app, `/v1/stores/${store}/reconcile-runs`, key)).status).toBe(404);
  });

  test('bad parameters are a 400 naming them', async () => {
    const res = await get(app, `/v1/stores/${store}/reconcile-runs?before=0x10`);
    expect(res.status).toBe(400);
    expect(res.body.error.parameter).toBe('before');
  });
});
