import { describe, expect, it } from 'vitest';
import { get, storeId, testSimulator } from '../test-helpers.ts';

// What an incremental reconcile reads: `updatedFrom` (inclusive, seconds), the deleted-items
// histories from `from_date`, and derived fields that move without a webhook of their own.
describe('incremental listings', () => {
  let now = Date.UTC(2025, 0, 1, 12);
  const sim = testSimulator({ now: () => now, rateLimitPerMinute: 100_000 });
  const store = sim.store(storeId);

  it.each([
    ['/orders', 'orders', (doc: any) => doc.internalId, (item: any) => item.internalId],
    ['/carts?showHidden=true', 'carts', (doc: any) => doc.cartId, (item: any) => item.cartId],
    ['/products', 'products', (doc: any) => doc.id, (item: any) => item.id],
    ['/products?sortBy=UPDATED_TIME_ASC', 'products', (doc: any) => doc.id, (item: any) => item.id],
    ['/customers', 'customers', (doc: any) => doc.id, (item: any) => item.id],
    ['/customers?sortBy=UPDATED_DATE_ASC', 'customers', (doc: any) => doc.id, (item: any) => item.id],
    ['/discount_coupons', 'coupons', (doc: any) => doc.id, (item: any) => item.id],
    ['/reviews', 'reviews', (doc: any) => doc.id, (item: any) => item.id],
  ] as const)('%s: updatedFrom is inclusive and finds what changed in that very second', async (path, kind, keyOf, itemKey) => {
    now += 10_000;
    const second = Math.floor(now / 1000);
    const doc = store.table(kind).values()[3]!;
    store.update(kind, keyOf(doc as never), () => {});
    const separator = path.includes('?') ? '&' : '?';
    const from = await get(sim, `${path}${separator}updatedFrom=${second}`);
    expect(from.body.items.map(itemKey)).toEqual([keyOf(doc as never)]);
    expect((await get(sim, `${path}${separator}updatedFrom=${second + 1}`)).body.total).toBe(0);
    expect((await get(sim, `${path}${separator}updatedFrom=${second - 1}&updatedTo=${second}`)).body.total).toBe(1);
  });

  it.each([
    ['orders', 'orders', (doc: any) => doc.internalId],
    ['products', 'products', (doc: any) => doc.id],
    ['customers', 'customers', (doc: any) => doc.id],
    ['coupons', 'coupons', (doc: any) => doc.id],
    ['discount_coupons', 'coupons', (doc: any) => doc.id],
    ['reviews', 'reviews', (doc: any) => doc.id],
  ] as const)('/%s/deleted lists deletions from from_date, inclusive', async (path, kind, keyOf) => {
    now += 10_000;
    const second = Math.floor(now / 1000);
    const doc = store.table(kind).values()[0]!;
    store.remove(kind, keyOf(doc as never));
    const { body } = await get(sim, `/${path}/deleted?from_date=${second}`);
    expect(body.items.map((item: { id: number }) => item.id)).toEqual([keyOf(doc as never)]);
    expect(body.items[0].date).toMatch(/ \+0000$/);
    expect((await get(sim, `/${path}/deleted?from_date=${second + 1}`)).body.total).toBe(0);
  });
});

describe('derived fields', () => {
  it('recounts a category when its products change, without touching the category', async () => {
    const sim = testSimulator();
    const store = sim.store(storeId);
    const category = store.categories
      .values()
      .find((candidate) => store.products.values().some((p) => p.categoryIds.includes(candidate.id)))!;
    const read = async () => (await get(sim, `/categories/${category.id}?productIds=true`)).body;
    const listed = async () =>
      (await get(sim, '/categories?hidden_categories=true')).body.items.find((item: { id: number }) => item.id === category.id);
    const before = await read();
    expect(await listed()).toEqual({ ...before, productIds: undefined } as object);
    expect(before.productCount).toBe(before.productIds.length);
    const product = store.products.values().find((candidate) => candidate.categoryIds.includes(category.id))!;
    const statBefore = store.latestStats.get('categoriesUpdated');

    store.update('products', product.id, (doc) => {
      doc.enabled = !doc.enabled;
    });
    const toggled = await read();
    expect(toggled.productCount).toBe(before.productCount);
    expect(toggled.enabledProductCount).toBe(before.enabledProductCount + (product.enabled ? 1 : -1));

    store.remove('products', product.id);
    const removed = await read();
    expect(removed.productCount).toBe(before.productCount - 1);
    expect(removed.productIds).not.toContain(product.id);
    // The category itself did not change: same own fields, no categories stat bump.
    const own = ({ productCount: _a, enabledProductCount: _b, productIds: _c, ...rest }: any) => rest;
    expect(own(removed)).toEqual(own(before));
    expect(store.latestStats.get('categoriesUpdated')).toBe(statBefore);
  });

  it("shows a category's visibility on its products without changing them", async () => {
    const sim = testSimulator();
    const store = sim.store(storeId);
    const product = store.products.values().find((candidate) => candidate.categoryIds.length)!;
    const categoryId = product.categoryIds[0]!;
    const before = (await get(sim, `/products/${product.id}`)).body;
    store.update('categories', categoryId, (doc) => {
      doc.enabled = !doc.enabled;
    });
    const after = (await get(sim, `/products/${product.id}`)).body;
    const flag = (body: any) => body.categories.find((entry: { id: number }) => entry.id === categoryId).enabled;
    expect(flag(after)).toBe(!flag(before));
    expect(after.updateTimestamp).toBe(before.updateTimestamp);
  });
});
