/**
 * Every webhook event type the mirror understands, from ecwid-api.md §1.3–§1.5.
 *
 * Terminology:
 * - entity kind: the table family an event concerns (`order`, `product`, …).
 * - refetch: which id re-fetches the entity's current state over REST (§1.5). Webhook bodies
 *   are thin and unsigned (§2), so the mirror never trusts `data` as state: it re-fetches.
 * - action: what the event says happened. `deleted` makes the projector write a tombstone.
 */

export type EntityKind =
  | 'store_profile'
  | 'order'
  | 'abandoned_cart'
  | 'product'
  | 'category'
  | 'customer'
  | 'customer_group'
  | 'discount_coupon'
  | 'promotion'
  | 'product_type'
  | 'review'
  | 'invoice'
  | 'app_subscription'
  | 'app_storage'
  | 'store'
  | 'personal_data_request'
  | 'size_chart';

export type EventAction =
  | 'created'
  | 'updated'
  | 'deleted'
  | 'installed'
  | 'uninstalled'
  | 'subscription_changed'
  | 'storage_changed'
  | 'removal_requested'
  | 'export_requested';

/**
 * How to find the entity's current state:
 * - `entityId`: GET /{collection}/{entityId}
 * - `data.orderId`: the public order id; `entityId` is the internal one (§1.5)
 * - `data.cartId`: abandoned carts are fetched by cart UUID (§1.5)
 * - `store`: a store-level document (`/profile`, `/application`, `/storage`)
 * - `none`: nothing to fetch (the event itself is the fact, or no REST endpoint is known)
 */
export type RefetchBy = 'entityId' | 'data.orderId' | 'data.cartId' | 'store' | 'none';

export type Scope =
  | 'read_store_profile'
  | 'read_orders'
  | 'read_catalog'
  | 'read_customers'
  | 'read_discount_coupons'
  | 'read_promotion'
  | 'read_reviews'
  | 'read_invoices';

/** How sure ecwid-api.md is that Ecwid sends this event type as spelled. */
export type Confidence = 'confirmed' | 'legacy' | 'secondary' | 'unconfirmed';

export type EventTypeInfo = {
  eventType: string;
  entity: EntityKind;
  action: EventAction;
  scope: Scope;
  refetchBy: RefetchBy;
  confidence: Confidence;
  /** Other spellings seen in Ecwid's own clients (snake_case, §1.3 "event-name drift"). */
  aliases: readonly string[];
};

type Row = [
  eventType: string,
  entity: EntityKind,
  action: EventAction,
  scope: Scope,
  refetchBy: RefetchBy,
  confidence: Confidence,
  aliases?: readonly string[],
];

const crud = (
  prefix: string,
  entity: EntityKind,
  scope: Scope,
  refetchBy: RefetchBy,
  confidence: Confidence,
): Row[] =>
  (['created', 'updated', 'deleted'] as const).map((action) => [
    `${prefix}.${action}`,
    entity,
    action,
    scope,
    refetchBy,
    confidence,
  ]);

const rows: Row[] = [
  ['profile.updated', 'store_profile', 'updated', 'read_store_profile', 'store', 'confirmed'],
  ['profile.subscriptionStatusChanged', 'store_profile', 'subscription_changed', 'read_store_profile', 'store', 'confirmed', ['profile.subscription_status_changed']],
  ...crud('order', 'order', 'read_orders', 'data.orderId', 'confirmed'),
  ...crud('unfinished_order', 'abandoned_cart', 'read_orders', 'data.cartId', 'confirmed'),
  ...crud('product', 'product', 'read_catalog', 'entityId', 'confirmed'),
  ...crud('category', 'category', 'read_catalog', 'entityId', 'confirmed'),
  ...crud('customer', 'customer', 'read_customers', 'entityId', 'confirmed'),
  ...crud('customer_group', 'customer_group', 'read_customers', 'entityId', 'confirmed'),
  ...crud('discount_coupon', 'discount_coupon', 'read_discount_coupons', 'entityId', 'confirmed'),
  ...crud('promotion', 'promotion', 'read_promotion', 'entityId', 'confirmed'),
  ...crud('product_class', 'product_type', 'read_catalog', 'entityId', 'confirmed'),
  ...crud('review', 'review', 'read_reviews', 'entityId', 'confirmed'),
  // No invoice.updated exists (§1.3). Invoices are listed per order: re-fetch by data.orderId.
  ['invoice.created', 'invoice', 'created', 'read_invoices', 'data.orderId', 'confirmed'],
  ['invoice.deleted', 'invoice', 'deleted', 'read_invoices', 'data.orderId', 'confirmed'],
  ['application.installed', 'store', 'installed', 'read_store_profile', 'store', 'confirmed'],
  ['application.uninstalled', 'store', 'uninstalled', 'read_store_profile', 'none', 'confirmed'],
  ['application.subscriptionStatusChanged', 'app_subscription', 'subscription_changed', 'read_store_profile', 'store', 'confirmed', ['application.subscription_status_changed']],
  ['application.storageChanged', 'app_storage', 'storage_changed', 'read_store_profile', 'store', 'confirmed', ['application.storage_changed']],
  ['customer.personalDataRemovalRequest', 'personal_data_request', 'removal_requested', 'read_store_profile', 'none', 'confirmed', ['customer.personal_data_removal_request']],
  ['customer.personalDataExportRequest', 'personal_data_request', 'export_requested', 'read_store_profile', 'none', 'confirmed', ['customer.personal_data_export_request']],
  ['profile.personalDataRemovalRequest', 'personal_data_request', 'removal_requested', 'read_store_profile', 'none', 'confirmed', ['profile.personal_data_removal_request']],
  ['profile.personalDataExportRequest', 'personal_data_request', 'export_requested', 'read_store_profile', 'none', 'confirmed', ['profile.personal_data_export_request']],
  // Seen only in Ecwid's Java client (2025); no REST endpoint for size charts is documented,
  // so these are logged and recognised but nothing is fetched.
  ...crud('size_chart', 'size_chart', 'read_catalog', 'none', 'unconfirmed'),
];

/** The 45 event types, keyed by their documented spelling. */
export const eventCatalog: ReadonlyMap<string, EventTypeInfo> = new Map(
  rows.map(([eventType, entity, action, scope, refetchBy, confidence, aliases = []]) => [
    eventType,
    { eventType, entity, action, scope, refetchBy, confidence, aliases },
  ]),
);

const byAnySpelling: ReadonlyMap<string, EventTypeInfo> = new Map(
  [...eventCatalog.values()].flatMap((info) => [
    [info.eventType, info] as const,
    ...info.aliases.map((alias) => [alias, info] as const),
  ]),
);

/**
 * Looks an event type up by its documented spelling or a known alias. `undefined` means
 * unknown: such events are still logged, never rejected (Ecwid adds types without notice).
 */
export function lookupEventType(eventType: string): EventTypeInfo | undefined {
  return byAnySpelling.get(eventType);
}
