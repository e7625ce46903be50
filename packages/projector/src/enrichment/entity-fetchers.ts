import type { EntityCatalog, FetchedKind } from '@mirror/catalog';
import { mapConcurrent } from '@mirror/core';
import type { BatchEntity, EcwidClient, EcwidLookup } from '@mirror/ecwid';
import type { FetchOutcome } from './fetch-entities.ts';

/** What a fetcher may use: the store's client and the bookkeeping of fetchEntities. */
export type FetchContext = {
  client: EcwidClient;
  storeId: number;
  concurrency: number;
  now: () => Date;
  settle(kind: FetchedKind, key: string, outcome: FetchOutcome): void;
  /** Runs one call; a failure other than the store's becomes every listed key's outcome. */
  guard(kind: FetchedKind, keys: readonly string[], call: () => Promise<void>): Promise<void>;
  /** Reads keys one by one (`concurrency` at once): a 404 is `gone`. */
  oneByOne(kind: FetchedKind, keys: readonly string[], read: (key: string) => Promise<EcwidLookup<unknown>>): Promise<void>;
};

/**
 * A search by a list of ids answers most keys; the fetcher settles every key it is given. `each`
 * reads keys one by one instead: when the search fails for all of them (one id Ecwid refuses, one
 * document that does not parse), each is read on its own, so only that one fails.
 */
export type BulkFetcher = {
  mode: 'bulk';
  bulk(context: FetchContext, keys: readonly string[]): Promise<void>;
  each(context: FetchContext, keys: readonly string[]): Promise<void>;
};
/** Single reads, or Ecwid's batch API (`batch` names the entity there) when many are asked at once. */
export type BatchFetcher = {
  mode: 'batch';
  batch: BatchEntity;
  one(client: EcwidClient, key: string): Promise<EcwidLookup<unknown>>;
  toId(key: string): string | number;
};
export type SingleFetcher = { mode: 'single'; one(client: EcwidClient, key: string): Promise<EcwidLookup<unknown>> };
/** One listing answers every key; the fetcher settles every key it is given. */
export type ListingFetcher = { mode: 'listing'; listing(context: FetchContext, keys: readonly string[]): Promise<void> };
/** One document per store. */
export type StoreFetcher = { mode: 'store'; doc(client: EcwidClient): Promise<unknown> };

type ByMode = { bulk: BulkFetcher; batch: BatchFetcher; single: SingleFetcher; listing: ListingFetcher; store: StoreFetcher };
export type AnyFetcher = ByMode[keyof ByMode];

const numeric = (key: string) => Number(key);
const internal = (key: string) => key.replace(/^internal:/, '');

/**
 * How each fetched kind is read from Ecwid, in the mode the catalogue declares for it (the type
 * holds them together: a kind declared `batch` needs a batch fetcher). A kind added to the
 * catalogue without a fetcher here is a compile error.
 */
export const fetchers = {
  store_profile: { mode: 'store', doc: (client) => client.getProfile() },
  app_subscription: { mode: 'store', doc: (client) => client.getApplication() },
  app_storage: { mode: 'store', doc: (client) => client.getStorage() },
  product_type: { mode: 'batch', batch: 'productType', one: (client, key) => client.getProductType(numeric(key)), toId: numeric },
  category: { mode: 'batch', batch: 'category', one: (client, key) => client.getCategory(numeric(key)), toId: numeric },
  product: {
    mode: 'bulk',
    async bulk(context, keys) {
      const { client, now, settle } = context;
      const result = await client.fetchProductsByIds(keys.map(numeric));
      const fetchedAt = now();
      for (const product of result.found)
        settle('product', String(product.id), { status: 'ok', entityId: String(product.id), doc: product, fetchedAt });
      await this.each(context, result.missing.map(String));
    },
    each: ({ client, oneByOne }, keys) => oneByOne('product', keys, (key) => client.getProduct(numeric(key))),
  },
  customer_group: { mode: 'batch', batch: 'customerGroup', one: (client, key) => client.getCustomerGroup(numeric(key)), toId: numeric },
  customer: { mode: 'batch', batch: 'customer', one: (client, key) => client.getCustomer(numeric(key)), toId: numeric },
  discount_coupon: { mode: 'batch', batch: 'discountCoupon', one: (client, key) => client.getDiscountCoupon(numeric(key)), toId: numeric },
  promotion: {
    mode: 'listing',
    // No read by id is documented (docs/ecwid.md §4.5): one listing answers every promotion in the batch.
    async listing({ client, now, settle }, keys) {
      const page = await client.searchPromotions();
      const fetchedAt = now();
      const byId = new Map(page.items.map((p) => [String(p.id), p]));
      // Only a listing that holds every promotion proves one is gone; one still short of its
      // total after the client's paging leaves the missing ids to be asked again later.
      const complete = page.items.length >= page.total;
      for (const key of keys) {
        const promotion = byId.get(key);
        settle(
          'promotion',
          key,
          promotion
            ? { status: 'ok', entityId: key, doc: promotion, fetchedAt }
            : complete
              ? { status: 'gone', fetchedAt }
              : { status: 'failed', error: new Error(`promotion not in a partial listing (${page.items.length} of ${page.total})`) },
        );
      }
    },
  },
  order: {
    mode: 'bulk',
    async bulk(context, keys) {
      const { client, now, settle } = context;
      // `ids=` matches public and internal ids alike (docs/ecwid.md §4.5).
      const ids = keys.map(internal);
      const result = await client.fetchOrdersByIds(ids);
      const fetchedAt = now();
      const byAnyId = new Map<string, (typeof result.found)[number]>();
      for (const order of result.found) {
        byAnyId.set(order.id, order);
        byAnyId.set(String(order.internalId), order);
        if (order.orderNumber !== undefined) byAnyId.set(String(order.orderNumber), order);
      }
      const unconfirmed: string[] = [];
      keys.forEach((key, index) => {
        const order = byAnyId.get(ids[index]!);
        if (order) settle('order', key, { status: 'ok', entityId: order.id, doc: order, fetchedAt });
        else unconfirmed.push(key);
      });
      // A search is not a read by id: an id it did not return may still exist (an index that
      // lags, an order the search hides), and a tombstone is final (0002). Only a 404 on the id is gone.
      await this.each(context, unconfirmed);
    },
    async each({ client, now, settle, guard, concurrency }, keys) {
      await mapConcurrent(keys, concurrency, (key) =>
        guard('order', [key], async () => {
          const read = await client.getOrder(internal(key));
          settle(
            'order',
            key,
            read.status === 'ok'
              ? { status: 'ok', entityId: read.value.id, doc: read.value, fetchedAt: now() }
              : { status: 'gone', fetchedAt: now() },
          );
        }),
      );
    },
  },
  abandoned_cart: { mode: 'batch', batch: 'cart', one: (client, key) => client.getCart(key), toId: (key) => key },
  review: { mode: 'single', one: (client, key) => client.getReview(numeric(key)) },
  invoice: {
    mode: 'single',
    // An order without invoices may answer 404 here; that is an empty list, not a deletion
    // (the invoices of a deleted order go with the order's tombstone).
    async one(client, key) {
      const result = await client.getOrderInvoices(key);
      return result.status === 'gone' ? { status: 'ok', value: { invoices: [] } } : result;
    },
  },
} satisfies { [K in FetchedKind]: ByMode[Exclude<EntityCatalog[K]['fetch'], 'derived'>] };
