import { describe, expect, it } from 'vitest';
import { get, testSimulator } from '../test-helpers.ts';

const sim = testSimulator();

async function pageThrough(path: string, limit: number) {
  const seen: any[] = [];
  for (let offset = 0; ; offset += limit) {
    const { body } = await get(sim, `${path}${path.includes('?') ? '&' : '?'}offset=${offset}&limit=${limit}`);
    seen.push(...body.items);
    if (offset + limit >= body.total) return { seen, total: body.total };
  }
}

describe('searches', () => {
  it('pages through every order exactly once', async () => {
    const { seen, total } = await pageThrough('/orders', 33);
    expect(total).toBe(200);
    expect(new Set(seen.map((order) => order.id)).size).toBe(200);
  });

  it('caps limit at 100', async () => {
    expect((await get(sim, '/orders?limit=500')).body).toMatchObject({ limit: 100, count: 100 });
  });

  it('filters orders by public and internal ids, each once', async () => {
    const orders = (await get(sim, '/orders?limit=3')).body.items;
    const ids = [orders[0].id, orders[1].internalId, orders[2].id, orders[0].internalId, 'NOPE1'].join(',');
    const { body } = await get(sim, `/orders?ids=${ids}`);
    expect(body.items.map((order: { id: string }) => order.id).sort()).toEqual(orders.map((order: { id: string }) => order.id).sort());
  });

  it('filters orders by update time, inclusive, in both date formats', async () => {
    const all = (await pageThrough('/orders', 100)).seen;
    const from = all[50].updateTimestamp;
    const to = all[120].updateTimestamp;
    const expected = all.filter((order) => order.updateTimestamp >= from && order.updateTimestamp <= to).map((order) => order.id);
    const byNumber = await pageThrough(`/orders?updatedFrom=${from}&updatedTo=${to}`, 20);
    expect(byNumber.seen.map((order) => order.id)).toEqual(expected);
    const fromDate = encodeURIComponent(all[50].updateDate.replace(' +0000', ''));
    const byDate = (await get(sim, `/orders?updatedFrom=${fromDate}&updatedTo=${to}`)).body;
    expect(byDate.total).toBe(expected.length);
  });

  it('filters orders by status, email and customer', async () => {
    const paid = (await get(sim, '/orders?paymentStatus=PAID,REFUNDED')).body;
    expect(paid.items.every((order: { paymentStatus: string }) => ['PAID', 'REFUNDED'].includes(order.paymentStatus))).toBe(true);
    const sample = paid.items.find((order: { customerId?: number }) => order.customerId);
    const byCustomer = (await get(sim, `/orders?customerId=${sample.customerId}`)).body;
    expect(byCustomer.total).toBeGreaterThan(0);
    expect(byCustomer.items.every((order: { email: string }) => order.email === sample.email)).toBe(true);
    expect((await get(sim, `/orders?email=${encodeURIComponent(sample.email)}`)).body.total).toBe(byCustomer.total);
  });

  it('returns the listed products and ignores other filters when productId is given', async () => {
    const products = (await get(sim, '/products?limit=4')).body.items;
    const ids = products.map((product: { id: number }) => product.id);
    const { body } = await get(sim, `/products?productId=${ids.join(',')},${ids[0]}&enabled=false&sku=nothing`);
    expect(body.items.map((product: { id: number }) => product.id)).toEqual(ids);
  });

  it('sorts products by update time both ways and filters them by it', async () => {
    const asc = (await get(sim, '/products?sortBy=UPDATED_TIME_ASC')).body.items.map((p: { updateTimestamp: number }) => p.updateTimestamp);
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    const desc = (await get(sim, '/products?sortBy=UPDATED_TIME_DESC')).body.items.map(
      (p: { updateTimestamp: number }) => p.updateTimestamp,
    );
    expect(desc).toEqual([...asc].reverse());
    const from = asc[25];
    const newer = (await get(sim, `/products?updatedFrom=${from}`)).body;
    expect(newer.total).toBe(asc.filter((t: number) => t >= from).length);
  });

  it('finds a product by a variation sku', async () => {
    const products = (await get(sim, '/products')).body.items;
    const withVariations = products.find((product: { combinations: unknown[] }) => product.combinations.length);
    const { body } = await get(sim, `/products?sku=${withVariations.combinations[0].sku}`);
    expect(body.items.map((product: { id: number }) => product.id)).toEqual([withVariations.id]);
  });

  it('counts all customers next to the filtered ones', async () => {
    const customer = (await get(sim, '/customers?limit=1')).body.items[0];
    const { body } = await get(sim, `/customers?email=${encodeURIComponent(customer.email)}`);
    expect(body).toMatchObject({ total: 1, allCustomerCount: 40 });
  });

  it('filters reviews by product and review id', async () => {
    const review = (await get(sim, '/reviews?limit=1')).body.items[0];
    expect((await get(sim, `/reviews?reviewId=${review.id}`)).body.items).toEqual([review]);
    const byProduct = (await get(sim, `/reviews?productId=${review.productId}`)).body.items;
    expect(byProduct.every((candidate: { productId: number }) => candidate.productId === review.productId)).toBe(true);
  });
});

describe('deletions', () => {
  it('lists deleted orders with their public id and answers 404 afterwards', async () => {
    const store = sim.store(1003);
    const order = store.orders.at(0)!;
    store.remove('orders', order.internalId);
    expect((await get(sim, `/orders/${order.id}`)).status).toBe(404);
    const deleted = (await get(sim, '/orders/deleted')).body;
    expect(deleted).toMatchObject({ total: 1, count: 1, offset: 0, limit: 100 });
    expect(deleted.items[0]).toEqual({
      id: order.internalId,
      orderId: order.id,
      date: expect.stringMatching(/\+0000$/),
    });
    const product = store.products.at(0)!;
    store.remove('products', product.id);
    expect((await get(sim, `/products/${product.id}`)).status).toBe(404);
    expect((await get(sim, '/products/deleted?from_date=2000-01-01')).body.items.map((item: { id: number }) => item.id)).toEqual([
      product.id,
    ]);
    expect((await get(sim, '/products/deleted?to_date=2000-01-01')).body.total).toBe(0);
  });

  it('moves an updated order to the end of an updatedFrom search', async () => {
    const store = sim.store(1003);
    const order = store.orders.at(5)!;
    store.update('orders', order.internalId, (doc) => {
      doc.fulfillmentStatus = 'SHIPPED';
    });
    const { body } = await get(sim, `/orders?updatedFrom=${order.updateTimestamp}`);
    expect(body.items.at(-1).id).toBe(order.id);
    expect(body.items.at(-1).updateDate).toBe(order.updateDate);
  });
});
