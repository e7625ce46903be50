import { entityCatalog, fetchedKinds, type FetchedKind, type Kind } from '@mirror/catalog';
import type { EcwidClient } from '@mirror/ecwid';

type Page = { items: readonly unknown[]; total: number };
type Doc = Record<string, unknown>;

/**
 * How backfill walks one kind's listing. Whether Ecwid's listing takes `updatedFrom` and which
 * deleted-items listing it has come from the catalogue.
 */
export type BackfillSpec = {
  page(client: EcwidClient, params: { offset: number; updatedFrom?: Date | undefined }): Promise<Page>;
  /** The record key of a listed document (the log's `entity_id`). */
  key(doc: Doc, storeId: number): string;
  /** Ecwid's update time of a document, UNIX seconds. */
  updatedAt?(doc: Doc): number | undefined;
  /** Whether a listed item becomes a snapshot (default: every one). */
  include?(doc: Doc): boolean;
  /** The snapshot's payload, when it is not the listed item itself. */
  payload?(doc: Doc): unknown;
};

const all = (items: readonly unknown[]): Page => ({ items, total: items.length });
const once = async (offset: number, read: () => Promise<readonly unknown[]>): Promise<Page> =>
  offset > 0 ? { items: [], total: 0 } : all(await read());
const id = (doc: Doc) => String(doc.id);
const store = (_doc: Doc, storeId: number) => String(storeId);
const stamp = (doc: Doc) => (typeof doc.updateTimestamp === 'number' ? doc.updateTimestamp : undefined);
const dateString = (field: string) => (doc: Doc) => {
  const value = doc[field];
  if (typeof value !== 'string') return undefined;
  // Ecwid's `2024-09-04 07:26:24 +0000` (docs/ecwid.md §4.1).
  const ms = Date.parse(value.replace(' ', 'T').replace(/ ([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
};

/**
 * How each fetched kind is listed, keyed and time-stamped. A kind added to the catalogue without
 * an entry here is a compile error (`null` would say backfill does not walk it).
 */
export const backfillSpecs = {
  store_profile: { key: store, page: (c, p) => once(p.offset, async () => [await c.getProfile()]) },
  app_subscription: { key: store, page: (c, p) => once(p.offset, async () => [await c.getApplication()]) },
  // One snapshot holds every key: the storage table is replaced as a whole (0002).
  app_storage: { key: store, page: (c, p) => once(p.offset, async () => [await c.getStorage()]) },
  product_type: { key: id, page: (c, p) => once(p.offset, () => c.listProductTypes()) },
  category: { key: id, page: (c, p) => c.searchCategories({ offset: p.offset }) },
  product: {
    key: id,
    updatedAt: stamp,
    page: (c, p) =>
      c.searchProducts({ offset: p.offset, sortBy: 'UPDATED_TIME_ASC', ...(p.updatedFrom && { updatedFrom: p.updatedFrom }) }),
  },
  customer_group: { key: id, page: (c, p) => c.searchCustomerGroups({ offset: p.offset }) },
  customer: {
    key: id,
    updatedAt: dateString('updated'),
    page: (c, p) =>
      c.searchCustomers({ offset: p.offset, sortBy: 'UPDATED_DATE_ASC', ...(p.updatedFrom && { updatedFrom: p.updatedFrom }) }),
  },
  discount_coupon: {
    key: id,
    updatedAt: dateString('updateDate'),
    page: (c, p) => c.searchDiscountCoupons({ offset: p.offset, ...(p.updatedFrom && { updatedFrom: p.updatedFrom }) }),
  },
  promotion: { key: id, page: (c, p) => once(p.offset, async () => (await c.searchPromotions()).items) },
  order: {
    key: id,
    updatedAt: stamp,
    page: (c, p) => c.searchOrders({ offset: p.offset, ...(p.updatedFrom && { updatedFrom: p.updatedFrom }) }),
  },
  abandoned_cart: {
    key: (doc) => String(doc.cartId),
    updatedAt: stamp,
    // Carts the merchant "deleted" in the admin are only hidden (docs/ecwid.md §1.6): mirror them too.
    page: (c, p) => c.searchCarts({ offset: p.offset, showHidden: true, ...(p.updatedFrom && { updatedFrom: p.updatedFrom }) }),
  },
  review: {
    key: id,
    updatedAt: stamp,
    page: (c, p) => c.searchReviews({ offset: p.offset, ...(p.updatedFrom && { updatedFrom: p.updatedFrom }) }),
  },
  // Ecwid lists invoices per order only, and every order lists its own: the orders' listing
  // trimmed to their invoices (docs/ecwid.md §4.1) gives each order's invoice list, the document
  // `GET /orders/{id}/invoices` answers, at one request per 100 orders. Orders without invoices
  // make no record.
  invoice: {
    key: id,
    updatedAt: stamp,
    include: (doc) => Array.isArray(doc.invoices) && doc.invoices.length > 0,
    payload: (doc) => ({ invoices: doc.invoices }),
    page: (c, p) =>
      c.listFields('orders', ['id', 'updateTimestamp', 'invoices'], {
        offset: p.offset,
        ...(p.updatedFrom && { updatedFrom: p.updatedFrom }),
      }),
  },
} satisfies Record<FetchedKind, BackfillSpec | null>;

/** A kind backfill walks. */
export type BackfillKind = { [K in FetchedKind]: (typeof backfillSpecs)[K] extends null ? never : K }[FetchedKind];

/** What `backfill` walks, in catalogue order (parents before children). */
export const backfillKinds: readonly BackfillKind[] = fetchedKinds.filter((kind): kind is BackfillKind => backfillSpecs[kind] !== null);

/** Whether Ecwid's listing of the kind takes `updatedFrom` (a re-run asks only for what changed). */
export const isIncremental = (kind: Kind): boolean => entityCatalog[kind].incremental;
