import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { EcwidValidationError } from '../errors.ts';
import { loadFixture } from '../testing/fixtures.ts';
import { parseBody } from '../validate.ts';
import {
  ecwidApplicationSchema,
  ecwidBatchStatusSchema,
  ecwidBatchTicketSchema,
  ecwidCategorySchema,
  ecwidCustomerSchema,
  ecwidDeletedItemSchema,
  ecwidDiscountCouponSchema,
  ecwidLatestStatsSchema,
  ecwidOrderSchema,
  ecwidProductSchema,
  ecwidStorageSchema,
  searchPageSchema,
} from './index.ts';

const documented: [file: string, schema: z.ZodType][] = [
  ['order.json', ecwidOrderSchema],
  ['orders-search.json', searchPageSchema(ecwidOrderSchema)],
  ['product.json', ecwidProductSchema],
  ['category.json', ecwidCategorySchema],
  ['customer.json', ecwidCustomerSchema],
  ['discount-coupon.json', ecwidDiscountCouponSchema],
  ['application-status-legacy.json', ecwidApplicationSchema],
  ['app-storage-all-legacy.json', ecwidStorageSchema],
  ['latest-stats-legacy.json', ecwidLatestStatsSchema],
  ['deleted-orders-legacy.json', searchPageSchema(ecwidDeletedItemSchema)],
  ['batch-create-response.json', ecwidBatchTicketSchema],
  ['batch-status-response.json', ecwidBatchStatusSchema],
];

const request = { method: 'GET', path: '/test' };

describe('response schemas', () => {
  it.each(documented)('parses %s and keeps it whole', (file, schema) => {
    const body = loadFixture(file);
    expect(parseBody(schema, body, request)).toStrictEqual(loadFixture(file));
  });

  it.each(documented)('keeps a field Ecwid adds later in %s', (file, schema) => {
    const body = loadFixture(file);
    const withExtra = Array.isArray(body)
      ? body.map((entry: object) => ({ ...entry, fieldFrom2030: { nested: [1, 'two'] } }))
      : { ...(body as object), fieldFrom2030: { nested: [1, 'two'] } };
    const parsed = parseBody(schema, withExtra, request) as unknown;
    expect(parsed).toStrictEqual(withExtra);
    expect(JSON.parse(JSON.stringify(parsed))).toStrictEqual(withExtra);
  });

  it('keeps unknown fields inside nested items', () => {
    const order = loadFixture('order.json') as { items: Record<string, unknown>[] };
    order.items[0]!['brandNewFlag'] = true;
    const parsed = ecwidOrderSchema.parse(order);
    expect(parsed.items[0]).toMatchObject({ brandNewFlag: true, sku: '123123' });
  });

  it('types the fields the mirror reads', () => {
    const order = ecwidOrderSchema.parse(loadFixture('order.json'));
    expect(order).toMatchObject({
      id: 'K8XTQ',
      internalId: 516483487,
      updateTimestamp: 1725434784,
    });
    expect(order.items[0]).toMatchObject({ productId: 692730761, price: 10, quantity: 1 });
    const product = ecwidProductSchema.parse(loadFixture('product.json'));
    expect(product).toMatchObject({ id: 692730761, enabled: true, categoryIds: [] });
  });

  it('names the offending field path', () => {
    const page = loadFixture('orders-search.json') as {
      items: { items: Record<string, unknown>[] }[];
    };
    page.items[0]!.items[0]!['price'] = '500';
    const parse = () => parseBody(searchPageSchema(ecwidOrderSchema), page, request);
    expect(parse).toThrow(EcwidValidationError);
    expect(parse).toThrow(/items\[0\]\.items\[0\]\.price/);
    try {
      parse();
    } catch (error) {
      expect((error as EcwidValidationError).field).toBe('items[0].items[0].price');
    }
  });

  it('rejects an order without the timestamps the mirror orders by', () => {
    const order = loadFixture('order.json') as Record<string, unknown>;
    delete order['updateTimestamp'];
    expect(() => parseBody(ecwidOrderSchema, order, request)).toThrow(/updateTimestamp/);
  });
});
