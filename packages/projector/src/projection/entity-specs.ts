import { entityCatalog, type EntityCatalog, type Kind, type KindDecl } from '@mirror/catalog';
import {
  abandonedCartItemsTable,
  appStorageTable,
  invoicesTable,
  orderItemsTable,
  orderRefundsTable,
  productCategoriesTable,
  productVariationsTable,
} from '@mirror/db';
import { getTableColumns, getTableName } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import { array, bool, date, epoch, int4, int8, num, txt } from './sql-casts.ts';

/*
 * How each entity kind's snapshot document maps to its table(s), as SQL expressions
 * (docs/decisions/0002-snapshots-in-the-log.md). The tables, keys and child tables come from the
 * entity catalogue; here each table column gets its expression, keyed by the drizzle column, and
 * every column must have one: a column added to the schema is a compile error here until it is
 * mapped. Terminology:
 * - entity: one row per key, newer wins (by Ecwid's update time when `timed`, else by position);
 * - child: rows derived from an array in the parent's document, replaced with the parent;
 * - set: a document that is the whole list of rows for its key (invoices of an order, a store's
 *   app storage), replaced when a later snapshot of the key is applied.
 * Column expressions read `r."field"` (the document's top-level fields as jsonb, extracted in
 * one pass by jsonb_to_record) and `b` (the event_log record); child columns read `xr."field"`
 * (the array element's fields listed in `fields`, likewise extracted once), `x` (the element
 * itself) and `p` (the parent's computed columns, `p.c_<column>`).
 */

export type Column = {
  name: string;
  expr: string;
  /** The value on conflict (default `excluded.<name>`). */
  conflict?: string;
  /**
   * Read from other log records (over `b`, the record), not from the document alone: computed
   * only when a record is projected, never recomputed from a rewritten document.
   */
  fromLog?: boolean;
  /**
   * The same value as `expr`, computed in a rebuild's bulk load (bulkSnapshotStatement) from
   * tables the rebuild prepared in its schema (given) before loading, from the record's worklist
   * row (`w`) and from what the spec's `bulkJoin` joins: a `fromLog` lookup that costs a scan of
   * the log per row, made an index probe into a small table.
   */
  bulk?: (schema: string) => string;
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
  kind: Kind;
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
  /**
   * A data-modifying CTE run with the snapshot statement (over `applied`, the rows it wrote, and
   * `pick`, their computed columns), given the schema; not part of a rebuild's bulk load.
   */
  afterApply?: (schema: string) => string;
  /**
   * Joined to each record in a rebuild's bulk load (bulkSnapshotStatement), over `b` and the
   * worklist row `w`, given the rebuild's schema: what the columns' `bulk` expressions read.
   */
  bulkJoin?: (schema: string) => string;
};

export type SetSpec = {
  shape: 'set';
  kind: Kind;
  table: string;
  key: { column: string; type: 'text' } | 'store';
  /** The jsonb array of rows, over `b.payload`. */
  elements: string;
  itemKey: { column: string; expr: string };
  columns: Column[];
};

export type ProjectionSpec = EntitySpec | SetSpec;

// ---- Typing: every computed column of a table has exactly one expression. ----

type Columns<T extends PgTable> = T['_']['columns'];
type SqlName<C> = C extends { _: { name: infer N extends string } } ? N : never;
/** Columns projection fills the same way for every table (projectedColumns in @mirror/db). */
type Bookkeeping = 'storeId' | 'doc' | 'deletedAt' | 'sourcePosition' | 'syncedAt';
/** A table's columns computed from a document: all but the store, the keys named, and bookkeeping. */
type Computed<T extends PgTable, Keys extends string> = {
  [C in keyof Columns<T>]: C extends Bookkeeping ? never : SqlName<Columns<T>[C]> extends Keys ? never : C;
}[keyof Columns<T>];
/** An expression, or one with its own value on conflict, or one read from the log. */
type Expr = string | { expr: string; conflict?: string; fromLog?: boolean; bulk?: (schema: string) => string };
type ColumnMap<T extends PgTable, Keys extends string> = { [C in Computed<T, Keys>]: Expr };
/** The SQL name of a kind's key column (never for one row per store). */
type KeyOf<K extends Kind> = SqlName<EntityCatalog[K]['key']>;
type TableOf<K extends Kind> = EntityCatalog[K]['table'];

/** Columns by their drizzle keys, in the map's order, with SQL names from the schema. */
function columnsOf(table: PgTable, map: Partial<Record<string, Expr>>): Column[] {
  const columns = getTableColumns(table) as Record<string, AnyPgColumn>;
  return Object.entries(map).map(([key, expr]) => {
    const column = columns[key];
    if (!column) throw new Error(`${getTableName(table)} has no column ${key}`);
    return typeof expr === 'string' ? { name: column.name, expr } : { name: column.name, ...expr! };
  });
}

function keyOf(kind: Kind): EntitySpec['key'] {
  const key = entityCatalog[kind].key;
  if (key === 'store') return 'store';
  return { column: key.name, type: key.getSQLType() === 'bigint' ? 'bigint' : 'text' };
}

/** A child table of the kind (declared in the catalogue), its rows computed from `source`. */
function child<T extends PgTable, K extends Kind>(
  kind: K,
  table: T,
  def: {
    source: string;
    fields: string[];
    itemKey: string;
    columns: ColumnMap<T, KeyOf<K> | SqlName<EntityCatalog[K]['children'][number]['itemKey']>>;
  },
): ChildSpec {
  const decl = (entityCatalog[kind].children as readonly { table: PgTable; itemKey: AnyPgColumn }[]).find((c) => c.table === table);
  if (!decl) throw new Error(`the catalogue declares no child table ${getTableName(table)} of ${kind}`);
  return {
    table: getTableName(table),
    source: def.source,
    fields: def.fields,
    itemKey: { column: decl.itemKey.name, expr: def.itemKey },
    columns: columnsOf(table, def.columns as Partial<Record<string, Expr>>),
  };
}

/** An entity kind's spec: its table and key from the catalogue, its columns from `columns`. */
function entity<K extends Kind>(
  kind: K,
  def: {
    fields: string[];
    columns: ColumnMap<TableOf<K>, KeyOf<K>>;
    timed: boolean;
    tombstoneColumns?: Partial<ColumnMap<TableOf<K>, KeyOf<K>>>;
    children?: ChildSpec[];
    afterApply?: (schema: string) => string;
    bulkJoin?: (schema: string) => string;
  },
): EntitySpec {
  const decl = entityCatalog[kind];
  if (decl.shape !== 'entity') throw new Error(`${kind} is declared a set`);
  const declared = decl.children.map((c) => getTableName(c.table)).sort();
  const children = def.children ?? [];
  if (
    children
      .map((c) => c.table)
      .sort()
      .join() !== declared.join()
  )
    throw new Error(`${kind}: child tables differ from the catalogue's`);
  return {
    shape: 'entity',
    kind,
    table: getTableName(decl.table),
    key: keyOf(kind),
    fields: def.fields,
    columns: columnsOf(decl.table, def.columns as Partial<Record<string, Expr>>),
    timed: def.timed,
    ...(def.tombstoneColumns && { tombstoneColumns: columnsOf(decl.table, def.tombstoneColumns as Partial<Record<string, Expr>>) }),
    children,
    ...(def.afterApply && { afterApply: def.afterApply }),
    ...(def.bulkJoin && { bulkJoin: def.bulkJoin }),
  };
}

/** A set kind's spec: the rows are the elements of `elements`, keyed by `itemKey`. */
function set<K extends Kind, I extends AnyPgColumn>(
  kind: K,
  def: { elements: string; itemKey: { column: I; expr: string }; columns: ColumnMap<TableOf<K>, KeyOf<K> | SqlName<I>> },
): SetSpec {
  const decl = entityCatalog[kind];
  if (decl.shape !== 'set') throw new Error(`${kind} is declared an entity`);
  const key = keyOf(kind);
  if (key !== 'store' && key.type !== 'text') throw new Error(`${kind}: a set is keyed by text or by store`);
  return {
    shape: 'set',
    kind,
    table: getTableName(decl.table),
    key: key as SetSpec['key'],
    elements: def.elements,
    itemKey: { column: def.itemKey.column.name, expr: def.itemKey.expr },
    columns: columnsOf(decl.table, def.columns as Partial<Record<string, Expr>>),
  };
}

// ---- The specs. ----

const f = (field: string) => `r."${field}"`;
/** A child element's field (listed in its ChildSpec's `fields`). */
const xf = (field: string) => `xr."${field}"`;
const time = (seconds: string, text: string) => `coalesce(${epoch(f(seconds))}, ${date(f(text))})`;

/** The sum of a jsonb array's elements' `field` (or of the elements themselves when numbers), null when no array. */
const sumOf = (arrayExpr: string, element: (x: string) => string) =>
  `(select sum(${element('e.x')}) from jsonb_array_elements(${array(arrayExpr)}) e(x))`;
const moneyOf = (x: string) => `coalesce(${num(x)}, ${num(`${x}->'total'`)}, ${num(`${x}->'value'`)})`;
/** In a tax-inclusive order, `value` less its listed taxes; otherwise `value` as it is. */
const withoutTax = (withoutTaxField: string, value: string, taxes: string) =>
  `coalesce(${num(withoutTaxField)}, case when ${bool(f('pricesIncludeTax'))} then ${value} - coalesce(${sumOf(taxes, (x) => num(`${x}->'total'`))}, 0) else ${value} end)`;

/*
 * The store's currency and time zone for an order or an abandoned cart come from the store
 * profile, a snapshot in the same log (decision 0009): the latest profile snapshot before the
 * entity's FIRST snapshot, else (no profile yet) the store's earliest one. Both read the log,
 * never the tables, so the value is the same whatever order a projection or a rebuild's parallel
 * shares apply records in, and a later snapshot of the same entity (or a later currency change)
 * never changes it.
 */
const profileOf = (kind: StoreProfileKind, field: 'currency' | 'timezone') => {
  const value = `pf.payload->'formatsAndUnits'->'${field}'`;
  const firstSnapshot = `(select min(fs.position) from event_log fs where fs.store_id = b.store_id and fs.entity_kind = '${kind}'
      and fs.entity_id = b.entity_id and fs.kind = 'snapshot')`;
  const profile = (where: string, order: string) => `(select ${txt(value)} from event_log pf
      where pf.store_id = b.store_id and pf.entity_kind = 'store_profile' and pf.kind = 'snapshot'
        and jsonb_typeof(${value}) = 'string' ${where} order by pf.position ${order} limit 1)`;
  const found = `coalesce(${profile(`and pf.position < ${firstSnapshot}`, 'desc')}, ${profile('', 'asc')})`;
  const valid = (text: string) => (field === 'timezone' ? `public.valid_timezone(${text})` : text);
  return {
    expr: valid(found),
    fromLog: true,
    // The log has no index by (store, kind, position): `found` reads every profile snapshot of the
    // store before the order's first one, each document decompressed, so a rebuild's cost grew
    // with the log's profiles times its orders. The bulk load reads the same value from `pv`, the
    // row of storeProfileTimeline that the order's EntitySpec.bulkJoin found: the last one before
    // the order's first snapshot (`w.first_snapshot`, from its worklist row), which holds what
    // `found` gives for a first snapshot after it. The timeline holds every profile snapshot up to
    // the rebuild's head; an order loaded in bulk is at or before that head, so are its first
    // snapshot and every profile before it. Only a store without a value there needs the log:
    // its earliest profile is then one appended since.
    bulk: () => valid(`coalesce(pv.${field}, ${profile('', 'asc')})`),
  };
};

/** The kinds that take the store's currency and time zone from its profile in the log (profileOf). */
const storeProfileKinds = ['order', 'abandoned_cart'] as const;
type StoreProfileKind = (typeof storeProfileKinds)[number];
export const takesStoreProfile = (kind: Kind): boolean => (storeProfileKinds as readonly Kind[]).includes(kind);

/** A rebuild's table of the store profiles' currency and time zone along the log (see storeProfileTimelineStatements). */
export const storeProfileTimeline = 'store_profile_timeline';

/** What profileOf's `bulk` expressions read as `pv`: one probe of storeProfileTimeline for both fields. */
const storeProfileJoin = (schema: string) => `left join lateral (select t.currency, t.timezone from "${schema}"."${storeProfileTimeline}" t
    where t.store_id = b.store_id and t.position < w.first_snapshot order by t.position desc limit 1) pv on true`;

/**
 * Creates `storeProfileTimeline` in `schema` from the profile snapshots up to `to`: for each
 * store with one, a row at position 0 and one at each profile snapshot's position, holding what
 * profileOf gives an order whose first snapshot comes right after that position: the latest
 * string value up to it, else the store's earliest one (the row at 0 holds just that). One
 * index probe per order (the last row before its first snapshot) then gives both fields, where
 * a look-up per field, each falling back to another, took up to three.
 */
export function storeProfileTimelineStatements(schema: string, to: number): string[] {
  const value = (field: string) => `payload->'formatsAndUnits'->'${field}'`;
  const text = (field: string) => `(case when jsonb_typeof(${value(field)}) = 'string' then ${txt(value(field))} end)`;
  const table = `"${schema}"."${storeProfileTimeline}"`;
  return [
    `create table if not exists ${table} as
       with v as (
         select store_id, position, ${text('currency')} as currency, ${text('timezone')} as timezone from event_log
         where entity_kind = 'store_profile' and kind = 'snapshot' and position <= ${Math.trunc(to)}
       ),
       -- Each string value starts a group that runs until the next one: its first row holds it.
       grouped as (
         select v.*, count(currency) over (partition by store_id order by position) as gc,
           count(timezone) over (partition by store_id order by position) as gz
         from v
       ),
       earliest as (
         select distinct on (store_id) store_id,
           first_value(currency) over (partition by store_id order by currency is null, position) as currency,
           first_value(timezone) over (partition by store_id order by timezone is null, position) as timezone
         from v
       )
       select g.store_id, g.position,
         coalesce(first_value(g.currency) over (partition by g.store_id, g.gc order by g.position), e.currency) as currency,
         coalesce(first_value(g.timezone) over (partition by g.store_id, g.gz order by g.position), e.timezone) as timezone
       from grouped g join earliest e on e.store_id = g.store_id
       union all
       select store_id, 0, currency, timezone from earliest`,
    `create index if not exists ${storeProfileTimeline}_idx on ${table} (store_id, position)`,
    // Without statistics the planner may sort the table for every order instead of probing the index.
    `analyze ${table}`,
  ];
}

/**
 * The refund an order document implies without listing it: `refundedAmount`, or for `REFUNDED`
 * the whole total sales; null when it lists its refunds or implies none. `field` reads a field.
 */
const impliedRefund = (field: (name: string) => string) =>
  `(case when jsonb_array_length(coalesce(${array(field('refunds'))}, '[]')) > 0 then null
    when ${num(field('refundedAmount'))} > 0 then ${num(field('refundedAmount'))}
    when ${txt(field('paymentStatus'))} = 'REFUNDED' then coalesce(${num(field('total'))}, 0) + coalesce(${num(field('giftCardRedemption'))}, 0)
  end)`;

/**
 * Refunds as Ecwid lists them. An order that implies refunds without listing them gets one row
 * per increase of the implied amount, dated by the snapshot of the order that first showed it:
 * refunded 4 on the 5th, then up to 7 on the 1st, is 4 on the 5th and 3 on the 1st. Not dated by
 * this record: `updateDate` moves with every later edit of the order (a comment, a shipment),
 * and a refund dated by it would move from one closed day to another. The increases are counted
 * from the order's last snapshot that implied none (or listed its refunds), or whose amount went
 * down (then all of it is dated there). Read from the log up to this record, so projection and
 * the rebuild give the same rows.
 */
const refundsOf = () => {
  const implied = impliedRefund(f);
  const history = `select h.position, h.payload, ${impliedRefund((name) => `h.payload->'${name}'`)} as amount
      from event_log h where h.store_id = b.store_id and h.entity_kind = 'order' and h.entity_id = b.entity_id
        and h.kind = 'snapshot' and h.position <= b.position`;
  const increases = `(with hist as (select x.*, lag(x.amount) over (order by x.position) as before from (${history}) x),
      since as (select coalesce(max(case when amount is null then position + 1 when amount < before then position end), 0) as p from hist),
      run as (select hist.position, hist.payload, hist.amount - coalesce(lag(hist.amount) over (order by hist.position), 0) as delta
        from hist, since where hist.position >= since.p)
    select jsonb_agg(jsonb_build_object('amount', delta, 'date', payload->'updateDate', 'timestamp', payload->'updateTimestamp',
        'source', 'inferred') order by position)
    from run where delta > 0)`;
  return `(case when jsonb_array_length(coalesce(${array(f('refunds'))}, '[]')) > 0 then ${f('refunds')}
    when ${implied} is not null then ${increases}
  end)`;
};

const orderSpec = entity('order', {
  fields: [
    'internalId',
    'orderNumber',
    'email',
    'customerId',
    'paymentStatus',
    'fulfillmentStatus',
    'total',
    'subtotal',
    'tax',
    'refundedAmount',
    'refunds',
    'discountCoupon',
    'hidden',
    'createTimestamp',
    'updateTimestamp',
    'createDate',
    'updateDate',
    'items',
    'pricesIncludeTax',
    'couponDiscount',
    'volumeDiscount',
    'membershipBasedDiscount',
    'customDiscount',
    'discount',
    'giftCardRedemption',
    'shippingOption',
    'handlingFee',
    'customSurcharges',
    'taxesOnShipping',
    'paymentMethod',
    'billingPerson',
    'shippingPerson',
  ],
  columns: {
    internalId: int8(f('internalId')),
    orderNumber: int8(f('orderNumber')),
    email: txt(f('email')),
    customerId: int8(f('customerId')),
    paymentStatus: txt(f('paymentStatus')),
    fulfillmentStatus: txt(f('fulfillmentStatus')),
    total: num(f('total')),
    subtotal: num(f('subtotal')),
    tax: num(f('tax')),
    // Ecwid's own figure when present, else the refunds it lists.
    refundedAmount: `coalesce(${num(f('refundedAmount'))}, (select sum(${num(`x->'amount'`)}) from jsonb_array_elements(${array(f('refunds'))}) x))`,
    couponCode: txt(`${f('discountCoupon')}->'code'`),
    couponName: txt(`${f('discountCoupon')}->'name'`),
    currency: profileOf('order', 'currency'),
    timezone: profileOf('order', 'timezone'),
    hidden: bool(f('hidden')),
    pricesIncludeTax: bool(f('pricesIncludeTax')),
    couponDiscount: num(f('couponDiscount')),
    volumeDiscount: num(f('volumeDiscount')),
    membershipDiscount: num(f('membershipBasedDiscount')),
    customDiscount: sumOf(f('customDiscount'), moneyOf),
    discount: num(f('discount')),
    giftCardRedemption: num(f('giftCardRedemption')),
    shippingMethod: txt(`${f('shippingOption')}->'shippingMethodName'`),
    shippingRate: num(`${f('shippingOption')}->'shippingRate'`),
    shippingWithoutTax: `(case when jsonb_typeof(${f('shippingOption')}) = 'object' then ${withoutTax(
      `${f('shippingOption')}->'shippingRateWithoutTax'`,
      `coalesce(${num(`${f('shippingOption')}->'shippingRate'`)}, 0)`,
      f('taxesOnShipping'),
    )} end)`,
    handlingFee: num(`${f('handlingFee')}->'value'`),
    handlingFeeWithoutTax: `(case when jsonb_typeof(${f('handlingFee')}) = 'object' then ${withoutTax(
      `${f('handlingFee')}->'valueWithoutTax'`,
      `coalesce(${num(`${f('handlingFee')}->'value'`)}, 0)`,
      `${f('handlingFee')}->'taxes'`,
    )} end)`,
    surcharges: sumOf(f('customSurcharges'), (x) => num(`${x}->'total'`)),
    surchargesWithoutTax: sumOf(f('customSurcharges'), (x) => `coalesce(${num(`${x}->'totalWithoutTax'`)}, ${num(`${x}->'total'`)})`),
    paymentMethod: txt(f('paymentMethod')),
    billingCountry: txt(`${f('billingPerson')}->'countryCode'`),
    billingRegion: txt(`${f('billingPerson')}->'stateOrProvinceCode'`),
    shippingCountry: txt(`${f('shippingPerson')}->'countryCode'`),
    shippingRegion: txt(`${f('shippingPerson')}->'stateOrProvinceCode'`),
    createdAt: time('createTimestamp', 'createDate'),
    updatedAt: time('updateTimestamp', 'updateDate'),
  },
  timed: true,
  bulkJoin: storeProfileJoin,
  // A deleted order the mirror never saw still has its store's currency (0009).
  tombstoneColumns: {
    internalId: int8(`b.payload->'internalId'`),
    currency: { expr: profileOf('order', 'currency').expr, fromLog: true },
    timezone: { expr: profileOf('order', 'timezone').expr, fromLog: true },
  },
  children: [
    child('order', orderItemsTable, {
      source: array(f('items')),
      fields: ['id', 'productId', 'sku', 'name', 'quantity', 'price', 'priceWithoutTax', 'tax', 'combinationId', 'selectedOptions'],
      itemKey: int8(xf('id')),
      columns: {
        productId: int8(xf('productId')),
        sku: txt(xf('sku')),
        name: txt(xf('name')),
        quantity: int4(xf('quantity')),
        price: num(xf('price')),
        priceWithoutTax: num(xf('priceWithoutTax')),
        tax: num(xf('tax')),
        combinationId: int8(xf('combinationId')),
        options: array(xf('selectedOptions')),
      },
    }),
    child('order', orderRefundsTable, {
      source: refundsOf(),
      fields: ['date', 'timestamp', 'amount', 'reason', 'source'],
      itemKey: 'ord::bigint',
      columns: {
        refundedAt: `coalesce(${date(xf('date'))}, ${epoch(xf('timestamp'))})`,
        amount: num(xf('amount')),
        reason: txt(xf('reason')),
        source: txt(xf('source')),
      },
    }),
  ],
});

const cartSpec = entity('abandoned_cart', {
  fields: [
    'email',
    'customerId',
    'total',
    'recoveredOrderId',
    'hidden',
    'createTimestamp',
    'updateTimestamp',
    'createDate',
    'updateDate',
    'items',
  ],
  columns: {
    email: txt(f('email')),
    customerId: int8(f('customerId')),
    total: num(f('total')),
    // A cart has no currency or time zone of its own: the store's, as for an order.
    currency: profileOf('abandoned_cart', 'currency'),
    timezone: profileOf('abandoned_cart', 'timezone'),
    recoveredOrderId: txt(f('recoveredOrderId')),
    hidden: bool(f('hidden')),
    createdAt: time('createTimestamp', 'createDate'),
    updatedAt: time('updateTimestamp', 'updateDate'),
  },
  timed: true,
  bulkJoin: storeProfileJoin,
  // A deleted cart the mirror never saw still has its store's currency, as an order does: else a
  // profile applied after the tombstone filled it live (fill_carts), and a rebuild, applying the
  // profile first, left it empty.
  tombstoneColumns: {
    currency: { expr: profileOf('abandoned_cart', 'currency').expr, fromLog: true },
    timezone: { expr: profileOf('abandoned_cart', 'timezone').expr, fromLog: true },
  },
  children: [
    child('abandoned_cart', abandonedCartItemsTable, {
      source: array(f('items')),
      fields: ['id', 'productId', 'combinationId', 'sku', 'name', 'quantity', 'price', 'selectedOptions'],
      // A line without an id is keyed by its place in the cart.
      itemKey: `coalesce(${int8(xf('id'))}, ord::bigint)`,
      columns: {
        productId: int8(xf('productId')),
        combinationId: int8(xf('combinationId')),
        sku: txt(xf('sku')),
        name: txt(xf('name')),
        quantity: int4(xf('quantity')),
        price: num(xf('price')),
        options: array(xf('selectedOptions')),
      },
    }),
  ],
});

const productSpec = entity('product', {
  fields: [
    'sku',
    'name',
    'price',
    'quantity',
    'unlimited',
    'inStock',
    'enabled',
    'productClassId',
    'createTimestamp',
    'updateTimestamp',
    'created',
    'updated',
    'combinations',
    'categoryIds',
  ],
  columns: {
    sku: txt(f('sku')),
    name: txt(f('name')),
    price: num(f('price')),
    quantity: int4(f('quantity')),
    unlimited: bool(f('unlimited')),
    inStock: bool(f('inStock')),
    enabled: bool(f('enabled')),
    productTypeId: int8(f('productClassId')),
    createdAt: time('createTimestamp', 'created'),
    updatedAt: time('updateTimestamp', 'updated'),
  },
  timed: true,
  children: [
    child('product', productVariationsTable, {
      source: array(f('combinations')),
      fields: ['id', 'sku', 'price', 'defaultDisplayedPrice', 'quantity'],
      itemKey: int8(xf('id')),
      columns: {
        sku: txt(xf('sku')),
        // A combination without its own price sells at the product's.
        price: `coalesce(${num(xf('price'))}, ${num(xf('defaultDisplayedPrice'))}, p.c_price)`,
        quantity: int4(xf('quantity')),
      },
    }),
    child('product', productCategoriesTable, { source: array(f('categoryIds')), fields: [], itemKey: int8('x'), columns: {} }),
  ],
});

const reviewSpec = entity('review', {
  fields: ['productId', 'orderId', 'customerId', 'rating', 'status', 'createTimestamp', 'updateTimestamp', 'createDate', 'updateDate'],
  columns: {
    productId: int8(f('productId')),
    orderId: txt(f('orderId')),
    customerId: int8(f('customerId')),
    rating: int4(f('rating')),
    status: txt(f('status')),
    createdAt: time('createTimestamp', 'createDate'),
    updatedAt: time('updateTimestamp', 'updateDate'),
  },
  timed: true,
});

const customerSpec = entity('customer', {
  fields: ['email', 'name', 'billingPerson', 'customerGroupId', 'registered', 'updated'],
  columns: {
    email: txt(f('email')),
    name: `coalesce(${txt(`${f('billingPerson')}->'name'`)}, ${txt(f('name'))})`,
    customerGroupId: int8(f('customerGroupId')),
    createdAt: date(f('registered')),
    updatedAt: date(f('updated')),
  },
  timed: true,
});

const installedWhen = (status: 'active' | 'uninstalled') =>
  `max(case when ${txt(f('status'))} = '${status}' then coalesce(${date(f('at'))}, b.fetched_at) end) over (partition by b.store_id)`;

const storeSpec = entity('store', {
  fields: ['status', 'at'],
  columns: {
    // Ecwid delivers out of order: the status follows the latest event time, not the latest
    // record (an uninstall redelivered after a reinstall leaves the store active). Ties: active.
    status: {
      expr: `(case when coalesce(${installedWhen('active')}, '-infinity') >= coalesce(${installedWhen('uninstalled')}, '-infinity') then 'active' else 'uninstalled' end)`,
      conflict: `(case when coalesce(greatest(t.installed_at, excluded.installed_at), '-infinity') >= coalesce(greatest(t.uninstalled_at, excluded.uninstalled_at), '-infinity') then 'active' else 'uninstalled' end)`,
    },
    // The latest install and uninstall seen, whatever the batch boundaries: max over the batch
    // here, greatest() with the stored value on conflict, so a rebuild gives the same row.
    installedAt: { expr: installedWhen('active'), conflict: 'greatest(t.installed_at, excluded.installed_at)' },
    uninstalledAt: { expr: installedWhen('uninstalled'), conflict: 'greatest(t.uninstalled_at, excluded.uninstalled_at)' },
  },
  timed: false,
  tombstoneColumns: { status: `'uninstalled'` },
});

/** Every kind's spec: a kind declared in the catalogue without one here is a compile error. */
export const projectionSpecs = {
  store: storeSpec,
  store_profile: entity('store_profile', {
    fields: ['generalInfo', 'account', 'settings', 'formatsAndUnits'],
    columns: {
      // The store's name is settings.storeName; account.accountName is the owner's, a fallback.
      storeName: `coalesce(${txt(`${f('settings')}->'storeName'`)}, ${txt(`${f('account')}->'accountName'`)})`,
      storeUrl: txt(`${f('generalInfo')}->'storeUrl'`),
      currency: txt(`${f('formatsAndUnits')}->'currency'`),
      timezone: `public.valid_timezone(${txt(`${f('formatsAndUnits')}->'timezone'`)})`,
    },
    timed: false,
    // Orders and carts projected before the store had any profile in the log take this one's
    // currency and time zone: the same as profileOf() computes for them (the store's earliest
    // profile), so a rebuild gives the same rows.
    afterApply: (schema) => `
fill_orders as (
  update "${schema}"."orders" o set currency = p.c_currency, timezone = coalesce(o.timezone, p.c_timezone)
  from applied a join pick p on p.store_id = a.k
  where o.store_id = a.k and o.currency is null and p.c_currency is not null
),
fill_carts as (
  update "${schema}"."abandoned_carts" c set currency = p.c_currency, timezone = coalesce(c.timezone, p.c_timezone)
  from applied a join pick p on p.store_id = a.k
  where c.store_id = a.k and c.currency is null and p.c_currency is not null
)`,
  }),
  app_subscription: entity('app_subscription', {
    fields: ['subscriptionStatus', 'subscription'],
    columns: {
      status: `coalesce(${txt(f('subscriptionStatus'))}, ${txt(`${f('subscription')}->'status'`)})`,
    },
    timed: false,
    // Ended by a confirmed uninstall: Ecwid refuses to say, so no status is claimed.
    tombstoneColumns: { status: 'null' },
  }),
  app_storage: set('app_storage', {
    elements: array('b.payload'),
    itemKey: { column: appStorageTable.key, expr: `(case when jsonb_typeof(x->'key') = 'string' then x->>'key' end)` },
    columns: {
      value: `(case jsonb_typeof(x->'value') when 'string' then x->>'value' when 'null' then null else (x->'value')::text end)`,
    },
  }),
  category: entity('category', {
    fields: ['parentId', 'name', 'enabled'],
    columns: { parentId: int8(f('parentId')), name: txt(f('name')), enabled: bool(f('enabled')) },
    timed: false,
  }),
  product_type: entity('product_type', { fields: ['name'], columns: { name: txt(f('name')) }, timed: false }),
  customer_group: entity('customer_group', { fields: ['name'], columns: { name: txt(f('name')) }, timed: false }),
  customer: customerSpec,
  product: productSpec,
  discount_coupon: entity('discount_coupon', {
    fields: ['code', 'name', 'discountType', 'discount', 'status', 'orderCount', 'creationDate', 'updateDate'],
    columns: {
      code: txt(f('code')),
      name: txt(f('name')),
      discountType: txt(f('discountType')),
      discount: num(f('discount')),
      status: txt(f('status')),
      orderCount: int4(f('orderCount')),
      createdAt: date(f('creationDate')),
      updatedAt: date(f('updateDate')),
    },
    timed: true,
  }),
  promotion: entity('promotion', {
    fields: ['name', 'enabled', 'discountType', 'amount'],
    columns: { name: txt(f('name')), enabled: bool(f('enabled')), discountType: txt(f('discountType')), amount: num(f('amount')) },
    timed: false,
  }),
  order: orderSpec,
  invoice: set('invoice', {
    elements: array(`b.payload->'invoices'`),
    itemKey: { column: invoicesTable.invoiceId, expr: `(case when jsonb_typeof(x->'id') in ('string', 'number') then x->>'id' end)` },
    columns: {
      type: txt(`x->'type'`),
      createdAt: date(`x->'created'`),
      link: txt(`x->'link'`),
    },
  }),
  abandoned_cart: cartSpec,
  review: reviewSpec,
} as const satisfies Record<Kind, ProjectionSpec>;

/** The tables a kind writes (its family, and its stored list renderings), for rebuilding a subset. */
export function tablesOf(kind: Kind): string[] {
  const spec: ProjectionSpec = projectionSpecs[kind];
  const rendered = (entityCatalog[kind] as KindDecl).rendered;
  const family = spec.shape === 'set' ? [spec.table] : [spec.table, ...spec.children.map((c) => c.table)];
  return rendered ? [...family, getTableName(rendered)] : family;
}
