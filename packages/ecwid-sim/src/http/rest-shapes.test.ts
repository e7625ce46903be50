import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { example, get, request, storeId, testSimulator, token } from '../test-helpers.ts';

const sim = testSimulator();

describe('REST shapes', () => {
  it('serves an order with every top-level and item key of examples/order.json', async () => {
    const list = await get(sim, '/orders?limit=1&paymentStatus=PAID');
    const order = (await get(sim, `/orders/${list.body.items[0].id}`)).body;
    const expected = example('order.json') as { items: Record<string, unknown>[] };
    expect(Object.keys(order)).toEqual(expect.arrayContaining(Object.keys(expected)));
    expect(Object.keys(order.items[0])).toEqual(expect.arrayContaining(Object.keys(expected.items[0]!)));
    expect(order.id).toMatch(/^[A-Z0-9]{5}$/);
    expect(order.updateDate).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0000$/);
    expect(order.invoices[0]).toEqual({
      internalId: expect.any(Number),
      id: expect.any(String),
      created: expect.any(String),
      link: expect.any(String),
      type: 'SALE',
    });
  });

  it('finds an order by public id and by internal id', async () => {
    const order = (await get(sim, '/orders?limit=1')).body.items[0];
    expect((await get(sim, `/orders/${order.internalId}`)).body.id).toBe(order.id);
    expect((await get(sim, `/orders/${order.id}/invoices`)).body).toEqual({
      invoices: order.invoices,
    });
  });

  it.each([
    ['/products', 'product.json'],
    ['/categories', 'category.json'],
    ['/customers', 'customer.json'],
    ['/discount_coupons', 'discount-coupon.json'],
  ])('serves %s items with every key of %s', async (path, file) => {
    const list = await get(sim, `${path}?limit=100`);
    const keys = new Set(list.body.items.flatMap((item: object) => Object.keys(item)));
    expect([...keys]).toEqual(expect.arrayContaining(Object.keys(example(file))));
    const one = await get(sim, `${path}/${list.body.items[0].id}`);
    expect(one.body).toEqual(list.body.items[0]);
  });

  it('wraps searches in the envelope of examples/orders-search.json', async () => {
    const { body } = await get(sim, '/orders?limit=2&offset=3');
    expect(Object.keys(body).sort()).toEqual(Object.keys(example('orders-search.json')).sort());
    expect(body).toMatchObject({ total: 200, count: 2, offset: 3, limit: 2 });
  });

  it('answers the small endpoints in their documented shapes', async () => {
    expect(Object.keys((await get(sim, '/application')).body)).toEqual(Object.keys(example('application-status-legacy.json')));
    const classes = (await get(sim, '/classes')).body;
    expect(Array.isArray(classes)).toBe(true);
    expect(classes[0]).toMatchObject({ id: 0, name: 'General' });
    expect((await get(sim, `/classes/${classes[1].id}`)).body).toEqual(classes[1]);
    const storage = (await get(sim, '/storage')).body;
    expect(storage).toContainEqual({ key: 'installedAt', value: expect.any(String) });
    expect((await get(sim, '/storage/installedAt')).body.key).toBe('installedAt');
    expect((await get(sim, '/profile')).body.generalInfo.storeId).toBe(storeId);
    expect(Object.keys((await get(sim, '/latest-stats')).body)).toEqual(
      expect.arrayContaining(Object.keys(example('latest-stats-legacy.json'))),
    );
    const promotions = (await get(sim, '/promotions')).body;
    expect(promotions).toMatchObject({ total: 3, count: 3 });
    expect((await get(sim, '/customer_groups')).body.items[0]).toEqual({ id: 0, name: 'General' });
    expect((await get(sim, '/carts?limit=1')).body.items[0].cartId).toMatch(/^[0-9A-F-]{36}$/);
    expect((await get(sim, '/reviews?limit=1')).body.items[0].orderId).toMatch(/^[A-Z0-9]{5}$/);
  });

  it('lists only enabled categories unless hidden_categories=true', async () => {
    const all = (await get(sim, '/categories?hidden_categories=true')).body;
    const enabled = (await get(sim, '/categories')).body;
    expect(all.total).toBe(10);
    expect(enabled.items.every((category: { enabled: boolean }) => category.enabled)).toBe(true);
    expect(enabled.total).toBe(all.items.filter((category: { enabled: boolean }) => category.enabled).length);
    expect(all.items.some((category: { parentId?: number }) => category.parentId)).toBe(true);
  });

  it('finds a coupon by its code', async () => {
    const coupon = (await get(sim, '/discount_coupons?limit=1')).body.items[0];
    expect((await get(sim, `/discount_coupons/${coupon.code}`)).body.id).toBe(coupon.id);
  });
});

describe('REST errors', () => {
  it.each([
    ['/orders/ZZZZZ', 'ORDER_NOT_FOUND'],
    ['/products/1', 'PRODUCT_NOT_FOUND'],
    ['/categories/1', 'CATEGORIES_NOT_FOUND'],
    ['/customers/1', 'CUSTOMER_NOT_FOUND'],
    ['/discount_coupons/NOPE', 'DISCOUNT_COUPON_NOT_FOUND'],
    ['/reviews/1', 'PRODUCT_REVIEW_NOT_FOUND'],
    ['/carts/00000000-0000-0000-0000-000000000000', 'CHECKOUT_NOT_FOUND'],
    ['/storage/missing', 'OTHER'],
  ])('answers %s with 404 %s', async (path, errorCode) => {
    const res = await get(sim, path);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errorMessage: expect.any(String), errorCode });
  });

  it('refuses a wrong or missing token with 403 INVALID_API_TOKEN', async () => {
    for (const headers of [{ Authorization: 'Bearer wrong' }, {} as Record<string, string>]) {
      const res = await sim.app.request(`/api/v3/${storeId}/orders`, { headers });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ errorCode: 'INVALID_API_TOKEN' });
    }
  });

  it('refuses a token of another store', async () => {
    const two = testSimulator({
      stores: [
        { storeId, token },
        { storeId: 2, token: 'other' },
      ],
    });
    const res = await two.app.request(`/api/v3/2/orders`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(403);
  });

  it('answers an unknown store with 404 STORE_NOT_FOUND', async () => {
    const res = await sim.app.request('/api/v3/999/orders', {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ errorCode: 'STORE_NOT_FOUND' });
  });

  it('answers bad parameters with 400 WRONG_PARAMETER', async () => {
    for (const query of ['updatedFrom=yesterday', 'limit=ten', 'offset=-1']) {
      const res = await get(sim, `/orders?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.errorCode).toBe('WRONG_PARAMETER');
    }
    expect((await get(sim, '/products?sortBy=RANDOM')).status).toBe(400);
  });
});

describe('transport', () => {
  it('gzips when asked', async () => {
    const res = await request(sim, '/orders?limit=5', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    const body = JSON.parse(gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8'));
    expect(body.count).toBe(5);
  });
});
