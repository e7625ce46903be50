import {
  abandonedCartItemsTable,
  abandonedCartsRenderedTable,
  abandonedCartsTable,
  appStorageTable,
  appSubscriptionsTable,
  categoriesTable,
  customerGroupsTable,
  customersTable,
  discountCouponsTable,
  invoicesTable,
  orderItemsTable,
  orderRefundsTable,
  ordersRenderedTable,
  ordersTable,
  productCategoriesTable,
  productsRenderedTable,
  productsTable,
  productTypesTable,
  productVariationsTable,
  promotionsTable,
  reviewsTable,
  storeProfilesTable,
  storesTable,
} from '@mirror/db';
import { getTableColumns } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';

/*
 * The entity catalogue: the one place an entity kind is declared. Every layer derives from it
 * (the event types ingest recognises, what enrichment fetches, what backfill walks, which tables
 * projection and rebuild write, the query API's routes, the CLI's `--entities`), and each layer's
 * own per-kind table is typed `satisfies Record<Kind, …>`, so declaring a kind here without
 * handling it there is a compile error in that layer.
 *
 * Terminology:
 * - kind: the id a kind's log records carry in `event_log.entity_kind` (`discount_coupon`). It is
 *   written into the log, so it never changes.
 * - name: the one public name (`discount-coupons`): the CLI's `--entities`, the API's path,
 *   `mirror status`, metrics labels and the docs. `aliases` are older spellings, still accepted
 *   with a deprecation note.
 * - shape: `entity` (one row per key, newer wins, with child rows replaced alongside) or `set` (a
 *   document that is the whole list of rows for its key: an order's invoices, a store's storage).
 * - key: the column after `store_id` that identifies the entity (a set: the key of the set), or
 *   `store` for one row (or set) per store.
 * Facts about Ecwid (event types, ids, endpoints, listings) are explained in docs/ecwid.md.
 */

/** OAuth scopes Ecwid asks for, per event family (docs/ecwid.md §1.3, §6). */
export type Scope =
  | 'read_store_profile'
  | 'read_orders'
  | 'read_catalog'
  | 'read_customers'
  | 'read_discount_coupons'
  | 'read_promotion'
  | 'read_reviews'
  | 'read_invoices';

/** How sure docs/ecwid.md is that Ecwid sends an event type as spelled. */
export type Confidence = 'confirmed' | 'legacy' | 'secondary' | 'unconfirmed';

/**
 * What a webhook says happened. `deleted` makes the projector write a tombstone; `installed` and
 * `uninstalled` change the store's lifecycle.
 */
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
 * Which id of a webhook finds the entity's current state (docs/ecwid.md §1.5):
 * - `entityId`: GET /{collection}/{entityId}
 * - `data.orderId`: the public order id; `entityId` is the internal one
 * - `data.cartId`: abandoned carts are fetched by cart UUID
 * - `store`: a store-level document (`/profile`, `/application`, `/storage`)
 * - `none`: nothing to fetch (the event itself is the fact, or no REST endpoint is known)
 */
export type RefetchBy = 'entityId' | 'data.orderId' | 'data.cartId' | 'store' | 'none';

/**
 * How enrichment asks Ecwid for a kind's current state (docs/ecwid.md §4.5, §5):
 * - `bulk`: a search by a list of ids, then single reads for what it did not return;
 * - `batch`: single reads, or the batch API when many are asked at once;
 * - `single`: one read per entity;
 * - `listing`: one listing answers every entity (no read by id exists);
 * - `store`: one document per store;
 * - `derived`: never fetched; the record is derived from the webhooks themselves.
 */
export type FetchMode = 'bulk' | 'batch' | 'single' | 'listing' | 'store' | 'derived';

/** Ecwid's deleted-items listings (`GET /{path}/deleted`, docs/ecwid.md §4.4). */
export type DeletedListing = 'orders' | 'products' | 'coupons' | 'customers' | 'reviews';

/** One webhook event type that concerns a kind. */
export type EventDecl = {
  eventType: string;
  action: EventAction;
  refetchBy: RefetchBy;
  confidence: Confidence;
  /** Other spellings seen in Ecwid's own clients (snake_case, docs/ecwid.md §1.3). */
  aliases: readonly string[];
};

/** A table every projected row of a kind lives in: keyed by store_id, soft-deleted, with `doc`. */
export type EntityTable = PgTable & { storeId: AnyPgColumn; deletedAt: AnyPgColumn; doc: AnyPgColumn; sourcePosition: AnyPgColumn };

/** Rows derived from an array in the parent's document, replaced with the parent. */
export type ChildDecl = {
  table: PgTable & { storeId: AnyPgColumn };
  /** The child's own key after the parent's. */
  itemKey: AnyPgColumn;
  /** The field the API nests the rows under (`items`). */
  as: string;
  /** Nest just this column's values (`categoryIds: [3, 7]`) instead of whole rows. */
  value?: AnyPgColumn;
};

/** A query parameter that narrows an API list, declared by what it compares. */
export type FilterDecl =
  /** One value or a comma-separated list of upper-case statuses. */
  | { type: 'in'; column: AnyPgColumn; description: string; values?: readonly string[] }
  /** Equal to a text value. */
  | { type: 'text'; column: AnyPgColumn; description: string }
  /** Equal to a numeric id; with `zeroIsNone`, 0 asks for the rows where the column is null (Ecwid's `parent=0`: top-level categories). */
  | { type: 'id'; column: AnyPgColumn; description: string; zeroIsNone?: true }
  /** Equal to true or false; with `absentIsFalse`, a null (a document without the flag) counts as false. */
  | { type: 'bool'; column: AnyPgColumn; description: string; absentIsFalse?: true }
  /** `true`: the column is set; `false`: it is null. */
  | { type: 'present'; column: AnyPgColumn; description: string }
  | { type: 'int'; column: AnyPgColumn; min: number; max: number; description: string }
  /** At or after (`from`) / at or before (`to`) a time. */
  | { type: 'from' | 'to'; column: AnyPgColumn; description: string }
  /** A child row (same store and parent key) has this numeric id in `column`. */
  | { type: 'child'; table: PgTable; column: AnyPgColumn; description: string };

/** A kind served as a collection under /v1/stores/{storeId}/{name}. */
export type CollectionApi = {
  shape: 'collection';
  /** Component name in the OpenAPI document. */
  component: string;
  /** The get-by-id route's path parameter, named as the field (`orderId`). */
  idParam: string;
  idColumn: AnyPgColumn;
  /** Primary key after store_id: the tie-breaker of every sort, and the cursor's key. */
  listKey: readonly AnyPgColumn[];
  /** Allowed sorts: field name to column; `null` sorts by the key. */
  sorts: Readonly<Record<string, AnyPgColumn | null>>;
  defaultSort: string;
  filters: Readonly<Record<string, FilterDecl>>;
  /**
   * The `entity_id`s a row's log records carry; by default the id in the URL. Orders add the
   * internal id webhooks carry; storage is one document per store, keyed by the store id.
   */
  historyIds?: (row: Record<string, unknown>, storeId: number) => string[];
  /** What the history route answers, when it is not one entity's own records (storage's is the store's). */
  historyScope?: string;
};

/** A kind with one row per store, served at /v1/stores/{storeId}/{name}. */
export type SingletonApi = {
  shape: 'singleton';
  component: string;
  /** What the document is, for the reference: "store profile (GET /profile)". */
  what: string;
};

export type KindDecl = {
  name: string;
  aliases: readonly string[];
  /** The kind as a person says it, singular: "discount coupon". */
  noun: string;
  scope: Scope;
  events: readonly EventDecl[];
  fetch: FetchMode;
  /** Ecwid's listing takes `updatedFrom`, so a re-scan asks only for what changed (docs/ecwid.md §4.4). */
  incremental: boolean;
  deletedListing: DeletedListing | null;
  shape: 'entity' | 'set';
  table: EntityTable;
  key: AnyPgColumn | 'store';
  children: readonly ChildDecl[];
  /**
   * Where the projection stores each row as the API's lists print it (decision 0022): the kinds
   * with child rows, whose printing per request costs Postgres most. Keyed as `table`.
   */
  rendered?: PgTable;
  /** `null`: not served as a collection or singleton (the store lifecycle is GET /v1/stores). */
  api: CollectionApi | SingletonApi | null;
};

const event = (
  eventType: string,
  action: EventAction,
  refetchBy: RefetchBy,
  options: { confidence?: Confidence; aliases?: readonly string[] } = {},
): EventDecl => ({ eventType, action, refetchBy, confidence: options.confidence ?? 'confirmed', aliases: options.aliases ?? [] });

/** `prefix.created`, `prefix.updated`, `prefix.deleted`. */
const crud = (prefix: string, refetchBy: RefetchBy): EventDecl[] =>
  (['created', 'updated', 'deleted'] as const).map((action) => event(`${prefix}.${action}`, action, refetchBy));

/** The order statuses Ecwid documents (docs/ecwid.md, "Order status values"): closed sets, so a filter refuses others. */
export const paymentStatuses = [
  'AWAITING_PAYMENT',
  'PAID',
  'CANCELLED',
  'REFUNDED',
  'PARTIALLY_REFUNDED',
  'INCOMPLETE',
  'CUSTOM_PAYMENT_STATUS_1',
  'CUSTOM_PAYMENT_STATUS_2',
  'CUSTOM_PAYMENT_STATUS_3',
] as const;
export const fulfillmentStatuses = [
  'AWAITING_PROCESSING',
  'PROCESSING',
  'SHIPPED',
  'DELIVERED',
  'WILL_NOT_DELIVER',
  'RETURNED',
  'READY_FOR_PICKUP',
  'OUT_FOR_DELIVERY',
  'CUSTOM_FULFILLMENT_STATUS_1',
  'CUSTOM_FULFILLMENT_STATUS_2',
  'CUSTOM_FULFILLMENT_STATUS_3',
] as const;

const filter = {
  in: (column: AnyPgColumn, description: string, values?: readonly string[]): FilterDecl => ({
    type: 'in',
    column,
    description,
    ...(values && { values }),
  }),
  text: (column: AnyPgColumn, description: string): FilterDecl => ({ type: 'text', column, description }),
  id: (column: AnyPgColumn, description: string): FilterDecl => ({ type: 'id', column, description }),
  /** A parent's id, where 0 asks for the rows without a parent (Ecwid's `parent=0`). */
  parent: (column: AnyPgColumn, description: string): FilterDecl => ({ type: 'id', column, description, zeroIsNone: true }),
  bool: (column: AnyPgColumn, description: string): FilterDecl => ({ type: 'bool', column, description }),
  /** A flag Ecwid leaves out when it is off (`hidden`): a row without it is not hidden. */
  flag: (column: AnyPgColumn, description: string): FilterDecl => ({ type: 'bool', column, description, absentIsFalse: true }),
  from: (column: AnyPgColumn, what: string): FilterDecl => ({ type: 'from', column, description: `${what} at or after this time` }),
  to: (column: AnyPgColumn, what: string): FilterDecl => ({ type: 'to', column, description: `${what} at or before this time` }),
};

const timeFilters = (table: { createdAt: AnyPgColumn; updatedAt: AnyPgColumn }) => ({
  createdFrom: filter.from(table.createdAt, 'created'),
  createdTo: filter.to(table.createdAt, 'created'),
  updatedFrom: filter.from(table.updatedAt, 'updated'),
  updatedTo: filter.to(table.updatedAt, 'updated'),
});

/** A collection's API, its get-by-id parameter named as the id column's field; the list key defaults to that column. */
const collection = (
  component: string,
  idColumn: AnyPgColumn,
  rest: Omit<CollectionApi, 'shape' | 'component' | 'idParam' | 'idColumn' | 'listKey'> & { listKey?: readonly AnyPgColumn[] },
): CollectionApi => {
  const idParam = Object.entries(getTableColumns(idColumn.table)).find(([, column]) => column === idColumn)?.[0];
  if (!idParam) throw new Error(`${component}: the id column is not a column of its table`);
  return { shape: 'collection', component, idParam, idColumn, listKey: rest.listKey ?? [idColumn], ...rest };
};

const o = ordersTable;
const ac = abandonedCartsTable;
const p = productsTable;
const cu = customersTable;
const dc = discountCouponsTable;
const r = reviewsTable;
const inv = invoicesTable;

/**
 * Every entity kind, in the order backfill walks them (parents before children: product types
 * before products, products before orders).
 */
export const entityCatalog = {
  store_profile: {
    name: 'profile',
    aliases: [],
    noun: 'store profile',
    scope: 'read_store_profile',
    events: [
      event('profile.updated', 'updated', 'store'),
      event('profile.subscriptionStatusChanged', 'subscription_changed', 'store', { aliases: ['profile.subscription_status_changed'] }),
    ],
    fetch: 'store',
    incremental: false,
    deletedListing: null,
    shape: 'entity',
    table: storeProfilesTable,
    key: 'store',
    children: [],
    api: { shape: 'singleton', component: 'StoreProfile', what: 'store profile (GET /profile)' },
  },
  app_subscription: {
    name: 'subscription',
    aliases: ['application'],
    noun: "app's subscription",
    scope: 'read_store_profile',
    events: [
      event('application.subscriptionStatusChanged', 'subscription_changed', 'store', {
        aliases: ['application.subscription_status_changed'],
      }),
    ],
    fetch: 'store',
    incremental: false,
    deletedListing: null,
    shape: 'entity',
    table: appSubscriptionsTable,
    key: 'store',
    children: [],
    api: { shape: 'singleton', component: 'AppSubscription', what: "app's subscription (GET /application)" },
  },
  app_storage: {
    name: 'storage',
    aliases: [],
    noun: 'storage entry',
    scope: 'read_store_profile',
    events: [event('application.storageChanged', 'storage_changed', 'store', { aliases: ['application.storage_changed'] })],
    fetch: 'store',
    incremental: false,
    deletedListing: null,
    // One snapshot holds every key: the storage table is replaced as a whole (0002).
    shape: 'set',
    table: appStorageTable,
    key: 'store',
    children: [],
    api: collection('StorageEntry', appStorageTable.key, {
      sorts: { key: null },
      defaultSort: 'key',
      filters: {},
      historyIds: (_row, storeId) => [String(storeId)],
      historyScope:
        "The store's whole app storage, not this key's alone: Ecwid answers every key in one document, and each " +
        'snapshot holds them all, so a change of any key is a record here.',
    }),
  },
  product_type: {
    name: 'product-types',
    aliases: ['product_types'],
    noun: 'product type',
    scope: 'read_catalog',
    events: crud('product_class', 'entityId'),
    fetch: 'batch',
    incremental: false,
    deletedListing: null,
    shape: 'entity',
    table: productTypesTable,
    key: productTypesTable.productTypeId,
    children: [],
    api: collection('ProductType', productTypesTable.productTypeId, {
      sorts: { productTypeId: null, name: productTypesTable.name },
      defaultSort: 'productTypeId',
      filters: {},
    }),
  },
  category: {
    name: 'categories',
    aliases: [],
    noun: 'category',
    scope: 'read_catalog',
    events: crud('category', 'entityId'),
    fetch: 'batch',
    incremental: false,
    deletedListing: null,
    shape: 'entity',
    table: categoriesTable,
    key: categoriesTable.categoryId,
    children: [],
    api: collection('Category', categoriesTable.categoryId, {
      sorts: { categoryId: null, name: categoriesTable.name },
      defaultSort: 'categoryId',
      filters: {
        parentId: filter.parent(categoriesTable.parentId, 'direct children of this category; 0 for the top-level categories, as in Ecwid'),
        enabled: filter.bool(categoriesTable.enabled, 'enabled categories only, or disabled ones'),
      },
    }),
  },
  product: {
    name: 'products',
    aliases: [],
    noun: 'product',
    scope: 'read_catalog',
    events: crud('product', 'entityId'),
    fetch: 'bulk',
    incremental: true,
    deletedListing: 'products',
    shape: 'entity',
    table: p,
    key: p.productId,
    rendered: productsRenderedTable,
    children: [
      {
        table: productCategoriesTable,
        itemKey: productCategoriesTable.categoryId,
        as: 'categoryIds',
        value: productCategoriesTable.categoryId,
      },
      { table: productVariationsTable, itemKey: productVariationsTable.variationId, as: 'variations' },
    ],
    api: collection('Product', p.productId, {
      sorts: { updatedAt: p.updatedAt, createdAt: p.createdAt, price: p.price, name: p.name, productId: null },
      defaultSort: '-updatedAt',
      filters: {
        sku: filter.text(p.sku, 'the product SKU (variation SKUs are not searched)'),
        enabled: filter.bool(p.enabled, 'enabled (visible) products only, or disabled ones'),
        inStock: filter.bool(p.inStock, 'in stock or out of stock'),
        productTypeId: filter.id(p.productTypeId, 'the product type (class) id'),
        categoryId: {
          type: 'child',
          table: productCategoriesTable,
          column: productCategoriesTable.categoryId,
          description: 'products in this category',
        },
        ...timeFilters(p),
      },
    }),
  },
  customer_group: {
    name: 'customer-groups',
    aliases: ['customer_groups'],
    noun: 'customer group',
    scope: 'read_customers',
    events: crud('customer_group', 'entityId'),
    fetch: 'batch',
    incremental: false,
    deletedListing: null,
    shape: 'entity',
    table: customerGroupsTable,
    key: customerGroupsTable.customerGroupId,
    children: [],
    api: collection('CustomerGroup', customerGroupsTable.customerGroupId, {
      sorts: { customerGroupId: null, name: customerGroupsTable.name },
      defaultSort: 'customerGroupId',
      filters: {},
    }),
  },
  customer: {
    name: 'customers',
    aliases: [],
    noun: 'customer',
    scope: 'read_customers',
    events: crud('customer', 'entityId'),
    fetch: 'batch',
    incremental: true,
    deletedListing: 'customers',
    shape: 'entity',
    table: cu,
    key: cu.customerId,
    children: [],
    api: collection('Customer', cu.customerId, {
      sorts: { createdAt: cu.createdAt, updatedAt: cu.updatedAt, customerId: null },
      defaultSort: '-createdAt',
      filters: {
        email: filter.text(cu.email, "the customer's email, exactly as Ecwid has it"),
        customerGroupId: filter.id(cu.customerGroupId, 'the customer group id'),
        ...timeFilters(cu),
      },
    }),
  },
  discount_coupon: {
    name: 'discount-coupons',
    aliases: ['coupons'],
    noun: 'discount coupon',
    scope: 'read_discount_coupons',
    events: crud('discount_coupon', 'entityId'),
    fetch: 'batch',
    incremental: true,
    deletedListing: 'coupons',
    shape: 'entity',
    table: dc,
    key: dc.couponId,
    children: [],
    api: collection('DiscountCoupon', dc.couponId, {
      sorts: { createdAt: dc.createdAt, updatedAt: dc.updatedAt, couponId: null },
      defaultSort: '-createdAt',
      filters: {
        code: filter.text(dc.code, 'the coupon code'),
        status: filter.in(dc.status, 'one or more statuses, comma-separated (ACTIVE,PAUSED,EXPIRED,USEDUP)'),
        discountType: filter.in(dc.discountType, 'one or more discount types, comma-separated (ABS,PERCENT,SHIPPING,…)'),
        ...timeFilters(dc),
      },
    }),
  },
  promotion: {
    name: 'promotions',
    aliases: [],
    noun: 'promotion',
    scope: 'read_promotion',
    events: crud('promotion', 'entityId'),
    fetch: 'listing',
    incremental: false,
    deletedListing: null,
    shape: 'entity',
    table: promotionsTable,
    key: promotionsTable.promotionId,
    children: [],
    api: collection('Promotion', promotionsTable.promotionId, {
      sorts: { promotionId: null, name: promotionsTable.name },
      defaultSort: 'promotionId',
      filters: {
        enabled: filter.bool(promotionsTable.enabled, 'enabled promotions only, or disabled ones'),
        discountType: filter.in(promotionsTable.discountType, 'one or more discount types, comma-separated'),
      },
    }),
  },
  order: {
    name: 'orders',
    aliases: [],
    noun: 'order',
    scope: 'read_orders',
    events: crud('order', 'data.orderId'),
    fetch: 'bulk',
    incremental: true,
    deletedListing: 'orders',
    shape: 'entity',
    table: o,
    key: o.orderId,
    rendered: ordersRenderedTable,
    children: [
      { table: orderItemsTable, itemKey: orderItemsTable.itemId, as: 'items' },
      { table: orderRefundsTable, itemKey: orderRefundsTable.refundIndex, as: 'refunds' },
    ],
    api: collection('Order', o.orderId, {
      sorts: { createdAt: o.createdAt, updatedAt: o.updatedAt, total: o.total, orderId: null },
      defaultSort: '-createdAt',
      filters: {
        paymentStatus: filter.in(o.paymentStatus, 'one or more payment statuses, comma-separated', paymentStatuses),
        fulfillmentStatus: filter.in(o.fulfillmentStatus, 'one or more fulfillment statuses, comma-separated', fulfillmentStatuses),
        email: filter.text(o.email, "the customer's email, exactly as Ecwid has it"),
        customerId: filter.id(o.customerId, 'the customer id'),
        couponCode: filter.text(o.couponCode, 'the discount coupon code used'),
        hidden: filter.flag(o.hidden, 'hidden (unfinished) orders only, or none'),
        ...timeFilters(o),
      },
      historyIds: (row) => [
        String(row['orderId']),
        ...(row['internalId'] == null ? [] : [String(row['internalId']), `internal:${String(row['internalId'])}`]),
      ],
    }),
  },
  abandoned_cart: {
    name: 'abandoned-carts',
    aliases: ['carts'],
    noun: 'abandoned cart',
    scope: 'read_orders',
    events: crud('unfinished_order', 'data.cartId'),
    fetch: 'batch',
    incremental: true,
    deletedListing: null,
    shape: 'entity',
    table: ac,
    key: ac.cartId,
    rendered: abandonedCartsRenderedTable,
    children: [{ table: abandonedCartItemsTable, itemKey: abandonedCartItemsTable.itemId, as: 'items' }],
    api: collection('AbandonedCart', ac.cartId, {
      sorts: { createdAt: ac.createdAt, updatedAt: ac.updatedAt, total: ac.total },
      defaultSort: '-createdAt',
      filters: {
        email: filter.text(ac.email, "the customer's email"),
        customerId: filter.id(ac.customerId, 'the customer id'),
        recovered: {
          type: 'present',
          column: ac.recoveredOrderId,
          description:
            'true: carts that became an order; false: carts that did not (hidden ones too: add hidden=false for the carts ' +
            'reporting.abandoned_cart_recovery counts as abandoned)',
        },
        hidden: filter.flag(ac.hidden, 'carts the merchant hid (deleted from the abandoned carts list in Ecwid), or the others'),
        ...timeFilters(ac),
      },
    }),
  },
  review: {
    name: 'reviews',
    aliases: [],
    noun: 'review',
    scope: 'read_reviews',
    events: crud('review', 'entityId'),
    fetch: 'single',
    incremental: true,
    deletedListing: 'reviews',
    shape: 'entity',
    table: r,
    key: r.reviewId,
    children: [],
    api: collection('Review', r.reviewId, {
      sorts: { createdAt: r.createdAt, updatedAt: r.updatedAt, rating: r.rating, reviewId: null },
      defaultSort: '-createdAt',
      filters: {
        productId: filter.id(r.productId, 'reviews of this product'),
        customerId: filter.id(r.customerId, 'reviews by this customer'),
        orderId: filter.text(r.orderId, 'reviews from this order (public order id)'),
        status: filter.in(r.status, 'one or more statuses, comma-separated (PUBLISHED,MODERATED)'),
        rating: { type: 'int', column: r.rating, min: 1, max: 5, description: 'reviews with this star rating (1–5)' },
        ...timeFilters(r),
      },
    }),
  },
  invoice: {
    name: 'invoices',
    aliases: [],
    noun: 'invoice',
    scope: 'read_invoices',
    // No invoice.updated exists (docs/ecwid.md §1.3). Invoices are listed per order: re-fetch by data.orderId.
    events: [event('invoice.created', 'created', 'data.orderId'), event('invoice.deleted', 'deleted', 'data.orderId')],
    fetch: 'single',
    incremental: false,
    deletedListing: null,
    // An order's invoices are one document, keyed by the public order id (0002).
    shape: 'set',
    table: inv,
    key: inv.orderId,
    children: [],
    api: collection('Invoice', inv.invoiceId, {
      listKey: [inv.orderId, inv.invoiceId],
      sorts: { createdAt: inv.createdAt, orderId: null },
      defaultSort: '-createdAt',
      filters: {
        orderId: filter.text(inv.orderId, "the order's invoices (public order id)"),
        type: filter.in(inv.type, 'one or more invoice types, comma-separated (SALE,FULL_CANCEL)'),
        createdFrom: filter.from(inv.createdAt, 'created'),
        createdTo: filter.to(inv.createdAt, 'created'),
      },
      historyIds: (row) => [String(row['orderId']), String(row['invoiceId'])],
    }),
  },
  store: {
    name: 'stores',
    aliases: [],
    noun: 'store lifecycle',
    scope: 'read_store_profile',
    // Delivered only to the app concerned (docs/ecwid.md §1.3).
    events: [event('application.installed', 'installed', 'store'), event('application.uninstalled', 'uninstalled', 'none')],
    fetch: 'derived',
    incremental: false,
    deletedListing: null,
    shape: 'entity',
    table: storesTable,
    key: 'store',
    children: [],
    api: null,
  },
} as const satisfies Record<string, KindDecl>;

export type EntityCatalog = typeof entityCatalog;

/** Every entity kind: the `entity_kind` of its log records. */
export type Kind = keyof EntityCatalog;

/** Kinds fetched from Ecwid (all but the ones derived from webhooks). */
export type FetchedKind = { [K in Kind]: EntityCatalog[K]['fetch'] extends 'derived' ? never : K }[Kind];

/** Kinds served by the query API as collections. */
export type CollectionKind = { [K in Kind]: EntityCatalog[K]['api'] extends { shape: 'collection' } ? K : never }[Kind];

/** Kinds served by the query API as one document per store. */
export type SingletonKind = { [K in Kind]: EntityCatalog[K]['api'] extends { shape: 'singleton' } ? K : never }[Kind];

/** Every kind, in catalogue order. */
export const kinds = Object.keys(entityCatalog) as Kind[];

/** The declaration of a kind, widened to the common shape. */
export const kindDecl = (kind: Kind): KindDecl => entityCatalog[kind];

/** Kinds fetched from Ecwid, in catalogue order. */
export const fetchedKinds = kinds.filter((kind): kind is FetchedKind => entityCatalog[kind].fetch !== 'derived');

export const isKind = (value: string): value is Kind => Object.hasOwn(entityCatalog, value);

/**
 * The OAuth scopes the mirror asks a merchant for: those of the kinds it mirrors (all of them by
 * default), `read_store_profile` first (Ecwid always grants it, docs/ecwid.md §6).
 */
export function requiredScopes(mirrored: readonly Kind[] = Object.keys(entityCatalog) as Kind[]): Scope[] {
  return [...new Set<Scope>(['read_store_profile', ...mirrored.map((kind) => entityCatalog[kind].scope)])];
}
