import { describe, expect, it } from 'vitest';
import { get, testSimulator } from '../test-helpers.ts';
import { parseResponseFields, selectFields } from './response-fields.ts';

const sim = testSimulator();

describe('responseFields syntax', () => {
  it('parses top-level fields and nested selections to any depth', () => {
    const selection = parseResponseFields(' total , items( id ,items(productId)),count');
    expect([...selection.keys()]).toEqual(['total', 'items', 'count']);
    expect(selection.get('total')).toBeNull();
    const items = selection.get('items')!;
    expect([...items.keys()]).toEqual(['id', 'items']);
    expect([...items.get('items')!.keys()]).toEqual(['productId']);
  });

  it('merges a field named twice, a whole field winning over a selection', () => {
    expect(selectFields({ a: { b: 1, c: 2, d: 3 } }, parseResponseFields('a(b),a(c)'))).toEqual({ a: { b: 1, c: 2 } });
    expect(selectFields({ a: { b: 1, c: 2 } }, parseResponseFields('a(b),a'))).toEqual({ a: { b: 1, c: 2 } });
  });

  it('keeps the document order, trims arrays element by element and leaves scalars under a selection', () => {
    const doc = { z: 1, a: [{ id: 1, x: 2 }, { id: 2 }], s: 'text', missing: undefined };
    expect(Object.keys(selectFields(doc, parseResponseFields('a(id),z,s(x),nothing')) as object)).toEqual(['z', 'a', 's']);
    expect(selectFields(doc, parseResponseFields('a(id)'))).toEqual({ a: [{ id: 1 }, { id: 2 }] });
    expect(selectFields(doc, parseResponseFields('s(x)'))).toEqual({ s: 'text' });
  });

  it.each(['items(id', 'items)', 'items(id))', '(id)', 'items(id)x', ','])('refuses %j', (value) => {
    expect(() => parseResponseFields(value)).toThrow(/responseFields/);
  });
});

describe('responseFields on the REST API', () => {
  it('trims a listing and its envelope: total,items(id,updateTimestamp)', async () => {
    const full = (await get(sim, '/orders?limit=5')).body;
    const { status, body } = await get(sim, '/orders?limit=5&responseFields=total,items(id,updateTimestamp)');
    expect(status).toBe(200);
    expect(body).toEqual({
      total: full.total,
      items: full.items.map((order: { id: string; updateTimestamp: number }) => ({ id: order.id, updateTimestamp: order.updateTimestamp })),
    });
  });

  it('honours it on every listing the reconcile reads, and on the deleted-items histories', async () => {
    const first = (await get(sim, '/orders?limit=1')).body.items[0];
    sim.store(1003).remove('orders', first.internalId);
    for (const [path, fields] of [
      ['/orders', 'updateTimestamp'],
      ['/carts?showHidden=true', 'updateTimestamp'],
      ['/products', 'updateTimestamp'],
      ['/customers', 'updated'],
      ['/discount_coupons', 'updateDate'],
      ['/reviews', 'updateTimestamp'],
      ['/categories?hidden_categories=true', 'enabled'],
      ['/customer_groups', 'name'],
      ['/promotions', 'enabled'],
      ['/orders/deleted', 'date'],
    ] as const) {
      const key = path.startsWith('/carts') ? 'cartId' : 'id';
      const separator = path.includes('?') ? '&' : '?';
      const { status, body } = await get(sim, `${path}${separator}responseFields=count,total,items(${key},${fields})`);
      expect(status, path).toBe(200);
      expect(Object.keys(body), path).toEqual(['total', 'count', 'items']);
      expect(body.count, path).toBeGreaterThan(0);
      for (const item of body.items) expect(Object.keys(item).sort(), path).toEqual([key, fields].sort());
    }
  });

  it('trims single reads, bare arrays and nested objects', async () => {
    const order = (await get(sim, '/orders?limit=1')).body.items[0];
    expect((await get(sim, `/orders/${order.id}?responseFields=id,items(sku),nothing`)).body).toEqual({
      id: order.id,
      items: order.items.map((item: { sku: string }) => ({ sku: item.sku })),
    });
    const classes = (await get(sim, '/classes?responseFields=id')).body;
    expect(classes.every((type: object) => Object.keys(type).join() === 'id')).toBe(true);
    const profile = (await get(sim, '/profile?responseFields=generalInfo(storeId),settings(storeName)')).body;
    expect(profile).toEqual({ generalInfo: { storeId: 1003 }, settings: { storeName: expect.any(String) } });
  });

  it('leaves errors alone and refuses a malformed value with 400', async () => {
    const missing = await get(sim, '/orders/NOPE9?responseFields=id');
    expect(missing.status).toBe(404);
    expect(missing.body.errorCode).toBe('ORDER_NOT_FOUND');
    const malformed = await get(sim, '/orders?responseFields=items(id');
    expect(malformed.status).toBe(400);
    expect(malformed.body.errorCode).toBe('WRONG_PARAMETER');
  });

  it('trims batch sub-requests too', async () => {
    const batchSim = testSimulator({ batchDelayMs: 0 });
    const headers = { Authorization: 'Bearer secret_test', 'Content-Type': 'application/json' };
    const posted = await batchSim.app.request('/api/v3/1003/batch', {
      method: 'POST',
      headers,
      body: JSON.stringify([{ id: 'p', path: '/products?limit=2&responseFields=total,items(id)', method: 'GET' }]),
    });
    const { ticket } = (await posted.json()) as { ticket: string };
    for (;;) {
      const polled = (await (await batchSim.app.request(`/api/v3/1003/batch?ticket=${ticket}`, { headers })).json()) as any;
      if (polled.status !== 'COMPLETED') {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      expect(Object.keys(polled.responses[0].httpBody)).toEqual(['total', 'items']);
      expect(polled.responses[0].httpBody.items.map((item: object) => Object.keys(item))).toEqual([['id'], ['id']]);
      return;
    }
  });
});
