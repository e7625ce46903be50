import type { FetchedKind } from '@mirror/catalog';
import type { EcwidClient, TrimmedListing } from '@mirror/ecwid';
import { backfillSpecs } from '../backfill/backfill-entities.ts';

type Doc = Record<string, unknown>;
type Page = { items: readonly unknown[]; total: number };

/**
 * How a kind is compared with Ecwid (docs/reconcile.md):
 * - `timed`: its listing takes `updatedFrom` and its items carry an update time. An incremental
 *   run lists the documents changed since the last run and reads Ecwid's deleted-items listing
 *   where there is one; a full run lists every document and compares contents, then reads every
 *   mirrored id Ecwid did not list. A verify lists only ids and update times (`responseFields`):
 *   it repairs nothing, so it needs no documents.
 * - `documents`: small kinds without an update time: every run lists every document and compares
 *   contents (which also catches fields Ecwid derives, such as a category's product counts).
 * - `store`: one document per store, compared whole.
 * - `invoices`: an order's invoices, compared through the orders' listing (full runs).
 */
export type ReconcileSpec =
  | {
      mode: 'timed';
      listing: TrimmedListing;
      /** The item fields an incremental listing asks for: the key and the update time. */
      fields: readonly string[];
      key(doc: Doc): string;
      /** Ecwid's update time, UNIX seconds. */
      updatedAt(doc: Doc): number | undefined;
      /** Documents (changed since `since`, or all), a page from `offset`. */
      page(client: EcwidClient, offset: number, since?: Date): Promise<Page>;
      derived?: readonly string[];
    }
  | { mode: 'documents'; key(doc: Doc): string; page(client: EcwidClient, offset: number): Promise<Page>; derived?: readonly string[] }
  | { mode: 'store'; doc(client: EcwidClient): Promise<unknown> }
  | { mode: 'invoices' };

/*
 * `derived`: top-level fields Ecwid derives from other entities and changes without a webhook or
 * an update time of their own (docs/reconcile.md). A document differing only there is taken
 * again but not counted as stale: nothing was missed, Ecwid just recomputed it.
 */

const timed = (
  kind: 'order' | 'abandoned_cart' | 'product' | 'customer' | 'discount_coupon' | 'review',
  listing: TrimmedListing,
  fields: readonly string[],
  derived: readonly string[] = [],
): ReconcileSpec => {
  const spec = backfillSpecs[kind];
  return {
    mode: 'timed',
    listing,
    fields,
    derived,
    key: spec.key as (doc: Doc) => string,
    updatedAt: spec.updatedAt,
    page: (client, offset, since) => spec.page(client, { offset, ...(since && { updatedFrom: since }) }),
  };
};

const documents = (kind: 'category' | 'customer_group' | 'promotion' | 'product_type', derived: readonly string[] = []): ReconcileSpec => ({
  mode: 'documents',
  derived,
  key: (doc) => String(doc.id),
  page: (client, offset) => backfillSpecs[kind].page(client, { offset }),
});

/** Every fetched kind's comparison: a kind added to the catalogue without one is a compile error. */
export const reconcileSpecs = {
  store_profile: { mode: 'store', doc: (client) => client.getProfile() },
  app_subscription: { mode: 'store', doc: (client) => client.getApplication() },
  app_storage: { mode: 'store', doc: (client) => client.getStorage() },
  product_type: documents('product_type'),
  // A category's counts and product list follow its products.
  category: documents('category', ['productCount', 'enabledProductCount', 'productIds']),
  // `categories` repeats categoryIds with each category's enabled flag, which follows the category.
  product: timed('product', 'products', ['id', 'updateTimestamp'], ['categories']),
  customer_group: documents('customer_group'),
  customer: timed('customer', 'customers', ['id', 'updated']),
  discount_coupon: timed('discount_coupon', 'discount_coupons', ['id', 'updateDate']),
  promotion: documents('promotion'),
  order: timed('order', 'orders', ['id', 'updateTimestamp']),
  abandoned_cart: timed('abandoned_cart', 'carts', ['cartId', 'updateTimestamp']),
  review: timed('review', 'reviews', ['id', 'updateTimestamp']),
  invoice: { mode: 'invoices' },
} satisfies Record<FetchedKind, ReconcileSpec>;
