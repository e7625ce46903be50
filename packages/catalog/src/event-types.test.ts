import { expect, test } from 'vitest';
import { eventCatalog, lookupEventType } from './event-types.ts';

// The documented list (docs/ecwid.md §1.3), spelled as the docs spell it.
const documented = [
  'profile.updated',
  'profile.subscriptionStatusChanged',
  'order.created',
  'order.updated',
  'order.deleted',
  'unfinished_order.created',
  'unfinished_order.updated',
  'unfinished_order.deleted',
  'product.created',
  'product.updated',
  'product.deleted',
  'category.created',
  'category.updated',
  'category.deleted',
  'customer.created',
  'customer.updated',
  'customer.deleted',
  'customer_group.created',
  'customer_group.updated',
  'customer_group.deleted',
  'discount_coupon.created',
  'discount_coupon.updated',
  'discount_coupon.deleted',
  'promotion.created',
  'promotion.updated',
  'promotion.deleted',
  'product_class.created',
  'product_class.updated',
  'product_class.deleted',
  'review.created',
  'review.updated',
  'review.deleted',
  'invoice.created',
  'invoice.deleted',
  'application.installed',
  'application.uninstalled',
  'application.subscriptionStatusChanged',
  'application.storageChanged',
  'customer.personalDataRemovalRequest',
  'customer.personalDataExportRequest',
  'profile.personalDataRemovalRequest',
  'profile.personalDataExportRequest',
];

test('holds the 42 documented event types plus the 3 size_chart types of Ecwid’s Java client', () => {
  expect(documented).toHaveLength(42);
  expect([...eventCatalog.keys()].sort()).toEqual([...documented, 'size_chart.created', 'size_chart.updated', 'size_chart.deleted'].sort());
  expect(eventCatalog.size).toBe(45);
});

test('re-fetches orders by data.orderId and carts by data.cartId, others by entityId (docs/ecwid.md §1.5)', () => {
  expect(lookupEventType('order.updated')).toMatchObject({ entity: 'order', refetchBy: 'data.orderId', scope: 'read_orders' });
  expect(lookupEventType('unfinished_order.created')).toMatchObject({ entity: 'abandoned_cart', refetchBy: 'data.cartId' });
  expect(lookupEventType('product.deleted')).toMatchObject({
    entity: 'product',
    action: 'deleted',
    refetchBy: 'entityId',
    scope: 'read_catalog',
  });
  expect(lookupEventType('product_class.updated')).toMatchObject({ entity: 'product_type' });
  expect(lookupEventType('invoice.created')).toMatchObject({ entity: 'invoice', refetchBy: 'data.orderId' });
  expect(lookupEventType('application.uninstalled')).toMatchObject({ entity: 'store', action: 'uninstalled', refetchBy: 'none' });
});

test('resolves the snake_case spellings of Ecwid’s Java client to the same entries', () => {
  const pairs = [
    ['application.subscription_status_changed', 'application.subscriptionStatusChanged'],
    ['application.storage_changed', 'application.storageChanged'],
    ['profile.subscription_status_changed', 'profile.subscriptionStatusChanged'],
    ['customer.personal_data_removal_request', 'customer.personalDataRemovalRequest'],
    ['customer.personal_data_export_request', 'customer.personalDataExportRequest'],
    ['profile.personal_data_removal_request', 'profile.personalDataRemovalRequest'],
    ['profile.personal_data_export_request', 'profile.personalDataExportRequest'],
  ] as const;
  for (const [alias, canonical] of pairs) {
    expect(lookupEventType(alias)).toBe(eventCatalog.get(canonical));
  }
});

test('knows nothing of other types: they are logged as unknown, never guessed', () => {
  for (const unknown of ['gift_card.created', 'order.Updated', 'ORDER.UPDATED', 'order', '', 'order.updated ']) {
    expect(lookupEventType(unknown)).toBeUndefined();
  }
});

test('every entry is internally consistent', () => {
  for (const [key, info] of eventCatalog) {
    expect(info.eventType).toBe(key);
    expect(key.split('.')).toHaveLength(2);
    if (info.action === 'deleted') expect(key.endsWith('.deleted')).toBe(true);
  }
});
