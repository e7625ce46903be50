import { sql } from 'drizzle-orm';
import { databaseOver, execRows, type Db } from '@mirror/db';
import { concurrencySkipReason, createTestDatabase, postgresSkipReason, type TestDatabase } from '@mirror/db/testing';
import postgres from 'postgres';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { projectBatch, projectBatchInTransaction, projectNextBatch } from './project-batch.ts';
import { bindStatement, snapshotStatement } from './build-statements.ts';
import { projectionSpecs } from './entity-specs.ts';
import { appendRecords, appendSnapshot, appendTombstone, fixture, testStoreId } from '../../testing/append-records.ts';
import { entityTables, logOfEverything, simStore, snapshotTables } from '../../testing/sample-log.ts';
import { rebuild } from '../rebuild/rebuild.ts';

let database: TestDatabase;
let db: Db;
beforeEach(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterEach(async () => {
  await database.close();
});

/** Every row of a table as JSON (same shape on postgres.js and PGlite), ordered by key. */
async function rows(table: string, where = 'true'): Promise<Record<string, unknown>[]> {
  const result = await execRows<{ row: Record<string, unknown> }>(
    db,
    sql.raw(`select to_jsonb(t) as row from ${table} t where ${where} order by 1`),
  );
  return result.map((r) => r.row);
}
async function one(table: string, where: string): Promise<Record<string, unknown>> {
  const found = await rows(table, where);
  expect(found).toHaveLength(1);
  return found[0]!;
}
async function checkpoint(name = 'projection'): Promise<number> {
  const [row] = await execRows<{ position: string | number }>(db, sql`select position from consumer_checkpoints where name = ${name}`);
  return Number(row?.position ?? 0);
}
async function projectAll(options: { limit?: number } = {}): Promise<number> {
  let total = 0;
  for (;;) {
    const outcome = await projectNextBatch(db, options);
    total += outcome.records;
    if (outcome.caughtUp) return total;
  }
}
const ts = (iso: string) => new Date(iso).toISOString().replace('.000Z', '+00:00');

describe('columns from real documents', () => {
  test('an order and its items', async () => {
    const order = fixture('order');
    const position = await appendSnapshot(db, {
      entityKind: 'order',
      entityId: 'K8XTQ',
      payload: order,
      fetchedAt: new Date('2024-09-04T08:00:00Z'),
    });

    expect(await projectBatch(db)).toBe(1);

    expect(await one('orders', `order_id = 'K8XTQ'`)).toMatchObject({
      store_id: testStoreId,
      internal_id: 516483487,
      order_number: 516483487,
      email: 'ec.apps@lightspeedhq.com',
      customer_id: 270919557,
      payment_status: 'PAID',
      fulfillment_status: 'DELIVERED',
      total: 10,
      subtotal: 10,
      tax: 0.91,
      refunded_amount: 0,
      coupon_code: null,
      currency: null,
      hidden: false,
      created_at: ts('2024-09-04T07:22:09Z'),
      updated_at: ts('2024-09-04T07:26:24Z'),
      deleted_at: null,
      source_position: position,
      synced_at: ts('2024-09-04T08:00:00Z'),
      doc: order,
    });
    expect(await rows('order_items')).toEqual([
      expect.objectContaining({
        order_id: 'K8XTQ',
        item_id: 1828115520,
        product_id: 692730761,
        sku: '123123',
        name: 'Toys',
        quantity: 1,
        price: 10,
        source_position: position,
      }),
    ]);
    expect(await checkpoint()).toBe(position);
  });

  test("an order with a coupon and refunds but no refundedAmount, in its store profile's currency", async () => {
    const order = fixture('order');
    delete order['refundedAmount'];
    // A top-level `currency` is not Ecwid's: the store profile's is the order's.
    Object.assign(order, { currency: 'USD', discountCoupon: { code: 'DISC' }, refunds: [{ amount: 2.5 }, { amount: '1.25' }] });
    await appendSnapshot(db, {
      entityKind: 'store_profile',
      entityId: String(testStoreId),
      payload: { formatsAndUnits: { currency: 'EUR', timezone: 'Pacific/Auckland' } },
    });
    await appendSnapshot(db, { entityKind: 'order', entityId: 'K8XTQ', payload: order });
    await projectBatch(db);
    expect(await one('orders', 'true')).toMatchObject({
      coupon_code: 'DISC',
      currency: 'EUR',
      timezone: 'Pacific/Auckland',
      refunded_amount: 3.75,
    });
  });

  test('refunds Ecwid does not list keep the day each first showed: later edits of the order do not move them, and a rebuild agrees', async () => {
    const base = fixture('order');
    delete base['refunds'];
    const state = (refundedAmount: number, updated: string, comment: string) => ({
      ...base,
      paymentStatus: 'PARTIALLY_REFUNDED',
      refundedAmount,
      orderComments: comment,
      updateDate: updated.replace('T', ' ').replace('Z', ' +0000'),
      updateTimestamp: Date.parse(updated) / 1000,
    });
    const refunds = async () =>
      (await rows('order_refunds', `order_id = 'K8XTQ'`)).map((r) => [r['refund_index'], r['refunded_at'], r['amount'], r['source']]);
    const step = async (refundedAmount: number, updated: string, comment: string) => {
      await appendSnapshot(db, { entityKind: 'order', entityId: 'K8XTQ', payload: state(refundedAmount, updated, comment) });
      await projectAll();
      return refunds();
    };
    // Refunded 4 on the 5th; a comment added on the 20th leaves the refund on the 5th.
    expect(await step(4, '2026-01-05T10:00:00Z', '')).toEqual([[1, ts('2026-01-05T10:00:00Z'), 4, 'inferred']]);
    expect(await step(4, '2026-01-20T09:00:00Z', 'gift wrap, please')).toEqual([[1, ts('2026-01-05T10:00:00Z'), 4, 'inferred']]);
    // Refunded up to 7 on 1 February: 3 more, on that day; the 4 stays on the 5th.
    const twoRefunds = [
      [1, ts('2026-01-05T10:00:00Z'), 4, 'inferred'],
      [2, ts('2026-02-01T08:00:00Z'), 3, 'inferred'],
    ];
    expect(await step(7, '2026-02-01T08:00:00Z', 'gift wrap, please')).toEqual(twoRefunds);
    const projected = await step(7, '2026-02-03T08:00:00Z', 'shipped late');
    expect(projected).toEqual(twoRefunds);
    await rebuild(db, { batchSize: 2 });
    expect(await refunds()).toEqual(projected);
    // Down to 5 (a refund taken back): all of it dated where it went down.
    expect(await step(5, '2026-02-10T08:00:00Z', 'shipped late')).toEqual([[1, ts('2026-02-10T08:00:00Z'), 5, 'inferred']]);
  });

  test('a product, its variations and categories', async () => {
    const product = fixture('product');
    product['categoryIds'] = [9691094, 123];
    product['combinations'] = [
      { id: 11, sku: 'T-S', price: 12, quantity: 3 },
      { id: 12, sku: 'T-M', defaultDisplayedPrice: 13, quantity: 0 },
      { id: 13, sku: 'T-L' },
    ];
    await appendSnapshot(db, { entityKind: 'product', entityId: '692730761', payload: product });
    await projectBatch(db);

    expect(await one('products', 'true')).toMatchObject({
      product_id: 692730761,
      sku: '123123',
      name: 'Toys',
      price: 10,
      quantity: null,
      unlimited: true,
      in_stock: true,
      enabled: true,
      product_type_id: 0,
      created_at: ts('2024-09-04T07:20:11Z'),
      updated_at: ts('2024-09-04T07:20:12Z'),
    });
    const variations = await rows('product_variations');
    variations.sort((a, b) => Number(a['variation_id']) - Number(b['variation_id']));
    expect(variations.map((v) => [v['variation_id'], v['sku'], v['price'], v['quantity']])).toEqual([
      [11, 'T-S', 12, 3],
      [12, 'T-M', 13, 0],
      [13, 'T-L', 10, null],
    ]);
    expect((await rows('product_categories')).map((c) => c['category_id']).sort()).toEqual([123, 9691094]);
  });

  test('a customer, a category, a coupon, app storage and the subscription', async () => {
    await appendRecords(db, [
      { entityKind: 'customer', entityId: '177737165', payload: fixture('customer') },
      { entityKind: 'category', entityId: '9691094', payload: fixture('category') },
      { entityKind: 'discount_coupon', entityId: '162428889', payload: fixture('discount-coupon') },
      { entityKind: 'app_storage', entityId: String(testStoreId), payload: fixture('app-storage-all-legacy') },
      { entityKind: 'app_subscription', entityId: String(testStoreId), payload: fixture('application-status-legacy') },
    ]);
    expect(await projectBatch(db)).toBe(5);

    expect(await one('customers', 'true')).toMatchObject({
      customer_id: 177737165,
      email: 'ec.apps@lightspeedhq.com',
      name: 'Support team',
      customer_group_id: 0,
      created_at: ts('2021-12-21T06:05:58Z'),
      updated_at: ts('2024-06-04T21:15:10Z'),
    });
    expect(await one('categories', 'true')).toMatchObject({ category_id: 9691094, parent_id: null, name: 'Fruit', enabled: true });
    expect(await one('discount_coupons', 'true')).toMatchObject({
      coupon_id: 162428889,
      code: 'DISC',
      name: '10% OFF',
      discount_type: 'ABS',
      discount: 10,
      status: 'ACTIVE',
      order_count: 1,
      created_at: ts('2022-07-29T15:22:35Z'),
      updated_at: ts('2024-05-01T05:26:28Z'),
    });
    expect((await rows('app_storage')).map((r) => [r['key'], r['value']])).toEqual([
      ['birth_date', '18.11.1987'],
      ['sex', 'male'],
    ]);
    expect(await one('app_subscriptions', 'true')).toMatchObject({ store_id: testStoreId, status: 'TRIAL' });
  });

  test('simulator documents: cart, review, promotion, product type, customer group, profile, invoices', async () => {
    const cart = simStore.carts.values()[0]!;
    const review = simStore.reviews.values()[0]!;
    const promotion = simStore.promotions.values()[0]!;
    const productType = simStore.productTypes.values()[1]!;
    const group = simStore.customerGroups.values()[0]!;
    const order = fixture<{ invoices: unknown[] }>('order');
    await appendRecords(db, [
      { entityKind: 'abandoned_cart', entityId: cart.cartId, payload: { ...cart, recoveredOrderId: 'ABC12' } },
      { entityKind: 'review', entityId: String(review.id), payload: review },
      { entityKind: 'promotion', entityId: String(promotion.id), payload: promotion },
      { entityKind: 'product_type', entityId: String(productType.id), payload: productType },
      { entityKind: 'customer_group', entityId: String(group.id), payload: group },
      { entityKind: 'store_profile', entityId: String(testStoreId), payload: simStore.profile },
      { entityKind: 'invoice', entityId: 'K8XTQ', payload: { invoices: order.invoices } },
    ]);
    await projectBatch(db);

    expect(await one('abandoned_carts', 'true')).toMatchObject({
      cart_id: cart.cartId,
      email: cart.email,
      customer_id: cart.customerId ?? null,
      total: cart.total,
      recovered_order_id: 'ABC12',
      hidden: false,
      created_at: ts(new Date(cart.createTimestamp * 1000).toISOString()),
      updated_at: ts(new Date(cart.updateTimestamp * 1000).toISOString()),
    });
    expect(await one('reviews', 'true')).toMatchObject({
      review_id: review.id,
      product_id: review.productId,
      order_id: review.orderId,
      customer_id: review.customerId,
      rating: review.rating,
      status: review.status,
      updated_at: ts(new Date(review.updateTimestamp * 1000).toISOString()),
    });
    expect(await one('promotions', 'true')).toMatchObject({
      promotion_id: promotion.id,
      name: promotion.name,
      enabled: promotion.enabled,
      discount_type: promotion.discountType,
      amount: promotion.amount,
    });
    expect(await one('product_types', 'true')).toMatchObject({ product_type_id: productType.id, name: productType.name });
    expect(await one('customer_groups', 'true')).toMatchObject({ customer_group_id: group.id, name: group.name });
    expect(await one('store_profiles', 'true')).toMatchObject({
      store_id: testStoreId,
      store_name: simStore.profile.settings.storeName,
      store_url: simStore.profile.generalInfo.storeUrl,
      // The sample store's seed (7) gives CAD on Vancouver time.
      currency: 'CAD',
      timezone: 'America/Vancouver',
    });
    expect(await one('invoices', 'true')).toMatchObject({
      order_id: 'K8XTQ',
      invoice_id: '27',
      type: 'SALE',
      created_at: ts('2024-09-04T07:22:09Z'),
      link: expect.stringContaining('https://'),
    });
  });

  test('malformed values become null without failing the batch', async () => {
    const order = fixture('order');
    Object.assign(order, {
      total: 'ten',
      tax: { amount: 1 },
      internalId: 1e30,
      hidden: 'yes',
      createTimestamp: -5,
      updateTimestamp: 'soon',
      updateDate: '2024-02-30 10:00:00 +0000',
      items: [{ id: 'x' }, { id: 7, quantity: 1.5, price: '9.99' }, 'junk'],
    });
    const customer = fixture('customer');
    Object.assign(customer, { registered: '2021-13-01 00:00:00 +0000', updated: 'yesterday', customerGroupId: '12' });
    await appendRecords(db, [
      { entityKind: 'order', entityId: 'K8XTQ', payload: order },
      { entityKind: 'customer', entityId: '177737165', payload: customer },
      { entityKind: 'product', entityId: 'not-a-number', payload: fixture('product') },
      { entityKind: 'category', entityId: '5', payload: ['not', 'an', 'object'] },
      { entityKind: 'size_chart', entityId: '1', payload: {} },
    ]);
    // Four applied; the size chart (a kind with no table) is passed over, the checkpoint past it.
    const outcome = await projectNextBatch(db);
    expect(outcome.records).toBe(4);
    expect(await checkpoint()).toBe(outcome.to);

    // A bad createTimestamp falls back to the createDate string; both update times are bad.
    expect(await one('orders', 'true')).toMatchObject({
      total: null,
      tax: null,
      internal_id: null,
      hidden: null,
      created_at: ts('2024-09-04T07:22:09Z'),
      updated_at: null,
    });
    expect((await rows('order_items')).map((i) => [i['item_id'], i['quantity'], i['price']])).toEqual([[7, null, 9.99]]);
    expect(await one('customers', 'true')).toMatchObject({ created_at: null, updated_at: null, customer_group_id: 12 });
    expect(await rows('products')).toEqual([]);
    expect(await one('categories', 'true')).toMatchObject({ category_id: 5, name: null });
  });
});

describe('projection rules', () => {
  const order = (updateTimestamp: number, extra: Record<string, unknown> = {}) => ({ ...fixture('order'), updateTimestamp, ...extra });

  test('an older snapshot after a newer one does not overwrite it', async () => {
    await appendSnapshot(db, { entityKind: 'order', entityId: 'K8XTQ', payload: order(2000, { paymentStatus: 'PAID' }) });
    await projectBatch(db);
    await appendSnapshot(db, { entityKind: 'order', entityId: 'K8XTQ', payload: order(1000, { paymentStatus: 'AWAITING_PAYMENT' }) });
    await projectBatch(db);
    expect(await one('orders', 'true')).toMatchObject({ payment_status: 'PAID', updated_at: ts('1970-01-01T00:33:20Z') });
  });

  test('within one batch the newest document wins whatever its position', async () => {
    await appendRecords(db, [
      { entityKind: 'order', entityId: 'K8XTQ', payload: order(2000, { paymentStatus: 'PAID' }) },
      { entityKind: 'order', entityId: 'K8XTQ', payload: order(1000, { paymentStatus: 'AWAITING_PAYMENT' }) },
    ]);
    await projectBatch(db);
    expect(await one('orders', 'true')).toMatchObject({ payment_status: 'PAID' });
  });

  test('equal update times go to the later position, in one batch or across batches', async () => {
    const [, second] = await appendRecords(db, [
      { entityKind: 'order', entityId: 'K8XTQ', payload: order(1000, { paymentStatus: 'PAID' }) },
      { entityKind: 'order', entityId: 'K8XTQ', payload: order(1000, { paymentStatus: 'REFUNDED' }) },
    ]);
    await projectBatch(db);
    expect(await one('orders', 'true')).toMatchObject({ payment_status: 'REFUNDED', source_position: second });

    const third = await appendSnapshot(db, {
      entityKind: 'order',
      entityId: 'K8XTQ',
      payload: order(1000, { paymentStatus: 'CANCELLED' }),
    });
    await projectBatch(db);
    expect(await one('orders', 'true')).toMatchObject({ payment_status: 'CANCELLED', source_position: third });
  });

  test('untimed entities take the later position', async () => {
    const category = fixture('category');
    await appendSnapshot(db, { entityKind: 'category', entityId: '9691094', payload: { ...category, name: 'First' } });
    await projectBatch(db);
    await appendSnapshot(db, { entityKind: 'category', entityId: '9691094', payload: { ...category, name: 'Second' } });
    await projectBatch(db);
    expect(await one('categories', 'true')).toMatchObject({ name: 'Second' });
  });

  test('untimed entities: an older fetch appended later does not overwrite a newer one', async () => {
    const category = fixture('category');
    const early = new Date('2024-06-01T10:00:00Z');
    const late = new Date('2024-06-01T10:05:00Z');
    // A backfill page fetched at 10:00 lands after a live fetch made at 10:05, across batches…
    await appendSnapshot(db, { entityKind: 'category', entityId: '9691094', payload: { ...category, name: 'Live' }, fetchedAt: late });
    await projectBatch(db);
    await appendSnapshot(db, { entityKind: 'category', entityId: '9691094', payload: { ...category, name: 'Stale' }, fetchedAt: early });
    await projectBatch(db);
    expect(await one('categories', 'true')).toMatchObject({ name: 'Live' });
    // …and within one batch.
    await appendSnapshot(db, { entityKind: 'category', entityId: '1', payload: { ...category, id: 1, name: 'Live' }, fetchedAt: late });
    await appendSnapshot(db, { entityKind: 'category', entityId: '1', payload: { ...category, id: 1, name: 'Stale' }, fetchedAt: early });
    await projectBatch(db);
    expect(await one('categories', 'category_id = 1')).toMatchObject({ name: 'Live' });
  });

  test('a document fetched after the deletion brings the order and its items back; one fetched before does not', async () => {
    const items = (fixture('order')['items'] as Record<string, unknown>[])[0]!;
    await appendSnapshot(db, { entityKind: 'order', entityId: 'K8XTQ', payload: order(1000), fetchedAt: new Date('2024-09-01T00:00:00Z') });
    await appendTombstone(db, { entityKind: 'order', entityId: 'K8XTQ', fetchedAt: new Date('2024-10-01T00:00:00Z') });
    await projectBatch(db);
    expect(await one('orders', 'true')).toMatchObject({ deleted_at: ts('2024-10-01T00:00:00Z') });

    // Fetched before the deletion was learned, appended after it: stays deleted.
    await appendSnapshot(db, { entityKind: 'order', entityId: 'K8XTQ', payload: order(2000), fetchedAt: new Date('2024-09-30T00:00:00Z') });
    await projectBatch(db);
    expect(await one('orders', 'true')).toMatchObject({ deleted_at: ts('2024-10-01T00:00:00Z') });

    // Ecwid serves it again (the delete was a replay, or the order came back): it lives, with its items.
    const back = await appendSnapshot(db, {
      entityKind: 'order',
      entityId: 'K8XTQ',
      payload: order(500, { items: [{ ...items, id: 7 }] }),
      fetchedAt: new Date('2024-10-02T00:00:00Z'),
    });
    await projectBatch(db);
    expect(await one('orders', 'true')).toMatchObject({ deleted_at: null, source_position: back, synced_at: ts('2024-10-02T00:00:00Z') });
    expect((await rows('order_items')).map((i) => [i['item_id'], i['deleted_at']])).toEqual([[7, null]]);

    // And the same sequence inside one batch, for a product and a set (invoices).
    await appendRecords(db, [
      { entityKind: 'product', entityId: '692730761', payload: fixture('product'), fetchedAt: new Date('2024-09-01T00:00:00Z') },
      { kind: 'tombstone', entityKind: 'product', entityId: '692730761', fetchedAt: new Date('2024-10-01T00:00:00Z') },
      {
        entityKind: 'product',
        entityId: '692730761',
        payload: { ...fixture('product'), name: 'Back' },
        fetchedAt: new Date('2024-10-02T00:00:00Z'),
      },
    ]);
    await projectBatch(db);
    expect(await one('products', 'true')).toMatchObject({ name: 'Back', deleted_at: null });
  });

  test('a deletion learned before the row was fetched does not end it (a stale tombstone appended late)', async () => {
    await appendSnapshot(db, {
      entityKind: 'customer',
      entityId: '42',
      payload: fixture('customer'),
      fetchedAt: new Date('2024-10-02T00:00:00Z'),
    });
    await projectBatch(db);
    await appendTombstone(db, { entityKind: 'customer', entityId: '42', fetchedAt: new Date('2024-10-01T00:00:00Z') });
    await projectBatch(db);
    expect(await one('customers', 'true')).toMatchObject({ deleted_at: null });
  });

  test('a tombstone outlives a late snapshot fetched before it: the order and its items stay deleted', async () => {
    await appendSnapshot(db, { entityKind: 'order', entityId: 'K8XTQ', payload: order(1000) });
    await projectBatch(db);
    const tombstone = await appendTombstone(db, { entityKind: 'order', entityId: 'K8XTQ', fetchedAt: new Date('2024-10-01T00:00:00Z') });
    await projectBatch(db);
    await appendSnapshot(db, { entityKind: 'order', entityId: 'K8XTQ', payload: order(9000, { paymentStatus: 'REFUNDED' }) });
    await projectBatch(db);

    const row = await one('orders', 'true');
    expect(row).toMatchObject({ deleted_at: ts('2024-10-01T00:00:00Z'), source_position: tombstone, payment_status: 'PAID' });
    expect((await rows('order_items')).map((i) => i['deleted_at'])).toEqual([ts('2024-10-01T00:00:00Z')]);
  });

  test('a snapshot after its tombstone in the same batch is not applied; one before it is', async () => {
    await appendRecords(db, [
      { entityKind: 'product', entityId: '692730761', payload: { ...fixture('product'), name: 'Before' } },
      { kind: 'tombstone', entityKind: 'product', entityId: '692730761' },
      { entityKind: 'product', entityId: '692730761', payload: { ...fixture('product'), name: 'After', updateTimestamp: 1999999999 } },
    ]);
    await projectBatch(db);
    expect(await one('products', 'true')).toMatchObject({ name: 'Before', deleted_at: expect.any(String) });
  });

  test('a tombstone with no row creates a deleted row holding only the key', async () => {
    const position = await appendTombstone(db, { entityKind: 'customer', entityId: '42', reason: 'not_found' });
    await projectBatch(db);
    expect(await one('customers', 'true')).toMatchObject({
      customer_id: 42,
      email: null,
      doc: {},
      deleted_at: expect.any(String),
      source_position: position,
    });
    await appendSnapshot(db, { entityKind: 'customer', entityId: '42', payload: fixture('customer') });
    await projectBatch(db);
    expect(await one('customers', 'true')).toMatchObject({ email: null, source_position: position });
  });

  test('an order losing an item loses its row', async () => {
    const items = (fixture('order')['items'] as Record<string, unknown>[])[0]!;
    await appendSnapshot(db, {
      entityKind: 'order',
      entityId: 'K8XTQ',
      payload: order(1000, { items: [items, { ...items, id: 2, sku: 'second' }] }),
    });
    await projectBatch(db);
    expect((await rows('order_items')).map((i) => i['item_id']).sort()).toEqual([1828115520, 2]);

    const later = await appendSnapshot(db, {
      entityKind: 'order',
      entityId: 'K8XTQ',
      payload: order(2000, { items: [{ ...items, id: 2, sku: 'second', quantity: 5 }] }),
    });
    await projectBatch(db);
    expect(await rows('order_items')).toEqual([expect.objectContaining({ item_id: 2, quantity: 5, source_position: later })]);
  });

  test('an older snapshot does not replace the children either', async () => {
    const items = (fixture('order')['items'] as Record<string, unknown>[])[0]!;
    await appendSnapshot(db, { entityKind: 'order', entityId: 'K8XTQ', payload: order(2000) });
    await projectBatch(db);
    await appendSnapshot(db, { entityKind: 'order', entityId: 'K8XTQ', payload: order(1000, { items: [{ ...items, id: 99 }] }) });
    await projectBatch(db);
    expect((await rows('order_items')).map((i) => i['item_id'])).toEqual([1828115520]);
  });

  test('an order tombstone by internal id deletes the order it names', async () => {
    await appendSnapshot(db, { entityKind: 'order', entityId: 'K8XTQ', payload: order(1000) });
    await projectBatch(db);
    await appendTombstone(db, { entityKind: 'order', entityId: 'internal:516483487', internalId: 516483487 });
    await projectBatch(db);
    expect(await one('orders', 'true')).toMatchObject({ order_id: 'K8XTQ', deleted_at: expect.any(String) });
    expect((await rows('order_items')).map((i) => i['deleted_at'])).toEqual([expect.any(String)]);
  });

  test('an order tombstone by internal id before any snapshot blocks the later snapshot', async () => {
    await appendTombstone(db, { entityKind: 'order', entityId: 'internal:516483487', internalId: 516483487 });
    await projectBatch(db);
    await appendSnapshot(db, { entityKind: 'order', entityId: 'K8XTQ', payload: order(1000) });
    await projectBatch(db);
    expect(await rows('orders')).toEqual([
      expect.objectContaining({ order_id: 'internal:516483487', internal_id: 516483487, deleted_at: expect.any(String) }),
    ]);
    expect(await rows('order_items')).toEqual([]);
  });

  test('app storage is replaced as a whole by the later snapshot', async () => {
    await appendSnapshot(db, {
      entityKind: 'app_storage',
      entityId: String(testStoreId),
      payload: [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ],
    });
    await projectBatch(db);
    await appendSnapshot(db, {
      entityKind: 'app_storage',
      entityId: String(testStoreId),
      payload: [
        { key: 'b', value: { n: 3 } },
        { key: 'c', value: null },
      ],
    });
    await projectBatch(db);
    expect((await rows('app_storage')).map((r) => [r['key'], r['value']])).toEqual([
      ['b', '{"n": 3}'],
      ['c', null],
    ]);
  });

  test('invoices of an order are replaced, and a tombstone marks them deleted', async () => {
    const invoice = { id: '1', type: 'SALE', created: '2024-09-04 07:22:09 +0000', link: 'https://x/1' };
    await appendSnapshot(db, { entityKind: 'invoice', entityId: 'K8XTQ', payload: { invoices: [invoice] } });
    await appendSnapshot(db, {
      entityKind: 'invoice',
      entityId: 'K8XTQ',
      payload: { invoices: [invoice, { ...invoice, id: '2', type: 'FULL_CANCEL' }] },
    });
    await projectBatch(db, { limit: 1 });
    await projectBatch(db, { limit: 1 });
    expect((await rows('invoices')).map((r) => [r['invoice_id'], r['type']])).toEqual([
      ['1', 'SALE'],
      ['2', 'FULL_CANCEL'],
    ]);
    await appendTombstone(db, { entityKind: 'invoice', entityId: 'K8XTQ' });
    await projectBatch(db);
    expect((await rows('invoices')).map((r) => r['deleted_at'])).toEqual([expect.any(String), expect.any(String)]);
  });

  test('stores: install, uninstall, reinstall', async () => {
    const at = (iso: string) => new Date(iso);
    await appendSnapshot(db, {
      entityKind: 'store',
      entityId: String(testStoreId),
      payload: { status: 'active', at: '2024-01-01T00:00:00.000Z' },
      fetchedAt: at('2024-01-01T00:00:01Z'),
    });
    await projectBatch(db);
    expect(await one('stores', 'true')).toMatchObject({ status: 'active', installed_at: ts('2024-01-01T00:00:00Z'), uninstalled_at: null });

    await appendSnapshot(db, {
      entityKind: 'store',
      entityId: String(testStoreId),
      payload: { status: 'uninstalled', at: '2024-02-01T00:00:00.000Z' },
    });
    await projectBatch(db);
    expect(await one('stores', 'true')).toMatchObject({
      status: 'uninstalled',
      installed_at: ts('2024-01-01T00:00:00Z'),
      uninstalled_at: ts('2024-02-01T00:00:00Z'),
    });

    await appendRecords(db, [
      { entityKind: 'store', entityId: String(testStoreId), payload: { status: 'active', at: '2024-03-01T00:00:00.000Z' } },
      { entityKind: 'store', entityId: String(testStoreId), payload: { status: 'uninstalled', at: '2024-04-01T00:00:00.000Z' } },
      { entityKind: 'store', entityId: String(testStoreId), payload: { status: 'active', at: '2024-05-01T00:00:00.000Z' } },
    ]);
    await projectBatch(db);
    expect(await one('stores', 'true')).toMatchObject({
      status: 'active',
      installed_at: ts('2024-05-01T00:00:00Z'),
      uninstalled_at: ts('2024-04-01T00:00:00Z'),
    });
  });

  test('stores: an uninstall delivered after a later reinstall leaves the store active', async () => {
    await appendSnapshot(db, {
      entityKind: 'store',
      entityId: String(testStoreId),
      payload: { status: 'active', at: '2024-03-01T00:00:10.000Z' },
    });
    await projectBatch(db);
    // Ecwid redelivers the earlier uninstall afterwards (across batches)…
    await appendSnapshot(db, {
      entityKind: 'store',
      entityId: String(testStoreId),
      payload: { status: 'uninstalled', at: '2024-03-01T00:00:00.000Z' },
    });
    await projectBatch(db);
    expect(await one('stores', 'true')).toMatchObject({ status: 'active', uninstalled_at: ts('2024-03-01T00:00:00Z') });
    // …or in the same batch as the reinstall.
    await appendRecords(
      db,
      [
        { entityKind: 'store', entityId: '42', payload: { status: 'active', at: '2024-03-01T00:00:10.000Z' } },
        { entityKind: 'store', entityId: '42', payload: { status: 'uninstalled', at: '2024-03-01T00:00:00.000Z' } },
      ].map((r) => ({ ...r, storeId: 42 })),
    );
    await projectBatch(db);
    expect(await one('stores', 'store_id = 42')).toMatchObject({ status: 'active' });
  });
});

describe('checkpoint', () => {
  test('re-projecting the log from 0 changes no row', async () => {
    await appendRecords(db, logOfEverything());
    await projectAll({ limit: 7 });
    const before = await snapshotTables(db);

    await db.execute(sql`update consumer_checkpoints set position = 0 where name = 'projection'`);
    await projectAll({ limit: 5 });
    expect(await snapshotTables(db)).toEqual(before);
  });

  test("a batch boundary inside one entity's records gives the same rows as one batch", async () => {
    await appendRecords(db, logOfEverything());
    for (let i = 0; i < 1000; i++) if ((await projectNextBatch(db, { limit: 1 })).caughtUp) break;
    const oneByOne = await snapshotTables(db);

    await db.execute(sql`update consumer_checkpoints set position = 0 where name = 'projection'`);
    await truncateEntities(db);
    await projectAll({ limit: 10_000 });
    expect(await snapshotTables(db)).toEqual(oneByOne);
    expect(oneByOne['orders']!.length).toBeGreaterThan(0);
  });

  test("the live projector's statements, plans kept and each batch's reading bounded by its limit, give the same rows at every limit", async () => {
    await appendRecords(db, logOfEverything());
    await projectAll({ limit: 10_000 });
    const unbounded = await snapshotTables(db);
    expect(unbounded['products']!.length).toBeGreaterThan(1);

    // Records of one kind follow each other in this log (16 orders, 8 products): a bound that
    // read fewer than a batch can hold would lose some of them.
    for (const limit of [1, 2, 3, 7]) {
      await db.execute(sql`update consumer_checkpoints set position = 0 where name = 'projection'`);
      await truncateEntities(db);
      for (let i = 0; i < 1000; i++) if ((await projectNextBatch(db, { limit, reusePlans: true })).caughtUp) break;
      expect(await snapshotTables(db), `limit ${limit}`).toEqual(unbounded);
    }
  });

  test.skipIf(
    postgresSkipReason('the kept plans of the live projector', 'needs postgres.js, which prepares statements; PGlite prepares nothing'),
  )('the live projector plans each statement once on its connection and keeps the plan', async () => {
    await appendRecords(db, logOfEverything());
    // One connection, so the batches and the look at its prepared statements share a session.
    const client = postgres(database.url!, { max: 1, onnotice: () => {} });
    const one = databaseOver(client);
    try {
      let batches = 0;
      while (!(await projectNextBatch(one, { limit: 2, reusePlans: true })).caughtUp) batches++;
      expect(batches).toBeGreaterThan(10);
      const plans = await client<{ generic: number; custom: number }[]>`
          select generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements
          where statement like '%with cand as%'`;
      // With plan_cache_mode = auto, Postgres planned these anew at every call (custom plans):
      // the generic plan's guess of the range's rows made it look dearer.
      expect(plans.length).toBeGreaterThan(0);
      expect(plans.reduce((n, p) => n + p.custom, 0)).toBe(0);
      expect(Math.max(...plans.map((p) => p.generic))).toBeGreaterThan(1);
    } finally {
      await client.end();
    }
  });

  test("an order's currency is looked up through the index of profile snapshots, not by walking the store's records", async () => {
    const profile = { ...simStore.profile, formatsAndUnits: { ...simStore.profile.formatsAndUnits, currency: 'EUR' } };
    await appendSnapshot(db, { entityKind: 'store_profile', entityId: String(testStoreId), payload: profile });
    // Enough records after the profile that walking them back would cost more than the index.
    await db.execute(sql`insert into event_log (kind, store_id, event_id, event_type, is_known_type, payload)
      select 'webhook', ${testStoreId}, 'w' || g, 'order.updated', true, '{}' from generate_series(1, 5000) g`);
    const position = await appendSnapshot(db, { entityKind: 'order', entityId: 'K8XTQ', payload: fixture('order') });
    await db.execute(sql`analyze event_log`);

    const text = snapshotStatement(projectionSpecs.order, 'public', { withTombstones: false, trustObjects: true, bound: 1000 });
    const [plan] = await execRows<{ plan: unknown }>(
      db,
      sql`explain (format json) ${bindStatement(text, { from: position - 1, to: position })}`,
    );
    const used = JSON.stringify(plan).match(/"Index Name":\s*"event_log_store_profiles_idx"/g) ?? [];
    // Currency and time zone, each the latest profile before the order's first snapshot.
    expect(used.length).toBeGreaterThanOrEqual(2);

    expect(await projectBatch(db)).toBe(2);
    expect(await one('orders', `order_id = 'K8XTQ'`)).toMatchObject({ currency: 'EUR' });
  });

  test('a document that is not an object fails the trusting statements, and the batch runs again with the checks', async () => {
    await appendSnapshot(db, { entityKind: 'order', entityId: 'NOTOBJ', payload: 'not an order' });
    await appendSnapshot(db, { entityKind: 'order', entityId: 'K8XTQ', payload: fixture('order') });

    const outcome = await projectNextBatch(db);
    expect(outcome).toMatchObject({ records: 2, conflict: false, caughtUp: true });
    expect(await checkpoint()).toBe(outcome.to);
    expect(await one('orders', `order_id = 'K8XTQ'`)).toMatchObject({ email: fixture('order').email });
    // Its key is known, its fields are not.
    expect(await one('orders', `order_id = 'NOTOBJ'`)).toMatchObject({ email: null });
    // The connection is clean after the failed, pipelined commit: the next batch works.
    await appendSnapshot(db, { entityKind: 'category', entityId: '1', payload: fixture('category') });
    expect(await projectNextBatch(db)).toMatchObject({ records: 1, caughtUp: true });
  });

  test('caught up, a batch writes nothing', async () => {
    await appendSnapshot(db, { entityKind: 'category', entityId: '1', payload: fixture('category') });
    await projectAll();
    const version = async () =>
      (await execRows<{ v: string }>(db, sql`select xmin::text as v from consumer_checkpoints where name = 'projection'`))[0]?.v;
    const before = await version();
    for (let i = 0; i < 3; i++) expect(await projectNextBatch(db)).toMatchObject({ records: 0, caughtUp: true, conflict: false });
    expect(await version()).toBe(before);
  });

  test('a batch bounded by `until` never moves the checkpoint past the head', async () => {
    expect(await projectNextBatch(db, { until: 100 })).toMatchObject({ records: 0, to: 0, caughtUp: true });
    expect(await checkpoint()).toBe(0);
    const position = await appendSnapshot(db, { entityKind: 'category', entityId: '1', payload: fixture('category') });
    expect(await projectNextBatch(db, { until: position + 100 })).toMatchObject({ records: 1, to: position });
    expect(await checkpoint()).toBe(position);
  });

  test('moves past trailing records of other kinds and stops at the head', async () => {
    await appendSnapshot(db, { entityKind: 'category', entityId: '1', payload: fixture('category') });
    await execRows(
      db,
      sql`insert into event_log (kind, store_id, event_id, event_type, is_known_type, payload) values ('webhook', 1, 'w1', 'order.updated', true, '{}')`,
    );
    const outcome = await projectNextBatch(db);
    const [head] = await execRows<{ head: string | number }>(db, sql`select max(position) as head from event_log`);
    expect(outcome).toMatchObject({ records: 1, caughtUp: true, to: Number(head!.head) });
    expect(await projectNextBatch(db)).toMatchObject({ records: 0, caughtUp: true });
  });

  test('a transaction that fails after applying part of a batch moves neither rows nor the checkpoint', async () => {
    await appendRecords(db, logOfEverything());
    await expect(
      db.transaction(async (tx) => {
        const outcome = await projectBatchInTransaction(tx, { limit: 10_000 });
        expect(outcome.records).toBeGreaterThan(0);
        throw new Error('killed mid-batch');
      }),
    ).rejects.toThrow('killed mid-batch');
    expect(await checkpoint()).toBe(0);
    expect(await rows('orders')).toEqual([]);
    expect(await projectAll()).toBeGreaterThan(0);
    expect((await rows('orders')).length).toBeGreaterThan(0);
  });

  test.skipIf(concurrencySkipReason('concurrent projectors'))(
    'two projectors on separate connections never apply a record twice',
    async () => {
      const records = logOfEverything();
      await appendRecords(db, records);
      const other = postgres(database.url!, { max: 2, onnotice: () => {} });
      // Each applied record is counted by the batch that applied it; together exactly once.
      const otherDb = databaseOver(other);
      try {
        // Connected before the race starts: opening a connection takes longer than projecting
        // this whole log on a busy machine, and the first projector would then take every batch.
        await Promise.all([other`select 1`, other`select 1`]);
        const run = async (target: Db) => {
          let applied = 0;
          let idle = 0;
          while (idle < 3) {
            const outcome = await projectNextBatch(target, { limit: 3 });
            applied += outcome.records;
            idle = outcome.caughtUp && !outcome.conflict ? idle + 1 : 0;
            // Interleave instead of one taking all: the one that just applied a batch waits a
            // little, the one that lost the race goes again at once (on a busy machine the one a
            // step behind would otherwise lose every race).
            await new Promise((resolve) => setTimeout(resolve, outcome.records > 0 ? 10 : 0));
          }
          return applied;
        };
        const [a, b] = await Promise.all([run(db), run(otherDb)]);
        expect(a + b).toBe(records.length);
        expect(a).toBeGreaterThan(0);
        expect(b).toBeGreaterThan(0);
      } finally {
        await other.end();
      }
    },
  );
});

async function truncateEntities(target: Db): Promise<void> {
  await target.execute(sql.raw(`truncate ${entityTables.join(', ')}`));
}
