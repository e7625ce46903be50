import {
  abandonedCartsTable,
  appStorageTable,
  appSubscriptionsTable,
  categoriesTable,
  customerGroupsTable,
  customersTable,
  discountCouponsTable,
  invoicesTable,
  ordersTable,
  productTypesTable,
  promotionsTable,
  reviewsTable,
  storeProfilesTable,
  execRows,
} from '@mirror/db';
import { createTestDatabase, postgresSkipReason, type TestDatabase } from '@mirror/db/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { entities } from './entities.ts';
import { findJsonStatement } from './entity-routes.ts';
import { listStatementsInFlight } from './fast-rows.ts';
import { createTestApp, get, insertOrders, insertProduct, projected, walk, type OrderSeed, type TestApp } from './test-helpers.ts';

let database: TestDatabase;
let app: TestApp;
const store = 3003;
const base = `/v1/stores/${store}`;
const day = (n: number) => new Date(Date.UTC(2024, 0, 1) + n * 86_400_000);
const ids = (rows: Record<string, unknown>[], key: string) => rows.map((r) => r[key]);

// 60 orders: created a day apart, with some ties in created_at, a few without dates (rows a
// tombstone made), statuses and customers spread out.
const orders: OrderSeed[] = Array.from({ length: 60 }, (_, i) => ({
  orderId: `O${String(i).padStart(3, '0')}`,
  internalId: 9_000_000 + i,
  orderNumber: i + 1,
  email: i % 10 === 0 ? 'vip@example.com' : `c${i}@example.com`,
  customerId: i % 10 === 0 ? 77 : 100 + i,
  paymentStatus: ['PAID', 'AWAITING_PAYMENT', 'REFUNDED'][i % 3]!,
  fulfillmentStatus: ['AWAITING_PROCESSING', 'SHIPPED'][i % 2]!,
  total: `${(i * 7) % 50}.25`,
  createdAt: i >= 57 ? null : day(Math.floor(i / 2)),
  updatedAt: i >= 57 ? null : day(100 - i),
  items: i % 4,
  ...(i % 15 === 14 && { deletedAt: day(200) }),
}));
const live = orders.filter((o) => !o.deletedAt);

beforeAll(async () => {
  database = await createTestDatabase();
  app = createTestApp(database.db);
  await insertOrders(database.db, store, orders);
  await insertOrders(database.db, 4004, [{ orderId: 'OTHER', paymentStatus: 'PAID' }]);
});
afterAll(async () => {
  await database?.close();
});

describe('orders', () => {
  test('walks every page of every sort and returns each live row exactly once, in order', async () => {
    for (const sort of ['-createdAt', 'createdAt', 'updatedAt', '-updatedAt', 'total', '-total', 'orderId', '-orderId']) {
      for (const limit of [1, 7, 50, 500]) {
        const { rows, pages } = await walk(app, `${base}/orders?sort=${sort}&limit=${limit}`);
        expect(rows.map((r) => r.orderId).sort(), `${sort} ${limit}`).toEqual(live.map((o) => o.orderId).sort());
        expect(pages).toBe(Math.max(1, Math.ceil(live.length / limit)));
        const field = sort.replace('-', '');
        const desc = sort.startsWith('-');
        const value = (r: Record<string, unknown>) => (field === 'total' ? Number(r['total']) : r[field]) as string | number | null;
        for (let i = 1; i < rows.length; i++) {
          const [a, b] = [value(rows[i - 1]), value(rows[i])];
          // Nulls come last ascending and first descending (Postgres's order), ties by orderId.
          if (a === null || b === null) {
            expect(desc ? !(a !== null && b === null) : !(a === null && b !== null), `${sort} nulls at ${i}`).toBe(true);
            continue;
          }
          if (a === b) expect(desc ? rows[i - 1].orderId > rows[i].orderId : rows[i - 1].orderId < rows[i].orderId).toBe(true);
          else expect(desc ? a > b : a < b, `${sort} at ${i}: ${a} then ${b}`).toBe(true);
        }
      }
    }
  });

  test('pages stay consistent while orders are written between requests', async () => {
    const seen: string[] = [];
    let added = 0;
    const { rows } = await walk(app, `${base}/orders?sort=-createdAt&limit=5`, undefined, async (page) => {
      // Before the cursor (newer than anything read): must not show up or shift the pages.
      // After the cursor (older than anything read): must be returned, once.
      await insertOrders(database.db, store, [
        { orderId: `NEW-BEFORE-${page}`, createdAt: day(500 + page) },
        { orderId: `NEW-AFTER-${page}`, createdAt: day(-100 - page) },
      ]);
      added += 1;
    });
    for (const r of rows) seen.push(r.orderId);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => id.startsWith('NEW-BEFORE'))).toEqual([]);
    expect(seen.filter((id) => id.startsWith('NEW-AFTER'))).toHaveLength(added);
    for (const o of live) expect(seen).toContain(o.orderId);
    await database.db.execute(`delete from orders where order_id like 'NEW-%'`);
  });

  test('filters: statuses (comma lists), email, customer, dates; combined with AND', async () => {
    const check = async (query: string, expected: OrderSeed[]) => {
      const { rows } = await walk(app, `${base}/orders?${query}&limit=500`);
      expect(ids(rows, 'orderId').sort(), query).toEqual(expected.map((o) => o.orderId).sort());
    };
    await check(
      'paymentStatus=PAID',
      live.filter((o) => o.paymentStatus === 'PAID'),
    );
    await check(
      'paymentStatus=PAID,REFUNDED',
      live.filter((o) => o.paymentStatus !== 'AWAITING_PAYMENT'),
    );
    await check(
      'fulfillmentStatus=SHIPPED&paymentStatus=PAID',
      live.filter((o) => o.fulfillmentStatus === 'SHIPPED' && o.paymentStatus === 'PAID'),
    );
    await check(
      'email=vip%40example.com',
      live.filter((o) => o.email === 'vip@example.com'),
    );
    await check(
      'customerId=77',
      live.filter((o) => o.customerId === 77),
    );
    await check(
      'createdFrom=2024-01-05&createdTo=2024-01-10T00:00:00Z',
      live.filter((o) => o.createdAt && o.createdAt >= day(4) && o.createdAt <= day(9)),
    );
    await check(
      'updatedFrom=2024-03-01T00:00:00%2B00:00',
      live.filter((o) => o.updatedAt && o.updatedAt >= new Date('2024-03-01T00:00:00Z')),
    );
    await check(
      'updatedTo=2024-03-01',
      // A day alone as the upper bound: all of that day.
      live.filter((o) => o.updatedAt && o.updatedAt < new Date('2024-03-02T00:00:00Z')),
    );
  });

  test('the same filters with other values answer other rows (a shape is built once, its values bound each time)', async () => {
    for (const status of ['REFUNDED', 'PAID', 'AWAITING_PAYMENT', 'PAID']) {
      const { rows } = await walk(app, `${base}/orders?paymentStatus=${status}&sort=-createdAt&limit=7`);
      expect(ids(rows, 'orderId').sort(), status).toEqual(
        live
          .filter((o) => o.paymentStatus === status)
          .map((o) => o.orderId)
          .sort(),
      );
    }
    for (const [from, to] of [
      ['2024-01-03', '2024-01-05'],
      ['2024-01-11', '2024-01-20'],
    ] as const) {
      const { rows } = await walk(app, `${base}/orders?createdFrom=${from}&createdTo=${to}&limit=3`);
      expect(ids(rows, 'orderId').sort(), `${from}..${to}`).toEqual(
        live
          .filter((o) => o.createdAt && o.createdAt >= new Date(from) && o.createdAt.getTime() < new Date(to).getTime() + 86_400_000)
          .map((o) => o.orderId)
          .sort(),
      );
    }
  });

  test('deleted rows are left out unless includeDeleted=true', async () => {
    const deleted = orders.filter((o) => o.deletedAt).map((o) => o.orderId);
    expect(deleted.length).toBeGreaterThan(0);
    const without = await walk(app, `${base}/orders?limit=500`);
    const withDeleted = await walk(app, `${base}/orders?limit=500&includeDeleted=true`);
    expect(ids(without.rows, 'orderId')).not.toContain(deleted[0]);
    expect(withDeleted.rows).toHaveLength(orders.length);
    expect(withDeleted.rows.find((r) => r.orderId === deleted[0]).deletedAt).toBe('2024-07-19T00:00:00.000Z');
    expect((await get(app, `${base}/orders/${deleted[0]}`)).status).toBe(404);
    expect((await get(app, `${base}/orders/${deleted[0]}?includeDeleted=true`)).status).toBe(200);
  });

  test('list rows carry typed camelCase fields and their items; doc only with includeDoc=true', async () => {
    const { body } = await get(app, `${base}/orders?sort=orderId&limit=4`);
    expect(body.data[3]).toEqual({
      orderId: 'O003',
      internalId: 9_000_003,
      orderNumber: 4,
      email: 'c3@example.com',
      customerId: 103,
      paymentStatus: 'PAID',
      fulfillmentStatus: 'SHIPPED',
      total: '21.25',
      subtotal: null,
      tax: null,
      refundedAmount: null,
      couponCode: null,
      couponName: null,
      currency: 'USD',
      timezone: null,
      hidden: null,
      pricesIncludeTax: null,
      couponDiscount: null,
      volumeDiscount: null,
      membershipDiscount: null,
      customDiscount: null,
      discount: null,
      giftCardRedemption: null,
      shippingMethod: null,
      shippingRate: null,
      shippingWithoutTax: null,
      handlingFee: null,
      handlingFeeWithoutTax: null,
      surcharges: null,
      surchargesWithoutTax: null,
      paymentMethod: null,
      billingCountry: null,
      billingRegion: null,
      shippingCountry: null,
      shippingRegion: null,
      createdAt: day(1).toISOString(),
      updatedAt: day(97).toISOString(),
      deletedAt: null,
      sourcePosition: expect.any(Number),
      syncedAt: '2024-06-01T00:00:00.000Z',
      items: [1, 2, 3].map((itemId) => ({
        itemId,
        productId: 499 + itemId,
        sku: `SKU-${itemId}`,
        name: `Item ${itemId}`,
        quantity: 1,
        price: '5.00',
        priceWithoutTax: null,
        tax: null,
        combinationId: null,
        options: null,
      })),
      refunds: [],
    });
    expect(body.data[0].items).toEqual([]);
    expect(body.data[0]).not.toHaveProperty('doc');
    const withDoc = await get(app, `${base}/orders?sort=orderId&limit=1&includeDoc=true`);
    expect(withDoc.body.data[0].doc).toEqual({ id: 'O000', total: 0.25 });
  });

  test('get-by-id returns the order with its items and doc', async () => {
    const { status, body } = await get(app, `${base}/orders/O005`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ orderId: 'O005', total: '35.25', doc: { id: 'O005' } });
    expect(body.items.map((i: { itemId: number }) => i.itemId)).toEqual([1]);
    // Another store's order id is not found through this store.
    expect((await get(app, `${base}/orders/OTHER`)).status).toBe(404);
  });
});

describe('products', () => {
  beforeAll(async () => {
    await insertProduct(database.db, store, { productId: 11, sku: 'RED', categoryIds: [1, 2], variations: 2, updatedAt: day(3) });
    await insertProduct(database.db, store, { productId: 12, sku: 'BLUE', enabled: false, categoryIds: [2], updatedAt: day(5) });
    await insertProduct(database.db, store, { productId: 13, sku: 'GREEN', inStock: false, updatedAt: day(7) });
    await insertProduct(database.db, store, { productId: 14, sku: 'GONE', deletedAt: day(8), updatedAt: day(8), categoryIds: [1] });
  });

  test('filters by sku, enabled, inStock, categoryId, updated time', async () => {
    const q = async (query: string) => ids((await get(app, `${base}/products?${query}`)).body.data, 'productId');
    expect(await q('')).toEqual([13, 12, 11]);
    expect(await q('sku=BLUE')).toEqual([12]);
    expect(await q('enabled=false')).toEqual([12]);
    expect(await q('inStock=false')).toEqual([13]);
    expect(await q('categoryId=2&sort=productId')).toEqual([11, 12]);
    expect(await q('categoryId=1')).toEqual([11]);
    expect(await q('categoryId=1&includeDeleted=true')).toEqual([14, 11]);
    expect(await q('updatedFrom=2024-01-05&updatedTo=2024-01-07')).toEqual([12]);
    expect(await q('sort=-productId&limit=2')).toEqual([14 - 1, 12]);
  });

  test('lists and get-by-id carry variations and category ids', async () => {
    const list = await get(app, `${base}/products?sort=productId`);
    expect(list.body.data[0]).toMatchObject({
      productId: 11,
      price: '19.99',
      categoryIds: [1, 2],
      variations: [{ variationId: 1, sku: 'V-11-1', price: '21.00', quantity: 3 }, { variationId: 2 }],
    });
    expect(list.body.data[2]).toMatchObject({ productId: 13, categoryIds: [], variations: [] });
    const one = await get(app, `${base}/products/11`);
    expect(one.body).toMatchObject({ productId: 11, categoryIds: [1, 2], doc: { id: 11 } });
    expect(one.body.variations).toHaveLength(2);
    expect((await get(app, `${base}/products/999`)).status).toBe(404);
    expect((await get(app, `${base}/products/abc`)).body.error.parameter).toBe('productId');
  });
});

describe('the other collections', () => {
  beforeAll(async () => {
    const db = database.db;
    await db.insert(abandonedCartsTable).values([
      {
        storeId: store,
        cartId: 'CART-1',
        email: 'a@example.com',
        customerId: 5,
        total: '12.00',
        recoveredOrderId: 'O001',
        createdAt: day(1),
        updatedAt: day(1),
        ...projected({ cartId: 'CART-1' }),
      },
      {
        storeId: store,
        cartId: 'CART-2',
        hidden: true,
        email: 'b@example.com',
        total: '30.00',
        createdAt: day(2),
        updatedAt: day(2),
        ...projected({ cartId: 'CART-2' }),
      },
      {
        storeId: store,
        cartId: 'CART-3',
        email: 'a@example.com',
        total: '1.00',
        createdAt: day(3),
        updatedAt: day(3),
        ...projected({ cartId: 'CART-3' }),
      },
    ]);
    await db.insert(categoriesTable).values([
      { storeId: store, categoryId: 1, name: 'Shirts', enabled: true, ...projected() },
      { storeId: store, categoryId: 2, name: 'Red shirts', parentId: 1, enabled: true, ...projected() },
      { storeId: store, categoryId: 3, name: 'Hidden', enabled: false, ...projected() },
    ]);
    await db.insert(productTypesTable).values([
      { storeId: store, productTypeId: 1, name: 'General', ...projected() },
      { storeId: store, productTypeId: 2, name: 'Shoes', ...projected() },
    ]);
    await db.insert(customersTable).values([
      {
        storeId: store,
        customerId: 1,
        email: 'x@example.com',
        name: 'X',
        customerGroupId: 9,
        createdAt: day(1),
        updatedAt: day(10),
        ...projected(),
      },
      { storeId: store, customerId: 2, email: 'y@example.com', name: 'Y', createdAt: day(2), updatedAt: day(20), ...projected() },
    ]);
    await db.insert(customerGroupsTable).values([{ storeId: store, customerGroupId: 9, name: 'Wholesale', ...projected() }]);
    await db.insert(discountCouponsTable).values([
      {
        storeId: store,
        couponId: 1,
        code: 'SPRING',
        status: 'ACTIVE',
        discountType: 'PERCENT',
        discount: '10',
        createdAt: day(1),
        updatedAt: day(1),
        ...projected(),
      },
      {
        storeId: store,
        couponId: 2,
        code: 'OLD',
        status: 'EXPIRED',
        discountType: 'ABS',
        discount: '5.50',
        createdAt: day(2),
        updatedAt: day(2),
        ...projected(),
      },
    ]);
    await db.insert(promotionsTable).values([
      { storeId: store, promotionId: 1, name: 'Summer', enabled: true, discountType: 'PERCENT', amount: '15', ...projected() },
      { storeId: store, promotionId: 2, name: 'Winter', enabled: false, ...projected() },
    ]);
    await db.insert(reviewsTable).values([
      {
        storeId: store,
        reviewId: 1,
        productId: 11,
        orderId: 'O001',
        customerId: 1,
        rating: 5,
        status: 'PUBLISHED',
        createdAt: day(1),
        updatedAt: day(1),
        ...projected(),
      },
      { storeId: store, reviewId: 2, productId: 11, rating: 2, status: 'MODERATED', createdAt: day(2), updatedAt: day(2), ...projected() },
      { storeId: store, reviewId: 3, productId: 12, rating: 5, status: 'PUBLISHED', createdAt: day(3), updatedAt: day(3), ...projected() },
    ]);
    await db.insert(invoicesTable).values([
      { storeId: store, orderId: 'O001', invoiceId: 'INV-1', type: 'SALE', createdAt: day(1), link: 'https://x/1', ...projected() },
      { storeId: store, orderId: 'O001', invoiceId: 'INV-2', type: 'FULL_CANCEL', createdAt: day(2), ...projected() },
      { storeId: store, orderId: 'O002', invoiceId: 'INV-3', type: 'SALE', createdAt: day(3), ...projected() },
    ]);
    await db
      .insert(storeProfilesTable)
      .values({ storeId: store, storeName: 'Three', currency: 'EUR', ...projected({ settings: { storeName: 'Three' } }) });
    await db.insert(appSubscriptionsTable).values({ storeId: store, status: 'ACTIVE', ...projected({ subscriptionStatus: 'ACTIVE' }) });
    await db.insert(appStorageTable).values([
      { storeId: store, key: 'b', value: '2', ...projected() },
      { storeId: store, key: 'a', value: '1', ...projected() },
    ]);
  });

  const cases: [string, string, unknown[], string][] = [
    ['abandoned-carts', '', ['CART-3', 'CART-2', 'CART-1'], 'cartId'],
    ['abandoned-carts', 'email=a%40example.com', ['CART-3', 'CART-1'], 'cartId'],
    ['abandoned-carts', 'recovered=true', ['CART-1'], 'cartId'],
    ['abandoned-carts', 'recovered=false&sort=total', ['CART-3', 'CART-2'], 'cartId'],
    ['abandoned-carts', 'recovered=false&hidden=false', ['CART-3'], 'cartId'],
    ['abandoned-carts', 'hidden=true', ['CART-2'], 'cartId'],
    ['abandoned-carts', 'customerId=5', ['CART-1'], 'cartId'],
    ['abandoned-carts', 'createdFrom=2024-01-03&createdTo=2024-01-04', ['CART-3', 'CART-2'], 'cartId'],
    ['categories', '', [1, 2, 3], 'categoryId'],
    ['categories', 'parentId=1', [2], 'categoryId'],
    ['categories', 'parentId=0', [1, 3], 'categoryId'],
    ['categories', 'enabled=false', [3], 'categoryId'],
    ['categories', 'sort=name', [3, 2, 1], 'categoryId'],
    ['product-types', 'sort=-productTypeId', [2, 1], 'productTypeId'],
    ['customers', '', [2, 1], 'customerId'],
    ['customers', 'email=x%40example.com', [1], 'customerId'],
    ['customers', 'customerGroupId=9', [1], 'customerId'],
    ['customers', 'updatedFrom=2024-01-15', [2], 'customerId'],
    ['customer-groups', '', [9], 'customerGroupId'],
    ['discount-coupons', 'code=SPRING', [1], 'couponId'],
    ['discount-coupons', 'status=EXPIRED', [2], 'couponId'],
    ['discount-coupons', 'status=ACTIVE,EXPIRED&sort=couponId', [1, 2], 'couponId'],
    ['promotions', 'enabled=true', [1], 'promotionId'],
    ['reviews', 'productId=11', [2, 1], 'reviewId'],
    ['reviews', 'status=PUBLISHED', [3, 1], 'reviewId'],
    ['reviews', 'rating=5&sort=reviewId', [1, 3], 'reviewId'],
    ['reviews', 'orderId=O001', [1], 'reviewId'],
    ['invoices', '', ['INV-3', 'INV-2', 'INV-1'], 'invoiceId'],
    ['invoices', 'orderId=O001', ['INV-2', 'INV-1'], 'invoiceId'],
    ['storage', '', ['a', 'b'], 'key'],
  ];
  test.each(cases)('GET %s?%s', async (path, query, expected, key) => {
    const res = await get(app, `${base}/${path}?${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(ids(res.body.data, key)).toEqual(expected);
    // One row per page still walks them all, once.
    const walked = await walk(app, `${base}/${path}?${query}${query ? '&' : ''}limit=1`);
    expect(ids(walked.rows, key)).toEqual(expected);
  });

  test('money is a decimal string, times ISO 8601', async () => {
    const coupon = await get(app, `${base}/discount-coupons/2`);
    expect(coupon.body).toMatchObject({ couponId: 2, code: 'OLD', discount: '5.50', createdAt: '2024-01-03T00:00:00.000Z' });
  });

  test.each([
    ['abandoned-carts/CART-2', { cartId: 'CART-2', total: '30.00' }],
    ['categories/2', { categoryId: 2, parentId: 1 }],
    ['product-types/2', { name: 'Shoes' }],
    ['customers/1', { email: 'x@example.com', customerGroupId: 9 }],
    ['customer-groups/9', { name: 'Wholesale' }],
    ['promotions/1', { amount: '15' }],
    ['reviews/3', { productId: 12, rating: 5 }],
    ['invoices/INV-2', { orderId: 'O001', type: 'FULL_CANCEL' }],
    ['storage/a', { key: 'a', value: '1' }],
    ['profile', { storeName: 'Three', currency: 'EUR', doc: { settings: { storeName: 'Three' } } }],
    ['subscription', { status: 'ACTIVE' }],
  ])('GET %s', async (path, expected) => {
    const res = await get(app, `${base}/${path}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject(expected);
    expect(res.body).toHaveProperty('doc');
    expect(res.body).not.toHaveProperty('storeId');
  });

  test('profile and subscription are 404 for a store that has none', async () => {
    const res = await get(app, '/v1/stores/4004/profile');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });

  test('ordersTable rows of another store never leak into a list', async () => {
    const { rows } = await walk(app, `${base}/orders?paymentStatus=PAID&limit=500`);
    expect(ids(rows, 'orderId')).not.toContain('OTHER');
    void ordersTable;
  });
});

describe('get-by-id and lists print a row the same way', () => {
  // Both are printed by Postgres (json-rows.ts) from different statements: get-by-id's batched
  // lookup and a list page's keyset query, with their own field lists and child subqueries.
  const awkward = 'q"uote \\ back\nline\ttab \u0001 é 😀 \u2028';
  beforeAll(async () => {
    await insertOrders(database.db, store, [
      {
        orderId: 'O-AWKWARD',
        internalId: 2 ** 53 - 1,
        email: awkward,
        total: '12345678901234567890.123456789',
        couponCode: null,
        hidden: true,
        items: 2,
        ...projected({ id: 'O-AWKWARD', text: awkward, nested: { list: [1, 2.5, null, true], empty: {} } }),
      },
    ]);
    // Microseconds, which Postgres keeps and a JS Date cuts to milliseconds.
    await database.db.execute(sql`update orders set created_at = '2024-02-03 04:05:06.789999+00', updated_at = '1999-12-31 23:59:59.9996+00'
      where store_id = ${store} and order_id = 'O-AWKWARD'`);
    await database.db.execute(
      sql`update order_items set name = ${awkward}, price = '0.000001' where store_id = ${store} and order_id = 'O-AWKWARD'`,
    );
  });

  test.each(entities.map((def) => [def.path, def] as const))('%s: each row of the list equals its get-by-id answer', async (path, def) => {
    const { rows } = await walk(app, `${base}/${path}?includeDoc=true&includeDeleted=true&limit=500`);
    expect(rows.length, `no ${path} rows to compare`).toBeGreaterThan(0);
    for (const row of rows) {
      const one = await get(app, `${base}/${path}/${encodeURIComponent(String(row[def.idParam]))}?includeDeleted=true`);
      expect(one.status).toBe(200);
      expect(one.body).toStrictEqual(row);
      expect(Object.keys(one.body)).toEqual(Object.keys(row));
    }
  });

  test('awkward values come back as they were stored', async () => {
    const { body } = await get(app, `${base}/orders/O-AWKWARD`);
    expect(body).toMatchObject({
      email: awkward,
      internalId: 2 ** 53 - 1,
      total: '12345678901234567890.123456789',
      hidden: true,
      couponCode: null,
      createdAt: '2024-02-03T04:05:06.789Z',
      updatedAt: '1999-12-31T23:59:59.999Z',
      doc: { id: 'O-AWKWARD', text: awkward, nested: { list: [1, 2.5, null, true], empty: {} } },
    });
    const unset = { priceWithoutTax: null, tax: null, combinationId: null, options: null };
    expect(body.items).toEqual([
      { itemId: 1, productId: 500, sku: 'SKU-1', name: awkward, quantity: 1, price: '0.000001', ...unset },
      { itemId: 2, productId: 501, sku: 'SKU-2', name: awkward, quantity: 1, price: '0.000001', ...unset },
    ]);
  });
});

describe('the get-by-id statement', () => {
  test('is planned once: Postgres keeps its generic plan instead of planning each batch again', async () => {
    // A store big enough for the planner to tell 2 ids from 10 (on a few dozen rows every plan
    // costs the same) beside the small one, with statistics, as a live mirror has them.
    const big = 5005;
    const seeds = Array.from({ length: 4000 }, (_, i) => ({ orderId: `B${i}`, items: 1 + (i % 3) }));
    for (let i = 0; i < seeds.length; i += 1000) await insertOrders(database.db, big, seeds.slice(i, i + 1000));
    await database.db.execute(sql`analyze orders`);
    await database.db.execute(sql`analyze order_items`);
    const orders = entities.find((def) => def.path === 'orders')!;
    const statement = new PgDialect().sqlToQuery(
      findJsonStatement(orders, { includeDeleted: false })(sql.placeholder('storeId'), sql.placeholder('ids')),
    );
    // As the server runs it: one prepared statement, called with a few ids at a time; for a big
    // store, and for a small one (whose own row estimate made a fresh plan look cheaper).
    const cases = [
      { storeId: big, ids: (i: number) => [`B${i}`, `B${100 + i}`] },
      { storeId: store, ids: (i: number) => [live[i]!.orderId, live[20 + i]!.orderId] },
    ];
    for (const { storeId, ids } of cases) {
      await database.db.transaction(async (tx) => {
        await tx.execute(sql.raw(`prepare get_by_id_plan_test as ${statement.sql}`));
        try {
          for (let i = 0; i < 12; i++) {
            const wanted = ids(i);
            const found = await execRows<{ id: string }>(
              tx as never,
              sql.raw(`execute get_by_id_plan_test(${storeId}, '{${wanted.join(',')},NOPE}')`),
            );
            expect(found.map((row) => row.id).sort()).toEqual([...wanted].sort());
          }
          const plans = await execRows(
            tx as never,
            sql`select generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements where name = 'get_by_id_plan_test'`,
          );
          // Postgres' five trial custom plans, then the generic one for every later call.
          expect(plans, `store ${storeId}`).toEqual([{ generic: 7, custom: 5 }]);
        } finally {
          await tx.execute(sql`deallocate get_by_id_plan_test`);
        }
      });
    }
  });
});

describe('a list statement', () => {
  // On PGlite the API runs lists through drizzle's own statements, not postgres.js's named ones.
  test.skipIf(postgresSkipReason('the list plan test', "needs postgres.js's prepared statements"))(
    "is planned once: Postgres keeps a page's generic plan instead of planning each page again",
    async () => {
      // A store big enough for a plan's cost to depend on the values and the limit (see the
      // get-by-id test above), statuses mixed, created a minute apart, with statistics.
      const big = 5006;
      const seeds = Array.from({ length: 4000 }, (_, i) => ({
        orderId: `L${i}`,
        items: 1 + (i % 2),
        paymentStatus: i % 2 ? 'PAID' : 'AWAITING_PAYMENT',
        createdAt: new Date(Date.UTC(2024, 0, 1) + i * 60_000),
      }));
      for (let i = 0; i < seeds.length; i += 1000) await insertOrders(database.db, big, seeds.slice(i, i + 1000));
      await database.db.execute(sql`analyze orders`);
      await database.db.execute(sql`analyze order_items`);
      // In one transaction, so every statement runs on one connection, whose prepared statements
      // pg_prepared_statements shows: pages of 10 PAID orders before a different time each.
      await database.db.transaction(async (tx) => {
        const txApp = createTestApp(tx as never);
        for (let i = 0; i < 12; i++) {
          const createdTo = new Date(Date.UTC(2024, 0, 1) + (500 + i * 300) * 60_000).toISOString();
          const page = await get(txApp, `/v1/stores/${big}/orders?paymentStatus=PAID&sort=-createdAt&limit=10&createdTo=${createdTo}`);
          expect(page.status).toBe(200);
          expect(page.body.data.map((o: { orderId: string }) => o.orderId)).toEqual(
            seeds
              .filter((s) => s.paymentStatus === 'PAID' && s.createdAt.toISOString() <= createdTo)
              .slice(-10)
              .reverse()
              .map((s) => s.orderId),
          );
        }
        const plans = await execRows(
          tx as never,
          sql`select generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements
            where statement like '%from "orders"%limit 11'`,
        );
        // Postgres' five trial custom plans, then the generic one for every later page; and the
        // nulls segment (createdTo rules out orders without a creation time) is not queried.
        expect(plans).toEqual([{ generic: 7, custom: 5 }]);
      });
    },
  );
});

describe('the hidden orders', () => {
  // 4,000 orders of which 7 are hidden (unfinished) and 1 has no flag at all, with statistics.
  const big = 5007;
  const hiddenAt = new Set([3, 500, 1200, 2000, 2999, 3500, 3998]);
  const hiddenIds = [...hiddenAt].sort((a, b) => b - a).map((i) => `H${i}`);
  beforeAll(async () => {
    const seeds = Array.from({ length: 4000 }, (_, i) => ({
      orderId: `H${i}`,
      hidden: i === 10 ? null : hiddenAt.has(i),
      createdAt: new Date(Date.UTC(2024, 0, 1) + i * 60_000),
    }));
    for (let i = 0; i < seeds.length; i += 1000) await insertOrders(database.db, big, seeds.slice(i, i + 1000));
    await database.db.execute(sql`analyze orders`);
  });

  test('hidden=true lists only them, hidden=false the others, an order without the flag among them as the reports count it', async () => {
    const { rows, pages } = await walk(app, `/v1/stores/${big}/orders?hidden=true&limit=3`);
    expect(rows.map((o) => o.orderId)).toEqual(hiddenIds);
    expect(pages).toBe(3);
    expect(rows.every((o) => o.hidden === true)).toBe(true);
    const shown = await walk(app, `/v1/stores/${big}/orders?hidden=false&limit=500`);
    // reporting.order_sales counts an order without the flag as not hidden (coalesce(hidden, false)); so does the filter.
    expect(shown.rows).toHaveLength(4000 - 7);
    expect(shown.rows.some((o) => o.hidden === true)).toBe(false);
    expect(shown.rows.find((o) => o.orderId === 'H10')?.hidden).toBeNull();
  });

  // On PGlite the API runs lists through drizzle's own statements, not postgres.js's named ones.
  test.skipIf(postgresSkipReason('the hidden-orders plan test', "needs postgres.js's prepared statements"))(
    'are listed from their own small index, not found by walking every other order of the store',
    async () => {
      await database.db.transaction(async (tx) => {
        const txApp = createTestApp(tx as never);
        // Past Postgres' five trial plans: the plan kept for every later page.
        for (let i = 0; i < 7; i++) {
          const page = await get(txApp, `/v1/stores/${big}/orders?hidden=true&limit=3`);
          expect(page.body.data.map((o: { orderId: string }) => o.orderId)).toEqual(hiddenIds.slice(0, 3));
        }
        // The statements of the first page, as the server prepared them on this connection: one
        // per segment of the sort (orders without a creation time, then the rest), each with the
        // store as its one parameter. (A pooled connection may also hold a later page's
        // statements, from the other test, with the cursor's values as well.)
        const found = await execRows<{ name: string; statement: string }>(
          tx as never,
          sql`select name, statement from pg_prepared_statements
            where statement like '%from "orders"%"hidden" = true%limit 4' and cardinality(parameter_types) = 1`,
        );
        expect(found.length, 'the hidden=true first-page statements').toBeGreaterThan(0);
        for (const { name, statement } of found) {
          const plan = await execRows(tx as never, sql.raw(`explain (format json) execute "${name}"(${big})`));
          expect(JSON.stringify(plan), statement.slice(-200)).toContain('"Index Name":"orders_store_hidden_created_idx"');
        }
      });
    },
  );
});

describe('list pages under load', () => {
  test.skipIf(postgresSkipReason('the list queue test', "needs postgres.js's pool"))(
    `run ${listStatementsInFlight} statements at once on a larger pool; the rest wait their turn and are all answered`,
    async () => {
      const waitingOnOrders = async () => {
        const [row] = await execRows<{ n: number }>(
          database.db,
          sql`select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock' and query like '%orders_rendered%'`,
        );
        return row!.n;
      };
      let pages: Promise<{ status: number; body: any }>[] = [];
      // The orders' list renderings locked (only the list statement reads them): every list
      // statement sent to Postgres waits there, in sight.
      await database.db.transaction(async (tx) => {
        await tx.execute(sql`lock table orders_rendered in access exclusive mode`);
        pages = Array.from({ length: 12 }, () => get(app, `${base}/orders?paymentStatus=PAID&limit=5`));
        let waiting = 0;
        for (let i = 0; i < 100 && waiting < listStatementsInFlight; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          waiting = await waitingOnOrders();
        }
        // Given time to send more, the pool (20 connections) would take 12: the queue holds them.
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(await waitingOnOrders()).toBe(listStatementsInFlight);
      });
      const answers = await Promise.all(pages);
      const paid = live.filter((o) => o.paymentStatus === 'PAID').length;
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(answer.body.data).toHaveLength(Math.min(5, paid));
      }
    },
  );
});
