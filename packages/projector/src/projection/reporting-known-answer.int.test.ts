import type { Db } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { appendRecords, appendTombstone, fixture, type RecordInput } from '../../testing/append-records.ts';
import { reportRows } from '../../testing/report-rows.ts';
import { rebuild } from '../rebuild/rebuild.ts';
import { projectNextBatch } from './project-batch.ts';

/*
 * Known answers for the reporting views (docs/reporting.md): 20 orders over a week in two
 * stores, one tax-inclusive in NZD on Pacific/Auckland time (UTC+13 in January), one
 * tax-exclusive in USD on America/Los_Angeles time (UTC-8) that switches to CAD. Each order is
 * Ecwid's documented order (examples/order.json) with its money fields replaced. Every expected
 * figure below was worked out by hand from the documents, following docs/reporting.md, and is
 * written out as a literal: none is computed by the code under test.
 */

const nz = 1003; // NZD, Pacific/Auckland, prices include tax (10%)
const us = 2002; // USD then CAD, America/Los_Angeles, prices exclude tax (10%)

type Item = { id: number; productId: number; combinationId?: number; price: number; priceWithoutTax: number; quantity: number };

const ecwidDate = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000`;
const seconds = (iso: string) => Date.parse(iso) / 1000;

/** The documented order with these fields: money, statuses, times, lines. */
function order(
  id: string,
  created: string,
  fields: Record<string, unknown> & { items: Item[]; updated?: string },
): Record<string, unknown> {
  const base = fixture('order');
  const baseItem = (base['items'] as Record<string, unknown>[])[0]!;
  const { items, updated = created, ...rest } = fields;
  return {
    ...base,
    id,
    internalId: Number(id.replace(/\D/g, '')) + (id.startsWith('U') ? 2000 : 1000),
    orderNumber: Number(id.replace(/\D/g, '')),
    createDate: ecwidDate(created),
    createTimestamp: seconds(created),
    updateDate: ecwidDate(updated),
    updateTimestamp: seconds(updated),
    paymentStatus: 'PAID',
    fulfillmentStatus: 'AWAITING_PROCESSING',
    customerId: 503,
    email: 'other@example.com',
    refunds: [],
    refundedAmount: 0,
    invoices: [],
    items: items.map((item) => ({ ...baseItem, sku: `SKU-${item.productId}`, name: `Product ${item.productId}`, ...item })),
    ...rest,
  };
}

const coupon = (id: number, code: string, name: string) => ({ id, code, name, discountType: 'ABS', discount: 1 });
// Store 1003's prices hold 10% tax; store 2002's hold none.
const A = (id: number, quantity: number): Item => ({ id, productId: 101, price: 11, priceWithoutTax: 10, quantity });
const B = (id: number, quantity: number): Item => ({ id, productId: 102, combinationId: 5001, price: 22, priceWithoutTax: 20, quantity });
const C = (id: number, quantity: number): Item => ({ id, productId: 103, price: 33, priceWithoutTax: 30, quantity });
const D = (id: number, quantity: number): Item => ({ id, productId: 201, price: 10, priceWithoutTax: 10, quantity });
const E = (id: number, quantity: number): Item => ({ id, productId: 202, price: 15, priceWithoutTax: 15, quantity });

const inclusive = { pricesIncludeTax: true };
const exclusive = { pricesIncludeTax: false };

// Store 1003, tax-inclusive: `total` already holds `tax`.
const nzOrders = [
  // Auckland 2026-01-10 11:00. 2 × 11 incl. tax: tax 2.
  order('N1', '2026-01-09T22:00:00Z', {
    ...inclusive,
    customerId: 501,
    email: 'ann@example.com',
    items: [A(11, 2)],
    subtotal: 22,
    tax: 2,
    total: 22,
  }),
  // Auckland 2026-01-11 00:30 (UTC still the 10th). Coupon 10% of 33 = 3.30; tax 29.70 / 11.
  order('N2', '2026-01-10T11:30:00Z', {
    ...inclusive,
    customerId: 501,
    email: 'Ann@Example.com',
    items: [A(21, 1), B(22, 1)],
    subtotal: 33,
    couponDiscount: 3.3,
    discountCoupon: coupon(9001, 'SAVE10', '10% off'),
    tax: 2.7,
    total: 29.7,
  }),
  // Shipping 11 (10 + 1 tax) and handling 2.20 (2 + 0.20 tax) on a 33 item (3 tax).
  order('N3', '2026-01-11T03:00:00Z', {
    ...inclusive,
    items: [C(31, 1)],
    subtotal: 33,
    shippingOption: { shippingMethodName: 'Courier', shippingRate: 11, shippingRateWithoutTax: 10 },
    taxesOnShipping: [{ name: 'GST', value: 10, total: 1 }],
    handlingFee: { name: 'Wrapping', value: 2.2, valueWithoutTax: 2, taxes: [{ name: 'GST', value: 10, total: 0.2 }] },
    tax: 4.2,
    total: 46.2,
  }),
  // Partly refunded three days later: 11 on 2026-01-13 12:00 UTC = Auckland the 14th.
  order('N4', '2026-01-11T05:00:00Z', {
    ...inclusive,
    customerId: null,
    email: 'Guest@Example.com',
    paymentStatus: 'PARTIALLY_REFUNDED',
    items: [A(41, 4)],
    subtotal: 44,
    tax: 4,
    total: 44,
    refundedAmount: 11,
    refunds: [{ date: '2026-01-13 12:00:00 +0000', source: 'CP', reason: 'Damaged', amount: 11 }],
    updated: '2026-01-13T12:00:00Z',
  }),
  // Volume 5.50 and membership 4.40 discounts, `discount` their sum; tax 100.10 / 11.
  order('N5', '2026-01-12T01:00:00Z', {
    ...inclusive,
    customerId: 501,
    email: 'ann@example.com',
    items: [B(51, 5)],
    subtotal: 110,
    volumeDiscount: 5.5,
    membershipBasedDiscount: 4.4,
    discount: 9.9,
    tax: 9.1,
    total: 100.1,
  }),
  // Cancelled: not a sale.
  order('N6', '2026-01-12T01:30:00Z', {
    ...inclusive,
    paymentStatus: 'CANCELLED',
    fulfillmentStatus: 'WILL_NOT_DELIVER',
    items: [A(61, 1)],
    subtotal: 11,
    tax: 1,
    total: 11,
  }),
  // Fully refunded on 2026-01-15 20:00 UTC = Auckland the 16th.
  order('N7', '2026-01-12T02:00:00Z', {
    ...inclusive,
    paymentStatus: 'REFUNDED',
    fulfillmentStatus: 'DELIVERED',
    items: [C(71, 2)],
    subtotal: 66,
    tax: 6,
    total: 66,
    refundedAmount: 66,
    refunds: [{ date: '2026-01-15 20:00:00 +0000', source: 'API', reason: 'Changed mind', amount: 66 }],
    updated: '2026-01-15T20:00:00Z',
  }),
  // Paid but returned: not a sale.
  order('N8', '2026-01-12T03:00:00Z', { ...inclusive, fulfillmentStatus: 'RETURNED', items: [A(81, 1)], subtotal: 11, tax: 1, total: 11 }),
  // Not paid: not a sale.
  order('N9', '2026-01-12T04:00:00Z', {
    ...inclusive,
    paymentStatus: 'AWAITING_PAYMENT',
    items: [A(91, 1)],
    subtotal: 11,
    tax: 1,
    total: 11,
  }),
  // An app's discount 5.50, a card fee 2.20 (2 + 0.20 tax), 20 paid by gift card:
  // 55 - 5.50 + 2.20 = 51.70 charged in all, tax 51.70 / 11 = 4.70, `total` 31.70 after the gift card.
  order('N10', '2026-01-13T00:00:00Z', {
    ...inclusive,
    items: [A(101, 2), C(102, 1)],
    subtotal: 55,
    customDiscount: [5.5],
    discount: 5.5,
    customSurcharges: [{ id: 'fee', value: 2.2, type: 'ABS', total: 2.2, totalWithoutTax: 2, description: 'Card fee' }],
    giftCardRedemption: 20,
    totalBeforeGiftCardRedemption: 51.7,
    tax: 4.7,
    total: 31.7,
  }),
  // A custom fulfilment status is still a sale; the coupon again (10% of 11).
  order('N11', '2026-01-13T10:00:00Z', {
    ...inclusive,
    fulfillmentStatus: 'CUSTOM_FULFILLMENT_STATUS_1',
    items: [A(111, 1)],
    subtotal: 11,
    couponDiscount: 1.1,
    discountCoupon: coupon(9001, 'SAVE10', '10% off'),
    tax: 0.9,
    total: 9.9,
  }),
  // A custom payment status is not known to be paid: not a sale.
  order('N12', '2026-01-13T10:30:00Z', {
    ...inclusive,
    paymentStatus: 'CUSTOM_PAYMENT_STATUS_1',
    items: [A(121, 1)],
    subtotal: 11,
    tax: 1,
    total: 11,
  }),
  // Auckland 2026-01-14 00:30. Refunded without Ecwid listing the refund: the whole 22, on the
  // order's last update, 2026-01-14 21:00 UTC = Auckland the 15th.
  order('N13', '2026-01-13T11:30:00Z', {
    ...inclusive,
    customerId: null,
    email: 'guest@example.com',
    paymentStatus: 'REFUNDED',
    items: [B(131, 1)],
    subtotal: 22,
    tax: 2,
    total: 22,
    updated: '2026-01-14T21:00:00Z',
  }),
  // Deleted (tombstone below): not a sale.
  order('N14', '2026-01-13T12:00:00Z', { ...inclusive, items: [A(141, 1)], subtotal: 11, tax: 1, total: 11 }),
  // Hidden (unfinished): not a sale.
  order('N15', '2026-01-13T12:30:00Z', { ...inclusive, hidden: true, items: [A(151, 1)], subtotal: 11, tax: 1, total: 11 }),
];

// Store 2002, tax-exclusive: `total` = subtotal - discounts + shipping + handling + tax.
const usOrders = [
  // Los Angeles 2026-01-09 23:00.
  order('U1', '2026-01-10T07:00:00Z', { ...exclusive, items: [D(201, 3)], subtotal: 30, tax: 3, total: 33 }),
  // Coupon 5; shipping 7 and handling 1 untaxed; tax 10% of 30: 30 + 7 + 1 + 3 = 41.
  order('U2', '2026-01-10T09:00:00Z', {
    ...exclusive,
    items: [D(211, 2), E(212, 1)],
    subtotal: 35,
    couponDiscount: 5,
    discountCoupon: coupon(9002, 'FIVE', '$5 off'),
    shippingOption: { shippingMethodName: 'Ground', shippingRate: 7 },
    handlingFee: { name: 'Handling', value: 1 },
    tax: 3,
    total: 41,
  }),
  // Half refunded on 2026-01-12 07:30 UTC = Los Angeles the 11th, 23:30.
  order('U3', '2026-01-10T20:00:00Z', {
    ...exclusive,
    paymentStatus: 'PARTIALLY_REFUNDED',
    items: [E(221, 2)],
    subtotal: 30,
    tax: 3,
    total: 33,
    refundedAmount: 16.5,
    refunds: [{ date: '2026-01-12 07:30:00 +0000', source: 'CP', reason: 'One returned', amount: 16.5 }],
    updated: '2026-01-12T07:30:00Z',
  }),
  // Paid, will not be delivered: not a sale.
  order('U4', '2026-01-10T21:00:00Z', {
    ...exclusive,
    fulfillmentStatus: 'WILL_NOT_DELIVER',
    items: [D(231, 1)],
    subtotal: 10,
    tax: 1,
    total: 11,
  }),
];
// Placed after the store switched to CAD (Los Angeles 2026-01-11 10:00).
const u5 = order('U5', '2026-01-11T18:00:00Z', { ...exclusive, items: [D(241, 1)], subtotal: 10, tax: 1, total: 11 });
// U2 again, shipped after the switch: still USD.
const u2Shipped = {
  ...usOrders[1]!,
  fulfillmentStatus: 'SHIPPED',
  updateDate: ecwidDate('2026-01-12T00:00:00Z'),
  updateTimestamp: seconds('2026-01-12T00:00:00Z'),
};

const profile = (currency: string, timezone: string) => ({ generalInfo: { storeId: 0 }, formatsAndUnits: { currency, timezone } });
const cart = (cartId: string, created: string, total: number, recoveredOrderId?: string) => ({
  cartId,
  createDate: ecwidDate(created),
  createTimestamp: seconds(created),
  updateDate: ecwidDate(created),
  updateTimestamp: seconds(created),
  total,
  items: [
    {
      id: 1,
      productId: 101,
      sku: 'SKU-101',
      name: 'Product 101',
      quantity: total / 11,
      price: 11,
      selectedOptions: [{ name: 'Size', value: 'L' }],
    },
  ],
  ...(recoveredOrderId ? { recoveredOrderId } : {}),
});

let database: TestDatabase;
let db: Db;

const snapshot = (storeId: number, entityKind: string, entityId: string, payload: unknown): RecordInput => ({
  storeId,
  entityKind,
  entityId,
  payload,
});
const orderSnapshot = (storeId: number, doc: Record<string, unknown>) => snapshot(storeId, 'order', String(doc['id']), doc);

async function projectAll(): Promise<void> {
  for (;;) if ((await projectNextBatch(db)).caughtUp) return;
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  // Store 2002's profile comes first; store 1003's only after its orders (a store whose profile
  // the mirror learns late): both must give every order its currency and time zone.
  await appendRecords(db, [
    snapshot(us, 'store_profile', String(us), profile('USD', 'America/Los_Angeles')),
    // An older coupon with the same code, deleted below: SAVE10's orders count once, under 9001.
    snapshot(nz, 'discount_coupon', '9000', { id: 9000, code: 'SAVE10', name: 'Old 10% off', discountType: 'PERCENT', discount: 10 }),
    snapshot(nz, 'discount_coupon', '9001', { id: 9001, code: 'SAVE10', name: '10% off', discountType: 'PERCENT', discount: 10 }),
    snapshot(us, 'discount_coupon', '9002', { id: 9002, code: 'FIVE', name: '$5 off', discountType: 'ABS', discount: 5 }),
    ...nzOrders.map((doc) => orderSnapshot(nz, doc)),
    ...usOrders.map((doc) => orderSnapshot(us, doc)),
    snapshot(nz, 'abandoned_cart', 'CART-1', cart('CART-1', '2026-01-10T11:00:00Z', 33, 'N2')),
    snapshot(nz, 'abandoned_cart', 'CART-2', cart('CART-2', '2026-01-11T01:00:00Z', 11)),
    // Deleted in the admin, which hides it: not a cart the recovery figures count.
    snapshot(nz, 'abandoned_cart', 'CART-3', { ...cart('CART-3', '2026-01-11T02:00:00Z', 22), hidden: true }),
  ]);
  await projectAll();
  await appendTombstone(db, { storeId: nz, entityKind: 'order', entityId: 'N14' });
  // Deletions of orders the mirror never saw, by public and by internal id: rows all the same.
  await appendTombstone(db, { storeId: nz, entityKind: 'order', entityId: 'N99' });
  await appendTombstone(db, { storeId: nz, entityKind: 'order', entityId: 'internal:1999', internalId: 1999 });
  await appendTombstone(db, { storeId: us, entityKind: 'discount_coupon', entityId: '9002' });
  await appendTombstone(db, { storeId: nz, entityKind: 'discount_coupon', entityId: '9000' });
  await appendRecords(db, [snapshot(nz, 'store_profile', String(nz), profile('NZD', 'Pacific/Auckland'))]);
  await projectAll();
  await appendRecords(db, [snapshot(us, 'store_profile', String(us), profile('CAD', 'America/Los_Angeles'))]);
  await appendRecords(db, [orderSnapshot(us, u5), orderSnapshot(us, u2Shipped)]);
  await projectAll();
});
afterAll(async () => {
  await database.close();
});

/** A view's rows with numbers as numbers (numeric arrives as text on postgres.js). */
const view = (query: string) => reportRows(db, query);
const day = (d: string) => `to_char(day, 'YYYY-MM-DD') as day`.replace('day', d);

const dailyColumns = `store_id::int, ${day('day')}, currency, orders, gross_sales, discounts, refunds, net_sales, shipping, taxes, total_sales`;
const daily = (
  store: number,
  d: string,
  currency: string,
  orders: number,
  gross: number,
  discounts: number,
  refunds: number,
  net: number,
  shipping: number,
  taxes: number,
  total: number,
) => ({
  store_id: store,
  day: d,
  currency,
  orders,
  gross_sales: gross,
  discounts,
  refunds,
  net_sales: net,
  shipping,
  taxes,
  total_sales: total,
});

describe('known answers', () => {
  test('every order has its store currency and time zone, deleted ones too, a later currency change leaving old orders alone', async () => {
    expect(await view(`select store_id::int, currency, timezone, count(*)::int as n from orders group by 1, 2, 3 order by 1, 2`)).toEqual([
      { store_id: nz, currency: 'NZD', timezone: 'Pacific/Auckland', n: 17 },
      { store_id: us, currency: 'CAD', timezone: 'America/Los_Angeles', n: 1 },
      { store_id: us, currency: 'USD', timezone: 'America/Los_Angeles', n: 4 },
    ]);
    expect(await view(`select order_id from orders where store_id = ${us} and currency = 'CAD'`)).toEqual([{ order_id: 'U5' }]);
  });

  test('daily_sales: sales on the order day, refunds on the refund day, in the store time zone', async () => {
    expect(await view(`select ${dailyColumns} from reporting.daily_sales order by store_id, day, currency`)).toEqual([
      daily(nz, '2026-01-10', 'NZD', 1, 20, 0, 0, 20, 0, 2, 22),
      daily(nz, '2026-01-11', 'NZD', 3, 100.3, 3.3, 0, 97, 12, 10.9, 119.9),
      daily(nz, '2026-01-12', 'NZD', 2, 160.9, 9.9, 0, 151, 0, 15.1, 166.1),
      daily(nz, '2026-01-13', 'NZD', 2, 62.6, 6.6, 0, 56, 0, 5.6, 61.6),
      daily(nz, '2026-01-14', 'NZD', 1, 20, 0, 11, 9, 0, 2, 11),
      daily(nz, '2026-01-15', 'NZD', 0, 0, 0, 22, -22, 0, 0, -22),
      daily(nz, '2026-01-16', 'NZD', 0, 0, 0, 66, -66, 0, 0, -66),
      daily(us, '2026-01-09', 'USD', 1, 30, 0, 0, 30, 0, 3, 33),
      daily(us, '2026-01-10', 'USD', 2, 65, 5, 0, 60, 8, 6, 74),
      daily(us, '2026-01-11', 'CAD', 1, 10, 0, 0, 10, 0, 1, 11),
      daily(us, '2026-01-11', 'USD', 0, 0, 0, 16.5, -16.5, 0, 0, -16.5),
    ]);
  });

  test('refunds: one row per refund, an unlisted full refund inferred from the order', async () => {
    expect(
      await view(`select store_id::int, order_id, refund_index::int, ${day('day')}, currency, amount, reason, source
                  from reporting.refunds order by store_id, order_id`),
    ).toEqual([
      { store_id: nz, order_id: 'N13', refund_index: 1, day: '2026-01-15', currency: 'NZD', amount: 22, reason: null, source: 'inferred' },
      { store_id: nz, order_id: 'N4', refund_index: 1, day: '2026-01-14', currency: 'NZD', amount: 11, reason: 'Damaged', source: 'CP' },
      {
        store_id: nz,
        order_id: 'N7',
        refund_index: 1,
        day: '2026-01-16',
        currency: 'NZD',
        amount: 66,
        reason: 'Changed mind',
        source: 'API',
      },
      {
        store_id: us,
        order_id: 'U3',
        refund_index: 1,
        day: '2026-01-11',
        currency: 'USD',
        amount: 16.5,
        reason: 'One returned',
        source: 'CP',
      },
    ]);
  });

  test('product_sales: net of discounts and refunds, by product and variation', async () => {
    const row = (
      store: number,
      d: string,
      currency: string,
      product: number,
      combination: number | null,
      units: number,
      orders: number,
      gross: number,
      discounts: number,
      refunds: number,
      net: number,
    ) => ({
      store_id: store,
      day: d,
      currency,
      product_id: product,
      combination_id: combination,
      units,
      orders,
      gross_sales: gross,
      discounts,
      refunds,
      net_sales: net,
    });
    expect(
      await view(`select store_id::int, ${day('day')}, currency, product_id::int, combination_id::int, units, orders,
                         gross_sales, discounts, refunds, net_sales
                  from reporting.product_sales order by store_id, day, currency, product_id`),
    ).toEqual([
      row(nz, '2026-01-10', 'NZD', 101, null, 2, 1, 20, 0, 0, 20),
      // N2 (27 net, 3.30 off) split 11 : 22 over A and B; N4 all A.
      row(nz, '2026-01-11', 'NZD', 101, null, 5, 2, 50.1, 1.1, 0, 49),
      row(nz, '2026-01-11', 'NZD', 102, 5001, 1, 1, 20.2, 2.2, 0, 18),
      row(nz, '2026-01-11', 'NZD', 103, null, 1, 1, 30, 0, 0, 30),
      row(nz, '2026-01-12', 'NZD', 102, 5001, 5, 1, 100.9, 9.9, 0, 91),
      row(nz, '2026-01-12', 'NZD', 103, null, 2, 1, 60, 0, 0, 60),
      // N10: 47 net less the 2 card fee = 45, and 5.50 off, split 22 : 33; N11 all A.
      row(nz, '2026-01-13', 'NZD', 101, null, 3, 2, 30.3, 3.3, 0, 27),
      row(nz, '2026-01-13', 'NZD', 103, null, 1, 1, 30.3, 3.3, 0, 27),
      row(nz, '2026-01-14', 'NZD', 101, null, 0, 0, 0, 0, 11, -11),
      row(nz, '2026-01-14', 'NZD', 102, 5001, 1, 1, 20, 0, 0, 20),
      row(nz, '2026-01-15', 'NZD', 102, 5001, 0, 0, 0, 0, 22, -22),
      row(nz, '2026-01-16', 'NZD', 103, null, 0, 0, 0, 0, 66, -66),
      row(us, '2026-01-09', 'USD', 201, null, 3, 1, 30, 0, 0, 30),
      // U2: 30 net and 5 off split 20 : 15 (17.14 + 12.86, 2.86 + 2.14); U3 all E.
      row(us, '2026-01-10', 'USD', 201, null, 2, 1, 20, 2.86, 0, 17.14),
      row(us, '2026-01-10', 'USD', 202, null, 3, 2, 45, 2.14, 0, 42.86),
      row(us, '2026-01-11', 'CAD', 201, null, 1, 1, 10, 0, 0, 10),
      row(us, '2026-01-11', 'USD', 202, null, 0, 0, 0, 0, 16.5, -16.5),
    ]);
  });

  test('customer_summary: customers by id, guests by e-mail in any case', async () => {
    expect(
      await view(`select store_id::int, customer_id::int, email, currency, orders, gross_sales, discounts, refunds, net_sales, total_sales
                  from reporting.customer_summary where store_id = ${nz} order by customer_id nulls first`),
    ).toEqual([
      {
        store_id: nz,
        customer_id: null,
        email: 'guest@example.com',
        currency: 'NZD',
        orders: 2,
        gross_sales: 60,
        discounts: 0,
        refunds: 33,
        net_sales: 27,
        total_sales: 33,
      },
      {
        store_id: nz,
        customer_id: 501,
        email: 'ann@example.com',
        currency: 'NZD',
        orders: 3,
        gross_sales: 151.2,
        discounts: 13.2,
        refunds: 0,
        net_sales: 138,
        total_sales: 151.8,
      },
      {
        store_id: nz,
        customer_id: 503,
        email: 'other@example.com',
        currency: 'NZD',
        orders: 4,
        gross_sales: 152.6,
        discounts: 6.6,
        refunds: 66,
        net_sales: 80,
        total_sales: 107.8,
      },
    ]);
  });

  test('coupon_usage: a deleted coupon keeps its name; one deleted beside a live one of the same code counts nothing twice', async () => {
    expect(
      await view(`select store_id::int, coupon_code, coupon_id::int, coupon_name, currency, orders, gross_sales, coupon_discount, discounts, refunds, net_sales
                  from reporting.coupon_usage order by store_id`),
    ).toEqual([
      {
        store_id: nz,
        coupon_code: 'SAVE10',
        coupon_id: 9001,
        coupon_name: '10% off',
        currency: 'NZD',
        orders: 2,
        gross_sales: 40.4,
        coupon_discount: 4.4,
        discounts: 4.4,
        refunds: 0,
        net_sales: 36,
      },
      {
        store_id: us,
        coupon_code: 'FIVE',
        coupon_id: 9002,
        coupon_name: '$5 off',
        currency: 'USD',
        orders: 1,
        gross_sales: 35,
        coupon_discount: 5,
        discounts: 5,
        refunds: 0,
        net_sales: 30,
      },
    ]);
  });

  test('abandoned_cart_recovery and the cart lines', async () => {
    expect(
      await view(`select store_id::int, ${day('day')}, currency, carts, recovered, recovery_rate, cart_value, recovered_value
                  from reporting.abandoned_cart_recovery`),
    ).toEqual([
      { store_id: nz, day: '2026-01-11', currency: 'NZD', carts: 2, recovered: 1, recovery_rate: 0.5, cart_value: 44, recovered_value: 33 },
    ]);
    expect(await view(`select cart_id, product_id::int, quantity, price, options from abandoned_cart_items order by cart_id`)).toEqual([
      { cart_id: 'CART-1', product_id: 101, quantity: 3, price: 11, options: [{ name: 'Size', value: 'L' }] },
      { cart_id: 'CART-2', product_id: 101, quantity: 1, price: 11, options: [{ name: 'Size', value: 'L' }] },
      { cart_id: 'CART-3', product_id: 101, quantity: 2, price: 11, options: [{ name: 'Size', value: 'L' }] },
    ]);
  });

  test('typed facts: shipping, handling, surcharges, gift cards, discounts, places', async () => {
    expect(
      await view(`select order_id, shipping_method, shipping_rate, shipping_without_tax, handling_fee, handling_fee_without_tax,
                         surcharges, surcharges_without_tax, gift_card_redemption, custom_discount, prices_include_tax, billing_country
                  from orders where order_id in ('N3', 'N10', 'U2') order by order_id`),
    ).toEqual([
      {
        order_id: 'N10',
        shipping_method: null,
        shipping_rate: null,
        shipping_without_tax: null,
        handling_fee: null,
        handling_fee_without_tax: null,
        surcharges: 2.2,
        surcharges_without_tax: 2,
        gift_card_redemption: 20,
        custom_discount: 5.5,
        prices_include_tax: true,
        billing_country: 'ES',
      },
      {
        order_id: 'N3',
        shipping_method: 'Courier',
        shipping_rate: 11,
        shipping_without_tax: 10,
        handling_fee: 2.2,
        handling_fee_without_tax: 2,
        surcharges: null,
        surcharges_without_tax: null,
        gift_card_redemption: 0,
        custom_discount: null,
        prices_include_tax: true,
        billing_country: 'ES',
      },
      {
        order_id: 'U2',
        shipping_method: 'Ground',
        shipping_rate: 7,
        shipping_without_tax: 7,
        handling_fee: 1,
        handling_fee_without_tax: 1,
        surcharges: null,
        surcharges_without_tax: null,
        gift_card_redemption: 0,
        custom_discount: null,
        prices_include_tax: false,
        billing_country: 'ES',
      },
    ]);
  });

  test('a rebuild from the log alone gives the same rows in every view', async () => {
    const views = ['order_sales', 'refunds', 'daily_sales', 'product_sales', 'customer_summary', 'coupon_usage', 'abandoned_cart_recovery'];
    const snapshotViews = async () =>
      Object.fromEntries(
        await Promise.all(views.map(async (v) => [v, await view(`select * from reporting.${v} order by 1, 2, 3, 4, 5`)] as const)),
      );
    const before = await snapshotViews();
    const orders = await view(`select store_id, order_id, currency, timezone from orders order by 1, 2`);
    await rebuild(db, { batchSize: 4, parallel: 2 });
    expect(await snapshotViews()).toEqual(before);
    expect(await view(`select store_id, order_id, currency, timezone from orders order by 1, 2`)).toEqual(orders);
  });
});
