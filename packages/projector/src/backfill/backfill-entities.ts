import type { DeletedEntity, EcwidClient } from '@mirror/ecwid';
import type { RecordEntityKind } from '../enrichment/append-records.ts';

/** What `backfill` can walk, in the order it walks them (parents before children). */
export const backfillEntities = [
  'profile',
  'application',
  'storage',
  'product_types',
  'categories',
  'products',
  'customer_groups',
  'customers',
  'coupons',
  'promotions',
  'orders',
  'carts',
  'reviews',
] as const;
export type BackfillEntity = (typeof backfillEntities)[number];

type Page = { items: readonly unknown[]; total: number };
type Doc = Record<string, unknown>;

export type BackfillSpec = {
  kind: RecordEntityKind;
  /** Ecwid has `updatedFrom` for it (§4.4): a re-run asks only for what changed. */
  incremental: boolean;
  deleted?: DeletedEntity;
  page(client: EcwidClient, params: { offset: number; updatedFrom?: Date | undefined }): Promise<Page>;
  key(doc: Doc, storeId: number): string;
  /** Ecwid's update time of a document, UNIX seconds. */
  updatedAt?(doc: Doc): number | undefined;
};

const all = (items: readonly unknown[]): Page => ({ items, total: items.length });
const once = async (offset: number, read: () => Promise<readonly unknown[]>): Promise<Page> => (offset > 0 ? { items: [], total: 0 } : all(await read()));
const id = (doc: Doc) => String(doc.id);
const store = (_doc: Doc, storeId: number) => String(storeId);
const stamp = (doc: Doc) => (typeof doc.updateTimestamp === 'number' ? doc.updateTimestamp : undefined);
const dateString = (field: string) => (doc: Doc) => {
  const value = doc[field];
  if (typeof value !== 'string') return undefined;
  // Ecwid's `2024-09-04 07:26:24 +0000` (§4.1).
  const ms = Date.parse(value.replace(' ', 'T').replace(/ ([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
};

/** How each entity is listed, keyed and time-stamped. */
export const backfillSpecs: Record<BackfillEntity, BackfillSpec> = {
  profile: { kind: 'store_profile', incremental: false, key: store, page: (c, p) => once(p.offset, async () => [await c.getProfile()]) },
  application: { kind: 'app_subscription', incremental: false, key: store, page: (c, p) => once(p.offset, async () => [await c.getApplication()]) },
  // One snapshot holds every key: the storage table is replaced as a whole (0002).
  storage: { kind: 'app_storage', incremental: false, key: store, page: (c, p) => once(p.offset, async () => [await c.getStorage()]) },
  product_types: { kind: 'product_type', incremental: false, key: id, page: (c, p) => once(p.offset, () => c.listProductTypes()) },
  promotions: { kind: 'promotion', incremental: false, key: id, page: (c, p) => once(p.offset, async () => (await c.searchPromotions()).items) },
  categories: { kind: 'category', incremental: false, key: id, page: (c, p) => c.searchCategories({ offset: p.offset }) },
  customer_groups: { kind: 'customer_group', incremental: false, key: id, page: (c, p) => c.searchCustomerGroups({ offset: p.offset }) },
  products: {
    kind: 'product',
    incremental: true,
    deleted: 'products',
    key: id,
    updatedAt: stamp,
    page: (c, p) => c.searchProducts({ offset: p.offset, sortBy: 'UPDATED_TIME_ASC', ...(p.updatedFrom && { updatedFrom: p.updatedFrom }) }),
  },
  customers: {
    kind: 'customer',
    incremental: true,
    deleted: 'customers',
    key: id,
    updatedAt: dateString('updated'),
    page: (c, p) => c.searchCustomers({ offset: p.offset, sortBy: 'UPDATED_DATE_ASC', ...(p.updatedFrom && { updatedFrom: p.updatedFrom }) }),
  },
  coupons: {
    kind: 'discount_coupon',
    incremental: true,
    deleted: 'coupons',
    key: id,
    updatedAt: dateString('updateDate'),
    page: (c, p) => c.searchDiscountCoupons({ offset: p.offset, ...(p.updatedFrom && { updatedFrom: p.updatedFrom }) }),
  },
  orders: {
    kind: 'order',
    incremental: true,
    deleted: 'orders',
    key: id,
    updatedAt: stamp,
    page: (c, p) => c.searchOrders({ offset: p.offset, ...(p.updatedFrom && { updatedFrom: p.updatedFrom }) }),
  },
  carts: {
    kind: 'abandoned_cart',
    incremental: true,
    key: (doc) => String(doc.cartId),
    updatedAt: stamp,
    // Carts the merchant "deleted" in the admin are only hidden (§1.6): mirror them too.
    page: (c, p) => c.searchCarts({ offset: p.offset, showHidden: true, ...(p.updatedFrom && { updatedFrom: p.updatedFrom }) }),
  },
  reviews: {
    kind: 'review',
    incremental: true,
    deleted: 'reviews',
    key: id,
    updatedAt: stamp,
    page: (c, p) => c.searchReviews({ offset: p.offset, ...(p.updatedFrom && { updatedFrom: p.updatedFrom }) }),
  },
};
