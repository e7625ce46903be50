import type { Db } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { appendRecords, fixture, type RecordInput } from '../../testing/append-records.ts';
import { reportRows } from '../../testing/report-rows.ts';
import { rebuild } from '../rebuild/rebuild.ts';
import { projectNextBatch } from './project-batch.ts';

/*
 * Known answers for two cases reporting-known-answer.int.test.ts does not hold, each worked out
 * by hand from the documents below (docs/reporting.md) and written out as literals:
 *
 * - a tax-inclusive store whose order lines carry different tax rates (7% and 19%, as EU reduced
 *   rates do): product_sales spreads an order over its lines by their price without tax, so the
 *   tax does not move net sales from one product to another;
 * - a store that changes currency and time zone: an abandoned cart keeps the ones in force when
 *   the log first held it, as orders do (decision 0009).
 */

const store = 7003; // EUR on Europe/Berlin, prices include tax; later GBP on Europe/London
const late = 7004; // AUD on Australia/Sydney, its profile in the log after its cart

const at = (iso: string) => ({
  createDate: `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000`,
  createTimestamp: Date.parse(iso) / 1000,
  updateDate: `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000`,
  updateTimestamp: Date.parse(iso) / 1000,
});

/** The documented order with these money fields and lines. */
function order(id: string, created: string, fields: Record<string, unknown>): Record<string, unknown> {
  return {
    ...fixture('order'),
    id,
    internalId: Number(id.replace(/\D/g, '')) + 7000,
    ...at(created),
    pricesIncludeTax: true,
    paymentStatus: 'PAID',
    fulfillmentStatus: 'AWAITING_PROCESSING',
    refunds: [],
    refundedAmount: 0,
    invoices: [],
    couponDiscount: 0,
    discount: 0,
    ...fields,
  };
}
// A book at 10.00 + 7% and a toy at 10.00 + 19%.
const book = (id: number, quantity: number) => ({
  id,
  productId: 301,
  sku: 'BOOK',
  name: 'Book',
  price: 10.7,
  priceWithoutTax: 10,
  tax: 0.7,
  quantity,
});
const toy = (id: number, quantity: number) => ({
  id,
  productId: 302,
  sku: 'TOY',
  name: 'Toy',
  price: 11.9,
  priceWithoutTax: 10,
  tax: 1.9,
  quantity,
});

const profile = (currency: string, timezone: string) => ({ generalInfo: { storeId: store }, formatsAndUnits: { currency, timezone } });
const cart = (cartId: string, created: string, total: number) => ({
  cartId,
  ...at(created),
  total,
  items: [{ id: 1, productId: 301, sku: 'BOOK', name: 'Book', quantity: 1, price: total }],
});

const snapshot = (entityKind: string, entityId: string, payload: unknown): RecordInput => ({
  storeId: store,
  entityKind,
  entityId,
  payload,
});

let database: TestDatabase;
let db: Db;

async function projectAll(): Promise<void> {
  for (;;) if ((await projectNextBatch(db)).caughtUp) return;
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  await appendRecords(db, [
    snapshot('store_profile', String(store), profile('EUR', 'Europe/Berlin')),
    // 22.60 charged, 2.60 of it tax: net sales 20.00, 10.00 for each product.
    snapshot(
      'order',
      'M1',
      order('M1', '2026-02-02T10:00:00Z', { items: [book(11, 1), toy(12, 1)], subtotal: 22.6, tax: 2.6, total: 22.6 }),
    ),
    // Two books and a toy, 33.30, with 10% off (3.33): tax on what remains 0.9 × (1.40 + 1.90) =
    // 2.97, total 29.97, net sales 27.00. Weighed 20 : 10 by price without tax, the books get net
    // 18.00 and 2.22 of the discount, the toy 9.00 and 1.11.
    snapshot(
      'order',
      'M2',
      order('M2', '2026-02-03T10:00:00Z', {
        items: [book(21, 2), toy(22, 1)],
        subtotal: 33.3,
        couponDiscount: 3.33,
        tax: 2.97,
        total: 29.97,
      }),
    ),
    // 2026-02-28 23:30 UTC is March 1st in Berlin: a cart of EUR 30.
    snapshot('abandoned_cart', 'C1', cart('C1', '2026-02-28T23:30:00Z', 30)),
    // A store whose profile the log holds only after its cart: the cart takes that profile.
    { ...snapshot('abandoned_cart', 'D1', cart('D1', '2026-02-28T13:30:00Z', 12)), storeId: late },
    // A cart the mirror only knows deleted, before that profile: its row takes the profile too,
    // live as in a rebuild (the order of the two records differs between them).
    { kind: 'tombstone', storeId: late, entityKind: 'abandoned_cart', entityId: 'GONE', payload: { reason: 'not_found' } },
  ]);
  await projectAll();
  // 2026-02-28 13:30 UTC is March 1st, 00:30 in Sydney.
  await appendRecords(db, [{ ...snapshot('store_profile', String(late), profile('AUD', 'Australia/Sydney')), storeId: late }]);
  // The store moves to GBP on London time. C1 stays a Berlin-day EUR cart; C2, first seen after
  // the change, is GBP 2000 on London's February 28th (Berlin's March 1st).
  await appendRecords(db, [snapshot('store_profile', String(store), profile('GBP', 'Europe/London'))]);
  await appendRecords(db, [snapshot('abandoned_cart', 'C2', cart('C2', '2026-02-28T23:30:00Z', 2000))]);
  // C1 written again after the change (its total went up): still EUR, still March 1st.
  await appendRecords(db, [snapshot('abandoned_cart', 'C1', cart('C1', '2026-02-28T23:30:00Z', 35))]);
  await projectAll();
});
afterAll(async () => {
  await database.close();
});

const rows = (query: string) => reportRows(db, query);

const productSales = `select to_char(day, 'YYYY-MM-DD') as day, currency, product_id::int, units, gross_sales, discounts, net_sales
                      from reporting.product_sales order by day, product_id`;
const cartRecovery = `select store_id::int, to_char(day, 'YYYY-MM-DD') as day, currency, carts, cart_value
                      from reporting.abandoned_cart_recovery order by store_id, day, currency`;

const expectedProductSales = [
  { day: '2026-02-02', currency: 'EUR', product_id: 301, units: 1, gross_sales: 10, discounts: 0, net_sales: 10 },
  { day: '2026-02-02', currency: 'EUR', product_id: 302, units: 1, gross_sales: 10, discounts: 0, net_sales: 10 },
  { day: '2026-02-03', currency: 'EUR', product_id: 301, units: 2, gross_sales: 20.22, discounts: 2.22, net_sales: 18 },
  { day: '2026-02-03', currency: 'EUR', product_id: 302, units: 1, gross_sales: 10.11, discounts: 1.11, net_sales: 9 },
];
const expectedCartRecovery = [
  { store_id: store, day: '2026-02-28', currency: 'GBP', carts: 1, cart_value: 2000 },
  { store_id: store, day: '2026-03-01', currency: 'EUR', carts: 1, cart_value: 35 },
  { store_id: late, day: '2026-03-01', currency: 'AUD', carts: 1, cart_value: 12 },
];

describe('known answers', () => {
  test('product_sales spreads a tax-inclusive order over its lines by their price without tax', async () => {
    // The orders' own figures first: the split below must add up to them.
    expect(await rows(`select order_id, net_sales, discounts from reporting.order_sales order by order_id`)).toEqual([
      { order_id: 'M1', net_sales: 20, discounts: 0 },
      { order_id: 'M2', net_sales: 27, discounts: 3.33 },
    ]);
    expect(await rows(productSales)).toEqual(expectedProductSales);
  });

  test('an abandoned cart keeps the currency and time zone the store had when the log first held it', async () => {
    expect(await rows(`select cart_id, currency, timezone from abandoned_carts order by cart_id`)).toEqual([
      { cart_id: 'C1', currency: 'EUR', timezone: 'Europe/Berlin' },
      { cart_id: 'C2', currency: 'GBP', timezone: 'Europe/London' },
      { cart_id: 'D1', currency: 'AUD', timezone: 'Australia/Sydney' },
      { cart_id: 'GONE', currency: 'AUD', timezone: 'Australia/Sydney' },
    ]);
    expect(await rows(cartRecovery)).toEqual(expectedCartRecovery);
  });

  test('a rebuild from the log gives the same figures', async () => {
    const carts = `select cart_id, currency, timezone, deleted_at is not null as deleted from abandoned_carts order by cart_id`;
    const live = await rows(carts);
    await rebuild(db);
    expect(await rows(productSales)).toEqual(expectedProductSales);
    expect(await rows(cartRecovery)).toEqual(expectedCartRecovery);
    expect(await rows(carts)).toEqual(live);
  });
});
