import { z } from '@hono/zod-openapi';
import {
  abandonedCartsTable,
  appStorageTable,
  categoriesTable,
  customerGroupsTable,
  customersTable,
  discountCouponsTable,
  invoicesTable,
  orderItemsTable,
  ordersTable,
  productCategoriesTable,
  productsTable,
  productTypesTable,
  productVariationsTable,
  promotionsTable,
  reviewsTable,
} from '@mirror/db';
import { eq, exists, gte, inArray, isNotNull, isNull, lte, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import { booleanParam, numericId, statusListParam, textId, timeParam } from './query-params.ts';
import { rowSchema } from './row-json.ts';

/** A query parameter that narrows a list, and the SQL it becomes. */
export type Filter = {
  schema: z.ZodType;
  where: (value: never) => SQL | undefined;
  description: string;
};

/**
 * Child rows selected with their parent in the same statement: a correlated subquery per row
 * (json_agg over the child table's primary key, which starts with store_id and the parent's id),
 * so a page of 100 orders and all their items is one query, not 101. Numerics are cast to text
 * inside the JSON so money keeps its exact decimal form. The children are ordered in a subquery,
 * not inside json_agg: the primary key index then gives the order and Postgres skips a sort per
 * parent row. Each child is printed by json_agg of a record (row_to_json): keys from the column
 * aliases, without json_build_object's per-call argument type lookups. Lists and get-by-id nest it
 * in the row's JSON, which Postgres prints (json-rows.ts). The parent is named by its table name:
 * drizzle prints a single-table select's columns unqualified, which would bind to the child.
 */
export type Expansion = {
  shape: Record<string, z.ZodType>;
  /** json-typed expressions, keyed by the field they print as. */
  columns: Record<string, SQL>;
};

export type EntityTable = PgTable & {
  storeId: AnyPgColumn;
  deletedAt: AnyPgColumn;
  doc: AnyPgColumn;
};

/** One URL collection (`/v1/stores/{storeId}/orders`) over one entity table. */
export type EntityDef = {
  path: string;
  /** Component name in the OpenAPI document. */
  name: string;
  /** `entity_kind` of its log records (docs/decisions/0002). */
  kind: string;
  table: EntityTable;
  /** Path parameter of the get-by-id route, named as the field (`orderId`). */
  idParam: string;
  idColumn: AnyPgColumn;
  idSchema: z.ZodType;
  /** Primary key after store_id: the tie-breaker of every sort, and the cursor's key. */
  key: AnyPgColumn[];
  /** Allowed sorts: field name to column; `null` sorts by the key. */
  sorts: Record<string, AnyPgColumn | null>;
  defaultSort: string;
  filters: Record<string, Filter>;
  expand?: Expansion;
  /**
   * The `entity_id`s its log records carry; by default the id in the URL. Orders add the internal
   * id webhooks carry; storage is one document per store, keyed by the store id.
   */
  historyIds?: (row: Record<string, unknown>, storeId: number) => string[];
};

const internal = ['storeId', 'doc'] as const;

const eqFilter = (column: AnyPgColumn, schema: z.ZodType, description: string): Filter => ({
  schema,
  where: (value: unknown) => eq(column, value),
  description,
});
const inFilter = (column: AnyPgColumn, description: string): Filter => ({
  schema: statusListParam,
  where: (value: string[]) => (value.length === 1 ? eq(column, value[0]) : inArray(column, value)),
  description,
});
const fromFilter = (column: AnyPgColumn, what: string): Filter => ({
  schema: timeParam,
  where: (value: Date) => gte(column, value),
  description: `${what} at or after this time`,
});
const toFilter = (column: AnyPgColumn, what: string): Filter => ({
  schema: timeParam,
  where: (value: Date) => lte(column, value),
  description: `${what} at or before this time`,
});
const idFilter = (column: AnyPgColumn, description: string) => eqFilter(column, numericId, description);
const textFilter = (column: AnyPgColumn, description: string) => eqFilter(column, textId, description);
const boolFilter = (column: AnyPgColumn, description: string) => eqFilter(column, booleanParam, description);

const timeFilters = (table: { createdAt: AnyPgColumn; updatedAt: AnyPgColumn }) => ({
  createdFrom: fromFilter(table.createdAt, 'created'),
  createdTo: toFilter(table.createdAt, 'created'),
  updatedFrom: fromFilter(table.updatedAt, 'updated'),
  updatedTo: toFilter(table.updatedAt, 'updated'),
});

const itemShape = z.object(rowSchema(orderItemsTable, ['storeId', 'orderId', 'doc', 'deletedAt', 'sourcePosition', 'syncedAt']));

const orderItems: Expansion = {
  shape: { items: z.array(itemShape) },
  columns: {
    items: sql`(select coalesce(json_agg(i), '[]'::json)
      from (select i.item_id as "itemId", i.product_id as "productId", i.sku, i.name, i.quantity, i.price::text as price
        from ${orderItemsTable} i where i.store_id = orders.store_id and i.order_id = orders.order_id order by i.item_id) i)`,
  },
};

const variationShape = z.object(rowSchema(productVariationsTable, ['storeId', 'productId', 'doc', 'deletedAt', 'sourcePosition', 'syncedAt']));

const productChildren: Expansion = {
  shape: { categoryIds: z.array(z.number().int()), variations: z.array(variationShape) },
  columns: {
    categoryIds: sql`(select coalesce(json_agg(pc.category_id), '[]'::json)
      from (select category_id from ${productCategoriesTable} pc where pc.store_id = products.store_id and pc.product_id = products.product_id
        order by pc.category_id) pc)`,
    variations: sql`(select coalesce(json_agg(v), '[]'::json)
      from (select v.variation_id as "variationId", v.sku, v.price::text as price, v.quantity
        from ${productVariationsTable} v where v.store_id = products.store_id and v.product_id = products.product_id
        order by v.variation_id) v)`,
  },
};

const o = ordersTable;
const ac = abandonedCartsTable;
const p = productsTable;
const cu = customersTable;
const dc = discountCouponsTable;
const r = reviewsTable;

/** Every collection under /v1/stores/{storeId}, in the order the reference lists them. */
export const entities: EntityDef[] = [
  {
    path: 'orders',
    name: 'Order',
    kind: 'order',
    table: o,
    idParam: 'orderId',
    idColumn: o.orderId,
    idSchema: textId,
    key: [o.orderId],
    sorts: { createdAt: o.createdAt, updatedAt: o.updatedAt, total: o.total, orderId: null },
    defaultSort: '-createdAt',
    filters: {
      paymentStatus: inFilter(o.paymentStatus, 'one or more payment statuses, comma-separated (PAID,AWAITING_PAYMENT)'),
      fulfillmentStatus: inFilter(o.fulfillmentStatus, 'one or more fulfillment statuses, comma-separated'),
      email: textFilter(o.email, "the customer's email, exactly as Ecwid has it"),
      customerId: idFilter(o.customerId, 'the customer id'),
      couponCode: textFilter(o.couponCode, 'the discount coupon code used'),
      hidden: boolFilter(o.hidden, 'hidden (unfinished) orders only, or none'),
      ...timeFilters(o),
    },
    expand: orderItems,
    historyIds: (row) => [
      String(row['orderId']),
      ...(row['internalId'] == null ? [] : [String(row['internalId']), `internal:${String(row['internalId'])}`]),
    ],
  },
  {
    path: 'abandoned-carts',
    name: 'AbandonedCart',
    kind: 'abandoned_cart',
    table: ac,
    idParam: 'cartId',
    idColumn: ac.cartId,
    idSchema: textId,
    key: [ac.cartId],
    sorts: { createdAt: ac.createdAt, updatedAt: ac.updatedAt, total: ac.total },
    defaultSort: '-createdAt',
    filters: {
      email: textFilter(ac.email, "the customer's email"),
      customerId: idFilter(ac.customerId, 'the customer id'),
      recovered: {
        schema: booleanParam,
        where: (value: boolean) => (value ? isNotNull(ac.recoveredOrderId) : isNull(ac.recoveredOrderId)),
        description: 'true: carts that became an order; false: carts still abandoned',
      },
      ...timeFilters(ac),
    },
  },
  {
    path: 'products',
    name: 'Product',
    kind: 'product',
    table: p,
    idParam: 'productId',
    idColumn: p.productId,
    idSchema: numericId,
    key: [p.productId],
    sorts: { updatedAt: p.updatedAt, createdAt: p.createdAt, price: p.price, name: p.name, productId: null },
    defaultSort: '-updatedAt',
    filters: {
      sku: textFilter(p.sku, 'the product SKU (variation SKUs are not searched)'),
      enabled: boolFilter(p.enabled, 'enabled (visible) products only, or disabled ones'),
      inStock: boolFilter(p.inStock, 'in stock or out of stock'),
      productTypeId: idFilter(p.productTypeId, 'the product type (class) id'),
      categoryId: {
        schema: numericId,
        where: (value: number) =>
          exists(
            sql`(select 1 from ${productCategoriesTable} pc where pc.store_id = ${p.storeId} and pc.product_id = ${p.productId} and pc.category_id = ${value})`,
          ),
        description: 'products in this category',
      },
      ...timeFilters(p),
    },
    expand: productChildren,
  },
  {
    path: 'categories',
    name: 'Category',
    kind: 'category',
    table: categoriesTable,
    idParam: 'categoryId',
    idColumn: categoriesTable.categoryId,
    idSchema: numericId,
    key: [categoriesTable.categoryId],
    sorts: { categoryId: null, name: categoriesTable.name },
    defaultSort: 'categoryId',
    filters: {
      parentId: idFilter(categoriesTable.parentId, 'direct children of this category'),
      enabled: boolFilter(categoriesTable.enabled, 'enabled categories only, or disabled ones'),
    },
  },
  {
    path: 'product-types',
    name: 'ProductType',
    kind: 'product_type',
    table: productTypesTable,
    idParam: 'productTypeId',
    idColumn: productTypesTable.productTypeId,
    idSchema: numericId,
    key: [productTypesTable.productTypeId],
    sorts: { productTypeId: null, name: productTypesTable.name },
    defaultSort: 'productTypeId',
    filters: {},
  },
  {
    path: 'customers',
    name: 'Customer',
    kind: 'customer',
    table: cu,
    idParam: 'customerId',
    idColumn: cu.customerId,
    idSchema: numericId,
    key: [cu.customerId],
    sorts: { createdAt: cu.createdAt, updatedAt: cu.updatedAt, customerId: null },
    defaultSort: '-createdAt',
    filters: {
      email: textFilter(cu.email, "the customer's email, exactly as Ecwid has it"),
      customerGroupId: idFilter(cu.customerGroupId, 'the customer group id'),
      ...timeFilters(cu),
    },
  },
  {
    path: 'customer-groups',
    name: 'CustomerGroup',
    kind: 'customer_group',
    table: customerGroupsTable,
    idParam: 'customerGroupId',
    idColumn: customerGroupsTable.customerGroupId,
    idSchema: numericId,
    key: [customerGroupsTable.customerGroupId],
    sorts: { customerGroupId: null, name: customerGroupsTable.name },
    defaultSort: 'customerGroupId',
    filters: {},
  },
  {
    path: 'discount-coupons',
    name: 'DiscountCoupon',
    kind: 'discount_coupon',
    table: dc,
    idParam: 'couponId',
    idColumn: dc.couponId,
    idSchema: numericId,
    key: [dc.couponId],
    sorts: { createdAt: dc.createdAt, updatedAt: dc.updatedAt, couponId: null },
    defaultSort: '-createdAt',
    filters: {
      code: textFilter(dc.code, 'the coupon code'),
      status: inFilter(dc.status, 'one or more statuses, comma-separated (ACTIVE,PAUSED,EXPIRED,USEDUP)'),
      discountType: inFilter(dc.discountType, 'one or more discount types, comma-separated (ABS,PERCENT,SHIPPING,…)'),
      ...timeFilters(dc),
    },
  },
  {
    path: 'promotions',
    name: 'Promotion',
    kind: 'promotion',
    table: promotionsTable,
    idParam: 'promotionId',
    idColumn: promotionsTable.promotionId,
    idSchema: numericId,
    key: [promotionsTable.promotionId],
    sorts: { promotionId: null, name: promotionsTable.name },
    defaultSort: 'promotionId',
    filters: {
      enabled: boolFilter(promotionsTable.enabled, 'enabled promotions only, or disabled ones'),
      discountType: inFilter(promotionsTable.discountType, 'one or more discount types, comma-separated'),
    },
  },
  {
    path: 'reviews',
    name: 'Review',
    kind: 'review',
    table: r,
    idParam: 'reviewId',
    idColumn: r.reviewId,
    idSchema: numericId,
    key: [r.reviewId],
    sorts: { createdAt: r.createdAt, updatedAt: r.updatedAt, rating: r.rating, reviewId: null },
    defaultSort: '-createdAt',
    filters: {
      productId: idFilter(r.productId, 'reviews of this product'),
      customerId: idFilter(r.customerId, 'reviews by this customer'),
      orderId: textFilter(r.orderId, 'reviews from this order (public order id)'),
      status: inFilter(r.status, 'one or more statuses, comma-separated (PUBLISHED,MODERATED)'),
      rating: {
        schema: z.coerce.number().int().min(1, 'must be 1 to 5').max(5, 'must be 1 to 5').openapi({ type: 'integer', minimum: 1, maximum: 5 }),
        where: (value: number) => eq(r.rating, value),
        description: 'reviews with this star rating (1–5)',
      },
      ...timeFilters(r),
    },
  },
  {
    path: 'invoices',
    name: 'Invoice',
    kind: 'invoice',
    table: invoicesTable,
    idParam: 'invoiceId',
    idColumn: invoicesTable.invoiceId,
    idSchema: textId,
    key: [invoicesTable.orderId, invoicesTable.invoiceId],
    sorts: { createdAt: invoicesTable.createdAt, orderId: null },
    defaultSort: '-createdAt',
    filters: {
      orderId: textFilter(invoicesTable.orderId, "the order's invoices (public order id)"),
      type: inFilter(invoicesTable.type, 'one or more invoice types, comma-separated (SALE,FULL_CANCEL)'),
      createdFrom: fromFilter(invoicesTable.createdAt, 'created'),
      createdTo: toFilter(invoicesTable.createdAt, 'created'),
    },
    // An invoice's snapshot is its order's invoice list, keyed by the public order id (0002).
    historyIds: (row) => [String(row['orderId']), String(row['invoiceId'])],
  },
  {
    path: 'storage',
    name: 'StorageEntry',
    kind: 'app_storage',
    table: appStorageTable,
    idParam: 'key',
    idColumn: appStorageTable.key,
    idSchema: textId,
    key: [appStorageTable.key],
    sorts: { key: null },
    defaultSort: 'key',
    filters: {},
    historyIds: (_row, storeId) => [String(storeId)],
  },
];

/** The schema of one entity's rows, as lists and get-by-id print them. */
export function entitySchema(def: EntityDef) {
  return z.object({
    ...rowSchema(def.table, internal),
    ...def.expand?.shape,
    doc: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: "Ecwid's full document as fetched; in lists only with includeDoc=true" }),
  });
}

/** Columns never printed: the store is in the URL. */
export const internalKeys: ReadonlySet<string> = new Set(['storeId']);
