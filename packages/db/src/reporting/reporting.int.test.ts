import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { execRows } from '../create-db.ts';
import { abandonedCartsTable, discountCouponsTable, orderItemsTable, ordersTable } from '../schema/entities.ts';
import { createTestDatabase, type TestDatabase } from '../../testing/index.ts';

let database: TestDatabase;
const meta = { sourcePosition: 1, syncedAt: new Date('2026-01-01T00:00:00Z') };
const at = (iso: string) => new Date(iso);

beforeAll(async () => {
  database = await createTestDatabase();
  const order = (id: string, status: string, total: string, created: string, extra: Partial<typeof ordersTable.$inferInsert> = {}) => ({
    storeId: 1,
    orderId: id,
    paymentStatus: status,
    total,
    createdAt: at(created),
    updatedAt: at(created),
    doc: {},
    ...meta,
    ...extra,
  });
  await database.db.insert(ordersTable).values([
    order('A', 'PAID', '100.00', '2026-03-01T10:00:00Z', {
      customerId: 7,
      email: 'Ann@Example.com',
      couponCode: 'SPRING',
      doc: { couponDiscount: 10 },
    }),
    order('B', 'PAID', '50.00', '2026-03-01T23:59:59Z', { email: 'guest@example.com' }),
    order('C', 'PARTIALLY_REFUNDED', '80.00', '2026-03-01T12:00:00Z', {
      customerId: 7,
      email: 'ann@example.com',
      refundedAmount: '20.00',
      couponCode: 'SPRING',
      doc: { couponDiscount: 5 },
    }),
    order('D', 'AWAITING_PAYMENT', '999.00', '2026-03-01T12:00:00Z'), // not paid: not revenue
    order('E', 'PAID', '500.00', '2026-03-01T12:00:00Z', { deletedAt: at('2026-03-05T00:00:00Z') }), // deleted: not revenue
    order('F', 'REFUNDED', '30.00', '2026-03-02T08:00:00Z', { refundedAmount: '30.00' }),
    order('G', 'PAID', '10.00', '2026-03-02T00:00:00Z', { customerId: 7, email: 'ann@example.com' }),
    { ...order('A', 'PAID', '1.00', '2026-03-01T10:00:00Z'), storeId: 2 }, // another store
  ]);
  const item = (orderId: string, itemId: number, productId: number, quantity: number, price: string) => ({
    storeId: 1,
    orderId,
    itemId,
    productId,
    sku: `SKU-${productId}`,
    name: `P${productId}`,
    quantity,
    price,
    doc: {},
    ...meta,
  });
  await database.db
    .insert(orderItemsTable)
    .values([
      item('A', 1, 10, 2, '25.00'),
      item('A', 2, 11, 1, '50.00'),
      item('B', 3, 10, 1, '25.00'),
      item('C', 4, 11, 1, '80.00'),
      item('D', 5, 10, 9, '25.00'),
      item('G', 6, 10, 1, '10.00'),
    ]);
  const cart = (cartId: string, created: string, recovered: string | null) => ({
    storeId: 1,
    cartId,
    createdAt: at(created),
    updatedAt: at(created),
    recoveredOrderId: recovered,
    doc: {},
    ...meta,
  });
  await database.db
    .insert(abandonedCartsTable)
    .values([
      cart('c1', '2026-03-01T01:00:00Z', 'A'),
      cart('c2', '2026-03-01T02:00:00Z', null),
      cart('c3', '2026-03-01T03:00:00Z', null),
      cart('c4', '2026-03-01T04:00:00Z', 'C'),
      { ...cart('c5', '2026-03-01T05:00:00Z', null), deletedAt: at('2026-03-02T00:00:00Z') },
    ]);
  await database.db
    .insert(discountCouponsTable)
    .values([{ storeId: 1, couponId: 99, code: 'SPRING', name: 'Spring sale', doc: {}, ...meta }]);
});
afterAll(async () => {
  await database.close();
});

const rows = <T>(query: ReturnType<typeof sql>) => execRows<T>(database.db, query);

test('daily_sales counts only paid, non-deleted orders as revenue, and reports refunds', async () => {
  const result = await rows<Record<string, string>>(
    sql`select day::text, orders::int, revenue::text, average_order_value::text, refunded::text
        from reporting.daily_sales where store_id = 1 order by day`,
  );
  expect(result).toEqual([
    { day: '2026-03-01', orders: 3, revenue: '230.00', average_order_value: '76.67', refunded: '20.00' },
    { day: '2026-03-02', orders: 1, revenue: '10.00', average_order_value: '10.00', refunded: '30.00' },
  ]);
});

test('product_sales sums units and revenue of paid orders per product and day', async () => {
  const result = await rows<Record<string, string>>(
    sql`select day::text, product_id::int, units::int, revenue::text, orders::int
        from reporting.product_sales where store_id = 1 order by day, product_id`,
  );
  expect(result).toEqual([
    { day: '2026-03-01', product_id: 10, units: 3, revenue: '75.00', orders: 2 },
    { day: '2026-03-01', product_id: 11, units: 2, revenue: '130.00', orders: 2 },
    { day: '2026-03-02', product_id: 10, units: 1, revenue: '10.00', orders: 1 },
  ]);
});

test('customer_summary groups registered customers by id and guests by e-mail', async () => {
  const result = await rows<Record<string, string>>(
    sql`select customer_id::int, email, orders::int, total_spent::text, first_order_at, last_order_at
        from reporting.customer_summary where store_id = 1 order by orders desc`,
  );
  expect(result.map(({ first_order_at: _f, last_order_at: _l, ...r }) => r)).toEqual([
    { customer_id: 7, email: 'ann@example.com', orders: 3, total_spent: '190.00' },
    { customer_id: null, email: 'guest@example.com', orders: 1, total_spent: '50.00' },
  ]);
  expect(new Date(result[0]!.first_order_at!).toISOString()).toBe('2026-03-01T10:00:00.000Z');
  expect(new Date(result[0]!.last_order_at!).toISOString()).toBe('2026-03-02T00:00:00.000Z');
});

test('abandoned_cart_recovery gives carts, recovered and the rate per day', async () => {
  const result = await rows<Record<string, string>>(
    sql`select day::text, carts::int, recovered::int, recovery_rate::text from reporting.abandoned_cart_recovery where store_id = 1`,
  );
  expect(result).toEqual([{ day: '2026-03-01', carts: 4, recovered: 2, recovery_rate: '0.5000' }]);
});

test('coupon_usage counts paid orders per coupon with the discount given', async () => {
  const result = await rows<Record<string, string>>(
    sql`select coupon_code, coupon_id::int, coupon_name, orders::int, revenue::text, discount_given::text
        from reporting.coupon_usage where store_id = 1`,
  );
  expect(result).toEqual([
    { coupon_code: 'SPRING', coupon_id: 99, coupon_name: 'Spring sale', orders: 2, revenue: '180.00', discount_given: '15' },
  ]);
});
