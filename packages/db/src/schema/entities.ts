import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, numeric, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { int8, projectedColumns, tz } from './columns.ts';

/*
 * The entity tables: the public contract for SQL users. Every row is keyed by store_id first,
 * keeps Ecwid's full document in `doc`, and is soft-deleted (`deleted_at`) by a tombstone.
 * Money is numeric, times timestamptz, Ecwid's numeric ids bigint. Rows are written only by the
 * projection stage, from snapshot and tombstone records in event_log.
 */

export const ordersTable = pgTable(
  'orders',
  {
    storeId: int8('store_id').notNull(),
    /** The public id, e.g. `K8XTQ` (may carry a prefix or suffix). */
    orderId: text('order_id').notNull(),
    internalId: int8('internal_id'),
    orderNumber: int8('order_number'),
    email: text('email'),
    customerId: int8('customer_id'),
    paymentStatus: text('payment_status'),
    fulfillmentStatus: text('fulfillment_status'),
    total: numeric('total'),
    subtotal: numeric('subtotal'),
    tax: numeric('tax'),
    refundedAmount: numeric('refunded_amount'),
    couponCode: text('coupon_code'),
    /** The coupon's name as applied (`discountCoupon.name`): kept when the coupon is deleted. */
    couponName: text('coupon_name'),
    /**
     * The store's currency (profile `formatsAndUnits.currency`) when the order was first
     * projected: Ecwid's order has no currency of its own (docs/reporting.md, decision 0009).
     */
    currency: text('currency'),
    /** The store's time zone (profile `formatsAndUnits.timezone`), taken with the currency. */
    timezone: text('timezone'),
    hidden: boolean('hidden'),
    /** `pricesIncludeTax`: item prices, shipping and discounts already contain `tax`. */
    pricesIncludeTax: boolean('prices_include_tax'),
    couponDiscount: numeric('coupon_discount'),
    volumeDiscount: numeric('volume_discount'),
    membershipDiscount: numeric('membership_discount'),
    /** The sum of `customDiscount` (discounts applied by apps). */
    customDiscount: numeric('custom_discount'),
    /** Ecwid's `discount`: every discount but the coupon's. */
    discount: numeric('discount'),
    giftCardRedemption: numeric('gift_card_redemption'),
    shippingMethod: text('shipping_method'),
    /** `shippingOption.shippingRate`, as charged. */
    shippingRate: numeric('shipping_rate'),
    /** Shipping without its tax (docs/reporting.md). */
    shippingWithoutTax: numeric('shipping_without_tax'),
    handlingFee: numeric('handling_fee'),
    handlingFeeWithoutTax: numeric('handling_fee_without_tax'),
    /** The sum of `customSurcharges[].total`. */
    surcharges: numeric('surcharges'),
    surchargesWithoutTax: numeric('surcharges_without_tax'),
    paymentMethod: text('payment_method'),
    billingCountry: text('billing_country'),
    billingRegion: text('billing_region'),
    shippingCountry: text('shipping_country'),
    shippingRegion: text('shipping_region'),
    createdAt: tz('created_at'),
    updatedAt: tz('updated_at'),
    ...projectedColumns(),
  },
  (t) => [
    primaryKey({ columns: [t.storeId, t.orderId] }),
    // Orders projected before any store profile was in the log: a profile fills them (0009).
    index('orders_currency_missing_idx')
      .on(t.storeId)
      .where(sql`${t.currency} is null`),
    index('orders_store_updated_idx').on(t.storeId, t.updatedAt),
    index('orders_store_created_idx').on(t.storeId, t.createdAt),
    index('orders_store_internal_idx').on(t.storeId, t.internalId),
    index('orders_store_customer_idx').on(t.storeId, t.customerId),
    index('orders_store_email_idx').on(t.storeId, t.email),
    // Personal-data requests find a subject's orders by email in any case (docs/personal-data.md).
    index('orders_store_lower_email_idx').on(t.storeId, sql`lower(${t.email})`),
    // The query API's `sort=total` walks this instead of sorting a store's orders per page.
    index('orders_store_total_idx').on(t.storeId, t.total),
    // Dashboards' lists: one status, newest first (the default sort, with its order_id tie-break),
    // read straight off the index instead of skipping the orders of every other status.
    index('orders_store_payment_created_idx').on(t.storeId, t.paymentStatus, t.createdAt, t.orderId),
    index('orders_store_fulfillment_created_idx').on(t.storeId, t.fulfillmentStatus, t.createdAt, t.orderId),
    // Reports by day (reporting.order_sales' `day`, the creation date in the store's time zone):
    // `where day >= …` reads that many days' orders instead of every order of the store. The
    // expression is the view's own, so the planner matches it (migration 0026, decision 0025).
    index('orders_store_sale_day_idx').on(t.storeId, sql`((${t.createdAt} AT TIME ZONE coalesce(${t.timezone}, 'UTC'))::date)`),
    // `hidden=true`: the few unfinished orders, without walking every other order of the store
    // (1M orders: 1.3 s a page without it; bench:api --filters).
    index('orders_store_hidden_created_idx')
      .on(t.storeId, t.createdAt, t.orderId)
      .where(sql`${t.hidden}`),
  ],
);

export const orderItemsTable = pgTable(
  'order_items',
  {
    storeId: int8('store_id').notNull(),
    orderId: text('order_id').notNull(),
    itemId: int8('item_id').notNull(),
    productId: int8('product_id'),
    sku: text('sku'),
    name: text('name'),
    quantity: integer('quantity'),
    price: numeric('price'),
    priceWithoutTax: numeric('price_without_tax'),
    tax: numeric('tax'),
    /** The variation sold (`combinationId`), null for the base product. */
    combinationId: int8('combination_id'),
    /** `selectedOptions` as Ecwid sends them. */
    options: jsonb('options').$type<unknown[]>(),
    ...projectedColumns(),
  },
  (t) => [primaryKey({ columns: [t.storeId, t.orderId, t.itemId] }), index('order_items_store_product_idx').on(t.storeId, t.productId)],
);

/**
 * An order's refunds (`refunds[]`), one row each, keyed by position in that list. An order
 * Ecwid marks refunded without listing the refund gets rows inferred from `refundedAmount` (or its
 * whole total when fully refunded): one per increase, dated by the first snapshot that showed it
 * (docs/reporting.md).
 */
export const orderRefundsTable = pgTable(
  'order_refunds',
  {
    storeId: int8('store_id').notNull(),
    orderId: text('order_id').notNull(),
    /** 1-based position in the order's `refunds` (inferred refunds: 1, 2, … in the order they showed). */
    refundIndex: int8('refund_index').notNull(),
    refundedAt: tz('refunded_at'),
    amount: numeric('amount'),
    reason: text('reason'),
    /** Ecwid's `source` (CP, API, External); `inferred` when not listed by Ecwid. */
    source: text('source'),
    ...projectedColumns(),
  },
  (t) => [
    primaryKey({ columns: [t.storeId, t.orderId, t.refundIndex] }),
    index('order_refunds_store_refunded_idx').on(t.storeId, t.refundedAt),
  ],
);

export const abandonedCartsTable = pgTable(
  'abandoned_carts',
  {
    storeId: int8('store_id').notNull(),
    cartId: text('cart_id').notNull(),
    email: text('email'),
    customerId: int8('customer_id'),
    total: numeric('total'),
    /** The store's, from its profile when the log first held the cart, as an order's (decision 0009). */
    currency: text('currency'),
    timezone: text('timezone'),
    recoveredOrderId: text('recovered_order_id'),
    hidden: boolean('hidden'),
    createdAt: tz('created_at'),
    updatedAt: tz('updated_at'),
    ...projectedColumns(),
  },
  (t) => [
    primaryKey({ columns: [t.storeId, t.cartId] }),
    index('abandoned_carts_store_updated_idx').on(t.storeId, t.updatedAt),
    index('abandoned_carts_store_created_idx').on(t.storeId, t.createdAt),
    index('abandoned_carts_store_customer_idx').on(t.storeId, t.customerId),
    index('abandoned_carts_store_lower_email_idx').on(t.storeId, sql`lower(${t.email})`),
    // Every sort a list offers leads an index (apps/api/src/list-indexes.int.test.ts).
    index('abandoned_carts_store_total_idx').on(t.storeId, t.total, t.cartId),
  ],
);

/** An abandoned cart's lines (`items[]`), replaced with the cart. */
export const abandonedCartItemsTable = pgTable(
  'abandoned_cart_items',
  {
    storeId: int8('store_id').notNull(),
    cartId: text('cart_id').notNull(),
    itemId: int8('item_id').notNull(),
    productId: int8('product_id'),
    combinationId: int8('combination_id'),
    sku: text('sku'),
    name: text('name'),
    quantity: integer('quantity'),
    price: numeric('price'),
    options: jsonb('options').$type<unknown[]>(),
    ...projectedColumns(),
  },
  (t) => [
    primaryKey({ columns: [t.storeId, t.cartId, t.itemId] }),
    index('abandoned_cart_items_store_product_idx').on(t.storeId, t.productId),
  ],
);

export const productsTable = pgTable(
  'products',
  {
    storeId: int8('store_id').notNull(),
    productId: int8('product_id').notNull(),
    sku: text('sku'),
    name: text('name'),
    price: numeric('price'),
    quantity: integer('quantity'),
    unlimited: boolean('unlimited'),
    inStock: boolean('in_stock'),
    enabled: boolean('enabled'),
    productTypeId: int8('product_type_id'),
    createdAt: tz('created_at'),
    updatedAt: tz('updated_at'),
    ...projectedColumns(),
  },
  (t) => [
    primaryKey({ columns: [t.storeId, t.productId] }),
    index('products_store_updated_idx').on(t.storeId, t.updatedAt),
    index('products_store_sku_idx').on(t.storeId, t.sku),
    // The list's other sorts, each with its product_id tie-break, so a page is read off the
    // index from its cursor instead of sorting the store's products (100k products: 95–116 ms a
    // page without them; bench:api --filters). Every sort a list offers leads an index
    // (apps/api/src/list-indexes.int.test.ts).
    index('products_store_created_idx').on(t.storeId, t.createdAt, t.productId),
    index('products_store_price_idx').on(t.storeId, t.price, t.productId),
    index('products_store_name_idx').on(t.storeId, t.name, t.productId),
  ],
);

export const productVariationsTable = pgTable(
  'product_variations',
  {
    storeId: int8('store_id').notNull(),
    productId: int8('product_id').notNull(),
    variationId: int8('variation_id').notNull(),
    sku: text('sku'),
    price: numeric('price'),
    quantity: integer('quantity'),
    ...projectedColumns(),
  },
  (t) => [primaryKey({ columns: [t.storeId, t.productId, t.variationId] })],
);

export const productCategoriesTable = pgTable(
  'product_categories',
  {
    storeId: int8('store_id').notNull(),
    productId: int8('product_id').notNull(),
    categoryId: int8('category_id').notNull(),
    ...projectedColumns(),
  },
  (t) => [
    primaryKey({ columns: [t.storeId, t.productId, t.categoryId] }),
    index('product_categories_store_category_idx').on(t.storeId, t.categoryId),
  ],
);

export const categoriesTable = pgTable(
  'categories',
  {
    storeId: int8('store_id').notNull(),
    categoryId: int8('category_id').notNull(),
    parentId: int8('parent_id'),
    name: text('name'),
    enabled: boolean('enabled'),
    ...projectedColumns(),
  },
  (t) => [
    primaryKey({ columns: [t.storeId, t.categoryId] }),
    // Every sort a list offers leads an index (apps/api/src/list-indexes.int.test.ts).
    index('categories_store_name_idx').on(t.storeId, t.name, t.categoryId),
  ],
);

export const productTypesTable = pgTable(
  'product_types',
  {
    storeId: int8('store_id').notNull(),
    productTypeId: int8('product_type_id').notNull(),
    name: text('name'),
    ...projectedColumns(),
  },
  (t) => [
    primaryKey({ columns: [t.storeId, t.productTypeId] }),
    // Every sort a list offers leads an index (apps/api/src/list-indexes.int.test.ts).
    index('product_types_store_name_idx').on(t.storeId, t.name, t.productTypeId),
  ],
);

export const customersTable = pgTable(
  'customers',
  {
    storeId: int8('store_id').notNull(),
    customerId: int8('customer_id').notNull(),
    email: text('email'),
    name: text('name'),
    customerGroupId: int8('customer_group_id'),
    createdAt: tz('created_at'),
    updatedAt: tz('updated_at'),
    ...projectedColumns(),
  },
  (t) => [
    primaryKey({ columns: [t.storeId, t.customerId] }),
    index('customers_store_email_idx').on(t.storeId, t.email),
    index('customers_store_lower_email_idx').on(t.storeId, sql`lower(${t.email})`),
    index('customers_store_updated_idx').on(t.storeId, t.updatedAt),
    index('customers_store_created_idx').on(t.storeId, t.createdAt),
  ],
);

export const customerGroupsTable = pgTable(
  'customer_groups',
  {
    storeId: int8('store_id').notNull(),
    customerGroupId: int8('customer_group_id').notNull(),
    name: text('name'),
    ...projectedColumns(),
  },
  (t) => [
    primaryKey({ columns: [t.storeId, t.customerGroupId] }),
    // Every sort a list offers leads an index (apps/api/src/list-indexes.int.test.ts).
    index('customer_groups_store_name_idx').on(t.storeId, t.name, t.customerGroupId),
  ],
);

export const discountCouponsTable = pgTable(
  'discount_coupons',
  {
    storeId: int8('store_id').notNull(),
    couponId: int8('coupon_id').notNull(),
    code: text('code'),
    name: text('name'),
    discountType: text('discount_type'),
    discount: numeric('discount'),
    status: text('status'),
    orderCount: integer('order_count'),
    createdAt: tz('created_at'),
    updatedAt: tz('updated_at'),
    ...projectedColumns(),
  },
  (t) => [
    primaryKey({ columns: [t.storeId, t.couponId] }),
    index('discount_coupons_store_code_idx').on(t.storeId, t.code),
    // Every sort a list offers leads an index (apps/api/src/list-indexes.int.test.ts).
    index('discount_coupons_store_created_idx').on(t.storeId, t.createdAt, t.couponId),
    index('discount_coupons_store_updated_idx').on(t.storeId, t.updatedAt, t.couponId),
  ],
);

export const promotionsTable = pgTable(
  'promotions',
  {
    storeId: int8('store_id').notNull(),
    promotionId: int8('promotion_id').notNull(),
    name: text('name'),
    enabled: boolean('enabled'),
    discountType: text('discount_type'),
    amount: numeric('amount'),
    ...projectedColumns(),
  },
  (t) => [
    primaryKey({ columns: [t.storeId, t.promotionId] }),
    // Every sort a list offers leads an index (apps/api/src/list-indexes.int.test.ts).
    index('promotions_store_name_idx').on(t.storeId, t.name, t.promotionId),
  ],
);

export const reviewsTable = pgTable(
  'reviews',
  {
    storeId: int8('store_id').notNull(),
    reviewId: int8('review_id').notNull(),
    productId: int8('product_id'),
    /** The public order id, as reviews carry it (e.g. `2D31G`). */
    orderId: text('order_id'),
    customerId: int8('customer_id'),
    rating: integer('rating'),
    status: text('status'),
    createdAt: tz('created_at'),
    updatedAt: tz('updated_at'),
    ...projectedColumns(),
  },
  (t) => [
    primaryKey({ columns: [t.storeId, t.reviewId] }),
    index('reviews_store_product_idx').on(t.storeId, t.productId),
    index('reviews_store_created_idx').on(t.storeId, t.createdAt),
    index('reviews_store_customer_idx').on(t.storeId, t.customerId),
    // Every sort a list offers leads an index (apps/api/src/list-indexes.int.test.ts).
    index('reviews_store_updated_idx').on(t.storeId, t.updatedAt, t.reviewId),
    index('reviews_store_rating_idx').on(t.storeId, t.rating, t.reviewId),
    // Reviews name their author only inside the document.
    index('reviews_store_reviewer_email_idx').on(t.storeId, sql`lower(${t.doc} -> 'reviewerInfo' ->> 'email')`),
  ],
);

export const invoicesTable = pgTable(
  'invoices',
  {
    storeId: int8('store_id').notNull(),
    orderId: text('order_id').notNull(),
    invoiceId: text('invoice_id').notNull(),
    type: text('type'),
    createdAt: tz('created_at'),
    link: text('link'),
    ...projectedColumns(),
  },
  (t) => [
    primaryKey({ columns: [t.storeId, t.orderId, t.invoiceId] }),
    // GET /v1/stores/{storeId}/invoices/{invoiceId} and the default sort by creation time.
    index('invoices_store_invoice_idx').on(t.storeId, t.invoiceId),
    index('invoices_store_created_idx').on(t.storeId, t.createdAt),
  ],
);

export const storeProfilesTable = pgTable('store_profiles', {
  storeId: int8('store_id').primaryKey(),
  storeName: text('store_name'),
  storeUrl: text('store_url'),
  currency: text('currency'),
  /** `formatsAndUnits.timezone` (an IANA name), null when Postgres does not know it. */
  timezone: text('timezone'),
  ...projectedColumns(),
});

export const appSubscriptionsTable = pgTable('app_subscriptions', {
  storeId: int8('store_id').primaryKey(),
  status: text('status'),
  ...projectedColumns(),
});

export const appStorageTable = pgTable(
  'app_storage',
  {
    storeId: int8('store_id').notNull(),
    key: text('key').notNull(),
    value: text('value'),
    ...projectedColumns(),
  },
  (t) => [primaryKey({ columns: [t.storeId, t.key] })],
);

/** A store as the app sees it: installed (active) or uninstalled, from `application.*` events. */
export const storesTable = pgTable('stores', {
  storeId: int8('store_id').primaryKey(),
  status: text('status', { enum: ['active', 'uninstalled'] }).notNull(),
  installedAt: tz('installed_at'),
  uninstalledAt: tz('uninstalled_at'),
  ...projectedColumns(),
});
