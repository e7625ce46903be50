import { sql } from 'drizzle-orm';
import { execRows, type Db } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { appendRecords, fixture, type RecordInput } from '../../testing/append-records.ts';
import { rebuild } from '../rebuild/rebuild.ts';
import { projectNextBatch } from './project-batch.ts';

/*
 * Known answers for a case reporting-known-answer.int.test.ts does not hold, worked out
 * by hand from the documents below (docs/reporting.md) and written out as literals:
 *
 * - a tax-inclusive store whose order lines carry different tax rates (7% and 19%, as EU reduced
 *   rates do): product_sales spreads an order over its lines by their price without tax, so the
 *   tax does not move net sales from one product to another.
 */

const store = 7003; // EUR on Europe/Berlin, prices include tax

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
  ]);
  await projectAll();
});
afterAll(async () => {
  await database.close();
});

async function rows(query: string): Promise<Record<string, unknown>[]> {
  const found = await execRows<Record<string, unknown>>(db, sql.raw(query));
  return found.map((row) =>
    Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v])),
  );
}

const productSales = `select to_char(day, 'YYYY-MM-DD') as day, currency, product_id::int, units, gross_sales, discounts, net_sales
                      from reporting.product_sales order by day, product_id`;

const expectedProductSales = [
  { day: '2026-02-02', currency: 'EUR', product_id: 301, units: 1, gross_sales: 10, discounts: 0, net_sales: 10 },
  { day: '2026-02-02', currency: 'EUR', product_id: 302, units: 1, gross_sales: 10, discounts: 0, net_sales: 10 },
  { day: '2026-02-03', currency: 'EUR', product_id: 301, units: 2, gross_sales: 20.22, discounts: 2.22, net_sales: 18 },
  { day: '2026-02-03', currency: 'EUR', product_id: 302, units: 1, gross_sales: 10.11, discounts: 1.11, net_sales: 9 },
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

  test('a rebuild from the log gives the same figures', async () => {
    await rebuild(db);
    expect(await rows(productSales)).toEqual(expectedProductSales);
  });
});
