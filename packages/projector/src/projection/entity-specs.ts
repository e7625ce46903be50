import type { EntityKind } from '@mirror/ecwid';
import { array, bool, date, epoch, int4, int8, num, txt } from './sql-casts.ts';

/*
 * How each entity kind's snapshot document maps to its table(s), as SQL expressions
 * (docs/decisions/0002-snapshots-in-the-log.md). Terminology:
 * - entity: one row per key, newer wins (by Ecwid's update time when `timed`, else by position);
 * - child: rows derived from an array in the parent's document, replaced with the parent;
 * - set: a document that is the whole list of rows for its key (invoices of an order, a store's
 *   app storage), replaced when a later snapshot of the key is applied.
 * Column expressions read `r."field"` (the document's top-level fields as jsonb, extracted in
 * one pass by jsonb_to_record) and `b` (the event_log record); child columns read `xr."field"`
 * (the array element's fields listed in `fields`, likewise extracted once), `x` (the element
 * itself) and `p` (the parent's computed columns, `p.c_<column>`).
 */

/** Entity kinds that have tables; the event catalog's other kinds are skipped by projection. */
export const projectedKinds = [
  'store',
  'store_profile',
  'app_subscription',
  'app_storage',
  'category',
  'product_type',
  'customer_group',
  'customer',
  'product',
  'discount_coupon',
  'promotion',
  'order',
  'invoice',
  'abandoned_cart',
  'review',
] as const satisfies readonly EntityKind[];
export type ProjectedKind = (typeof projectedKinds)[number];

export type Column = {
  name: string;
  expr: string;
  /** The value on conflict (default `excluded.<name>`). */
  conflict?: string;
};

export type ChildSpec = {
  table: string;
  /** The jsonb array the rows come from, over `r`. */
  source: string;
  /** The element's fields the expressions read as `xr."field"` (a non-object element has none). */
  fields: string[];
  itemKey: { column: string; expr: string };
  columns: Column[];
};

export type EntitySpec = {
  shape: 'entity';
  kind: ProjectedKind;
  table: string;
  /** `store`: one row per store (`store_id` is the key). */
  key: { column: string; type: 'text' | 'bigint' } | 'store';
  fields: string[];
  columns: Column[];
  /** Newer wins by `updated_at` (then position); otherwise by position alone. */
  timed: boolean;
  /** Columns a tombstone sets when it inserts a key-only row (over `b`, the tombstone record). */
  tombstoneColumns?: Column[];
  children: ChildSpec[];
};

export type SetSpec = {
  shape: 'set';
  kind: ProjectedKind;
  table: string;
  key: { column: string; type: 'text' } | 'store';
  /** The jsonb array of rows, over `b.payload`. */
  elements: string;
  itemKey: { column: string; expr: string };
  columns: Column[];
};

export type ProjectionSpec = EntitySpec | SetSpec;

const f = (field: string) => `r."${field}"`;
/** A child element's field (listed in its ChildSpec's `fields`). */
const xf = (field: string) => `xr."${field}"`;
const time = (seconds: string, text: string) => `coalesce(${epoch(f(seconds))}, ${date(f(text))})`;

const orderSpec: EntitySpec = {
  shape: 'entity',
  kind: 'order',
  table: 'orders',
  key: { column: 'order_id', type: 'text' },
  fields: [
    'internalId', 'orderNumber', 'email', 'customerId', 'paymentStatus', 'fulfillmentStatus', 'total',
    'subtotal', 'tax', 'refundedAmount', 'refunds', 'discountCoupon', 'currency', 'hidden',
    'createTimestamp', 'updateTimestamp', 'createDate', 'updateDate', 'items',
  ],
  columns: [
    { name: 'internal_id', expr: int8(f('internalId')) },
    { name: 'order_number', expr: int8(f('orderNumber')) },
    { name: 'email', expr: txt(f('email')) },
    { name: 'customer_id', expr: int8(f('customerId')) },
    { name: 'payment_status', expr: txt(f('paymentStatus')) },
    { name: 'fulfillment_status', expr: txt(f('fulfillmentStatus')) },
    { name: 'total', expr: num(f('total')) },
    { name: 'subtotal', expr: num(f('subtotal')) },
    { name: 'tax', expr: num(f('tax')) },
    {
      // Ecwid's own figure when present, else the refunds it lists.
      name: 'refunded_amount',
      expr: `coalesce(${num(f('refundedAmount'))}, (select sum(${num(`x->'amount'`)}) from jsonb_array_elements(${array(f('refunds'))}) x))`,
    },
    { name: 'coupon_code', expr: txt(`${f('discountCoupon')}->'code'`) },
    { name: 'currency', expr: txt(f('currency')) },
    { name: 'hidden', expr: bool(f('hidden')) },
    { name: 'created_at', expr: time('createTimestamp', 'createDate') },
    { name: 'updated_at', expr: time('updateTimestamp', 'updateDate') },
  ],
  timed: true,
  tombstoneColumns: [{ name: 'internal_id', expr: int8(`b.payload->'internalId'`) }],
  children: [
    {
      table: 'order_items',
      source: array(f('items')),
      fields: ['id', 'productId', 'sku', 'name', 'quantity', 'price'],
      itemKey: { column: 'item_id', expr: int8(xf('id')) },
      columns: [
        { name: 'product_id', expr: int8(xf('productId')) },
        { name: 'sku', expr: txt(xf('sku')) },
        { name: 'name', expr: txt(xf('name')) },
        { name: 'quantity', expr: int4(xf('quantity')) },
        { name: 'price', expr: num(xf('price')) },
      ],
    },
  ],
};

const cartSpec: EntitySpec = {
  shape: 'entity',
  kind: 'abandoned_cart',
  table: 'abandoned_carts',
  key: { column: 'cart_id', type: 'text' },
  fields: ['email', 'customerId', 'total', 'recoveredOrderId', 'hidden', 'createTimestamp', 'updateTimestamp', 'createDate', 'updateDate'],
  columns: [
    { name: 'email', expr: txt(f('email')) },
    { name: 'customer_id', expr: int8(f('customerId')) },
    { name: 'total', expr: num(f('total')) },
    { name: 'recovered_order_id', expr: txt(f('recoveredOrderId')) },
    { name: 'hidden', expr: bool(f('hidden')) },
    { name: 'created_at', expr: time('createTimestamp', 'createDate') },
    { name: 'updated_at', expr: time('updateTimestamp', 'updateDate') },
  ],
  timed: true,
  children: [],
};

const productSpec: EntitySpec = {
  shape: 'entity',
  kind: 'product',
  table: 'products',
  key: { column: 'product_id', type: 'bigint' },
  fields: [
    'sku', 'name', 'price', 'quantity', 'unlimited', 'inStock', 'enabled', 'productClassId',
    'createTimestamp', 'updateTimestamp', 'created', 'updated', 'combinations', 'categoryIds',
  ],
  columns: [
    { name: 'sku', expr: txt(f('sku')) },
    { name: 'name', expr: txt(f('name')) },
    { name: 'price', expr: num(f('price')) },
    { name: 'quantity', expr: int4(f('quantity')) },
    { name: 'unlimited', expr: bool(f('unlimited')) },
    { name: 'in_stock', expr: bool(f('inStock')) },
    { name: 'enabled', expr: bool(f('enabled')) },
    { name: 'product_type_id', expr: int8(f('productClassId')) },
    { name: 'created_at', expr: time('createTimestamp', 'created') },
    { name: 'updated_at', expr: time('updateTimestamp', 'updated') },
  ],
  timed: true,
  children: [
    {
      table: 'product_variations',
      source: array(f('combinations')),
      fields: ['id', 'sku', 'price', 'defaultDisplayedPrice', 'quantity'],
      itemKey: { column: 'variation_id', expr: int8(xf('id')) },
      columns: [
        { name: 'sku', expr: txt(xf('sku')) },
        // A combination without its own price sells at the product's.
        { name: 'price', expr: `coalesce(${num(xf('price'))}, ${num(xf('defaultDisplayedPrice'))}, p.c_price)` },
        { name: 'quantity', expr: int4(xf('quantity')) },
      ],
    },
    {
      table: 'product_categories',
      source: array(f('categoryIds')),
      fields: [],
      itemKey: { column: 'category_id', expr: int8('x') },
      columns: [],
    },
  ],
};

const simple = (
  kind: ProjectedKind,
  table: string,
  keyColumn: string,
  columns: [name: string, cast: (jsonb: string) => string, field: string][],
  timed: false | { fields: [created: string, updated: string]; parse: 'date' | 'epoch' },
): EntitySpec => {
  const fields = columns.map(([, , field]) => field);
  const all: Column[] = columns.map(([name, cast, field]) => ({ name, expr: cast(f(field)) }));
  if (timed) {
    const parse = timed.parse === 'date' ? date : epoch;
    fields.push(...timed.fields);
    all.push({ name: 'created_at', expr: parse(f(timed.fields[0])) });
    all.push({ name: 'updated_at', expr: parse(f(timed.fields[1])) });
  }
  return { shape: 'entity', kind, table, key: { column: keyColumn, type: 'bigint' }, fields, columns: all, timed: timed !== false, children: [] };
};

const reviewSpec: EntitySpec = {
  shape: 'entity',
  kind: 'review',
  table: 'reviews',
  key: { column: 'review_id', type: 'bigint' },
  fields: ['productId', 'orderId', 'customerId', 'rating', 'status', 'createTimestamp', 'updateTimestamp', 'createDate', 'updateDate'],
  columns: [
    { name: 'product_id', expr: int8(f('productId')) },
    { name: 'order_id', expr: txt(f('orderId')) },
    { name: 'customer_id', expr: int8(f('customerId')) },
    { name: 'rating', expr: int4(f('rating')) },
    { name: 'status', expr: txt(f('status')) },
    { name: 'created_at', expr: time('createTimestamp', 'createDate') },
    { name: 'updated_at', expr: time('updateTimestamp', 'updateDate') },
  ],
  timed: true,
  children: [],
};

const customerSpec: EntitySpec = {
  shape: 'entity',
  kind: 'customer',
  table: 'customers',
  key: { column: 'customer_id', type: 'bigint' },
  fields: ['email', 'name', 'billingPerson', 'customerGroupId', 'registered', 'updated'],
  columns: [
    { name: 'email', expr: txt(f('email')) },
    { name: 'name', expr: `coalesce(${txt(`${f('billingPerson')}->'name'`)}, ${txt(f('name'))})` },
    { name: 'customer_group_id', expr: int8(f('customerGroupId')) },
    { name: 'created_at', expr: date(f('registered')) },
    { name: 'updated_at', expr: date(f('updated')) },
  ],
  timed: true,
  children: [],
};

const storeSpec: EntitySpec = {
  shape: 'entity',
  kind: 'store',
  table: 'stores',
  key: 'store',
  fields: ['status', 'at'],
  columns: [
    // Ecwid delivers out of order: the status follows the latest event time, not the latest
    // record (an uninstall redelivered after a reinstall leaves the store active). Ties: active.
    {
      name: 'status',
      expr: `(case when coalesce(max(case when ${txt(f('status'))} = 'active' then coalesce(${date(f('at'))}, b.fetched_at) end) over (partition by b.store_id), '-infinity') >= coalesce(max(case when ${txt(f('status'))} = 'uninstalled' then coalesce(${date(f('at'))}, b.fetched_at) end) over (partition by b.store_id), '-infinity') then 'active' else 'uninstalled' end)`,
      conflict: `(case when coalesce(greatest(t.installed_at, excluded.installed_at), '-infinity') >= coalesce(greatest(t.uninstalled_at, excluded.uninstalled_at), '-infinity') then 'active' else 'uninstalled' end)`,
    },
    // The latest install and uninstall seen, whatever the batch boundaries: max over the batch
    // here, greatest() with the stored value on conflict, so a rebuild gives the same row.
    {
      name: 'installed_at',
      expr: `max(case when ${txt(f('status'))} = 'active' then coalesce(${date(f('at'))}, b.fetched_at) end) over (partition by b.store_id)`,
      conflict: 'greatest(t.installed_at, excluded.installed_at)',
    },
    {
      name: 'uninstalled_at',
      expr: `max(case when ${txt(f('status'))} = 'uninstalled' then coalesce(${date(f('at'))}, b.fetched_at) end) over (partition by b.store_id)`,
      conflict: 'greatest(t.uninstalled_at, excluded.uninstalled_at)',
    },
  ],
  timed: false,
  tombstoneColumns: [{ name: 'status', expr: `'uninstalled'` }],
  children: [],
};

export const projectionSpecs: Record<ProjectedKind, ProjectionSpec> = {
  store: storeSpec,
  store_profile: {
    shape: 'entity',
    kind: 'store_profile',
    table: 'store_profiles',
    key: 'store',
    fields: ['generalInfo', 'account', 'settings', 'formatsAndUnits'],
    columns: [
      // The store's name is settings.storeName; account.accountName is the owner's, a fallback.
      { name: 'store_name', expr: `coalesce(${txt(`${f('settings')}->'storeName'`)}, ${txt(`${f('account')}->'accountName'`)})` },
      { name: 'store_url', expr: txt(`${f('generalInfo')}->'storeUrl'`) },
      { name: 'currency', expr: txt(`${f('formatsAndUnits')}->'currency'`) },
    ],
    timed: false,
    children: [],
  },
  app_subscription: {
    shape: 'entity',
    kind: 'app_subscription',
    table: 'app_subscriptions',
    key: 'store',
    fields: ['subscriptionStatus', 'subscription'],
    columns: [
      { name: 'status', expr: `coalesce(${txt(f('subscriptionStatus'))}, ${txt(`${f('subscription')}->'status'`)})` },
    ],
    timed: false,
    children: [],
  },
  app_storage: {
    shape: 'set',
    kind: 'app_storage',
    table: 'app_storage',
    key: 'store',
    elements: array('b.payload'),
    itemKey: { column: 'key', expr: `(case when jsonb_typeof(x->'key') = 'string' then x->>'key' end)` },
    columns: [
      {
        name: 'value',
        expr: `(case jsonb_typeof(x->'value') when 'string' then x->>'value' when 'null' then null else (x->'value')::text end)`,
      },
    ],
  },
  category: simple(
    'category',
    'categories',
    'category_id',
    [
      ['parent_id', int8, 'parentId'],
      ['name', txt, 'name'],
      ['enabled', bool, 'enabled'],
    ],
    false,
  ),
  product_type: simple('product_type', 'product_types', 'product_type_id', [['name', txt, 'name']], false),
  customer_group: simple('customer_group', 'customer_groups', 'customer_group_id', [['name', txt, 'name']], false),
  customer: customerSpec,
  product: productSpec,
  discount_coupon: simple(
    'discount_coupon',
    'discount_coupons',
    'coupon_id',
    [
      ['code', txt, 'code'],
      ['name', txt, 'name'],
      ['discount_type', txt, 'discountType'],
      ['discount', num, 'discount'],
      ['status', txt, 'status'],
      ['order_count', int4, 'orderCount'],
    ],
    { fields: ['creationDate', 'updateDate'], parse: 'date' },
  ),
  promotion: simple(
    'promotion',
    'promotions',
    'promotion_id',
    [
      ['name', txt, 'name'],
      ['enabled', bool, 'enabled'],
      ['discount_type', txt, 'discountType'],
      ['amount', num, 'amount'],
    ],
    false,
  ),
  order: orderSpec,
  invoice: {
    shape: 'set',
    kind: 'invoice',
    table: 'invoices',
    key: { column: 'order_id', type: 'text' },
    elements: array(`b.payload->'invoices'`),
    itemKey: { column: 'invoice_id', expr: `(case when jsonb_typeof(x->'id') in ('string', 'number') then x->>'id' end)` },
    columns: [
      { name: 'type', expr: txt(`x->'type'`) },
      { name: 'created_at', expr: date(`x->'created'`) },
      { name: 'link', expr: txt(`x->'link'`) },
    ],
  },
  abandoned_cart: cartSpec,
  review: reviewSpec,
};

/** The tables a kind writes (its family), for rebuilding a subset. */
export function tablesOf(kind: ProjectedKind): string[] {
  const spec = projectionSpecs[kind];
  return spec.shape === 'set' ? [spec.table] : [spec.table, ...spec.children.map((c) => c.table)];
}
