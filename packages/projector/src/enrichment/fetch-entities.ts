import { EcwidStoreError, type EcwidClient, type EcwidLookup } from '@mirror/ecwid';
import type { FetchKind } from './plan-work.ts';
import { mapConcurrent } from '@mirror/core';

/** What a re-fetch gave for one entity. `entityId` is the record key (orders: the public id). */
export type FetchOutcome =
  | { status: 'ok'; entityId: string; doc: unknown; fetchedAt: Date }
  | { status: 'gone'; fetchedAt: Date }
  | { status: 'failed'; error: Error };

export type FetchRequest = { entityKind: FetchKind; key: string };

export type FetchOptions = {
  /** Below this many ids of one kind, read them one by one (a batch costs a poll round-trip). */
  batchThreshold?: number;
  /** Single reads in flight at once, per kind. */
  concurrency?: number;
  now?: () => Date;
};

/** `${entityKind}\u0000${key}`, the same key planWork coalesces on. */
export const requestKey = (r: FetchRequest) => `${r.entityKind}\u0000${r.key}`;

type Settle = (key: string, outcome: FetchOutcome) => void;

/**
 * Re-fetches entities over REST, in bulk where Ecwid allows (orders and products by id lists,
 * the batch API for the rest when there are many). One entity's failure is its outcome; a
 * store-level error (401/402/403, `EcwidStoreError`) throws, because nothing else will work
 * either, except a feature that is off (403 `*_FEATURE_NOT_AVAILABLE`): that only concerns the
 * entities of that feature, so it is their outcome. `gone` comes only from a 404 on a read by id
 * (or a promotion missing from the complete listing): an id a search did not return is read
 * again by id before it is called gone.
 */
export async function fetchEntities(
  client: EcwidClient,
  storeId: number,
  requests: readonly FetchRequest[],
  options: FetchOptions = {},
): Promise<Map<string, FetchOutcome>> {
  const { batchThreshold = 10, concurrency = 4, now = () => new Date() } = options;
  const outcomes = new Map<string, FetchOutcome>();
  const byKind = new Map<FetchKind, string[]>();
  for (const r of requests) byKind.set(r.entityKind, [...(byKind.get(r.entityKind) ?? []), r.key]);

  const settle: Settle = (key, outcome) => outcomes.set(key, outcome);
  const k = (kind: FetchKind, key: string) => `${kind}\u0000${key}`;

  // Runs one call; a non-store failure becomes every listed key's outcome.
  async function guard(kind: FetchKind, keys: readonly string[], call: () => Promise<void>) {
    try {
      await call();
    } catch (err) {
      if (err instanceof EcwidStoreError && err.code !== 'FEATURE') throw err;
      const error = err instanceof Error ? err : new Error(String(err));
      for (const key of keys) if (!outcomes.has(k(kind, key))) settle(k(kind, key), { status: 'failed', error });
    }
  }

  function fromLookup<T>(kind: FetchKind, key: string, result: EcwidLookup<T>, entityId = key) {
    settle(
      k(kind, key),
      result.status === 'ok'
        ? { status: 'ok', entityId, doc: result.value, fetchedAt: now() }
        : { status: 'gone', fetchedAt: now() },
    );
  }

  async function oneByOne(kind: FetchKind, keys: readonly string[], read: (key: string) => Promise<EcwidLookup<unknown>>) {
    await mapConcurrent(keys, concurrency, (key) => guard(kind, [key], async () => fromLookup(kind, key, await read(key))));
  }

  type BatchKind = 'cart' | 'category' | 'customer' | 'customerGroup' | 'discountCoupon' | 'productType';
  async function viaBatchOrSingles(
    kind: FetchKind,
    keys: readonly string[],
    batchEntity: BatchKind,
    read: (key: string) => Promise<EcwidLookup<unknown>>,
    toId: (key: string) => string | number,
  ) {
    if (keys.length < batchThreshold) return oneByOne(kind, keys, read);
    await guard(kind, keys, async () => {
      const ids = keys.map(toId);
      const result = await client.fetchByBatch(batchEntity, ids);
      const fetchedAt = now();
      for (const { id, value } of result.found) settle(k(kind, String(id)), { status: 'ok', entityId: String(id), doc: value, fetchedAt });
      for (const id of result.missing) settle(k(kind, String(id)), { status: 'gone', fetchedAt });
      for (const { id, error } of result.failed) settle(k(kind, String(id)), { status: 'failed', error });
    });
  }

  const numeric = (key: string) => Number(key);
  // A search is not a read by id: an id it did not return may still exist (an index that lags,
  // an order the search hides), and a tombstone is final (0002). Only a 404 on the id is gone.
  const confirmOrders = (keys: readonly string[]) =>
    mapConcurrent(keys, concurrency, (key) =>
      guard('order', [key], async () => {
        const result = await client.getOrder(key.replace(/^internal:/, ''));
        settle(k('order', key), result.status === 'ok' ? { status: 'ok', entityId: result.value.id, doc: result.value, fetchedAt: now() } : { status: 'gone', fetchedAt: now() });
      }),
    );
  const tasks = [...byKind].map(async ([kind, keys]) => {
    switch (kind) {
      case 'order':
        return guard(kind, keys, async () => {
          // `ids=` matches public ids, internal ids and order numbers alike (§4.5).
          const ids = keys.map((key) => key.replace(/^internal:/, ''));
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
            if (order) settle(k(kind, key), { status: 'ok', entityId: order.id, doc: order, fetchedAt });
            else unconfirmed.push(key);
          });
          await confirmOrders(unconfirmed);
        });
      case 'product':
        return guard(kind, keys, async () => {
          const result = await client.fetchProductsByIds(keys.map(numeric));
          const fetchedAt = now();
          for (const product of result.found) settle(k(kind, String(product.id)), { status: 'ok', entityId: String(product.id), doc: product, fetchedAt });
          await oneByOne(kind, result.missing.map(String), (key) => client.getProduct(numeric(key)));
        });
      case 'abandoned_cart':
        return viaBatchOrSingles(kind, keys, 'cart', (key) => client.getCart(key), (key) => key);
      case 'category':
        return viaBatchOrSingles(kind, keys, 'category', (key) => client.getCategory(numeric(key)), numeric);
      case 'customer':
        return viaBatchOrSingles(kind, keys, 'customer', (key) => client.getCustomer(numeric(key)), numeric);
      case 'customer_group':
        return viaBatchOrSingles(kind, keys, 'customerGroup', (key) => client.getCustomerGroup(numeric(key)), numeric);
      case 'discount_coupon':
        return viaBatchOrSingles(kind, keys, 'discountCoupon', (key) => client.getDiscountCoupon(numeric(key)), numeric);
      case 'product_type':
        return viaBatchOrSingles(kind, keys, 'productType', (key) => client.getProductType(numeric(key)), numeric);
      case 'review':
        return oneByOne(kind, keys, (key) => client.getReview(numeric(key)));
      case 'invoice':
        // An order without invoices may answer 404 here; that is an empty list, not a deletion
        // (the invoices of a deleted order go with the order's tombstone).
        return oneByOne(kind, keys, async (key) => {
          const result = await client.getOrderInvoices(key);
          return result.status === 'gone' ? { status: 'ok', value: { invoices: [] } } : result;
        });
      case 'promotion':
        // No get-by-id exists (§4.5): one listing answers every promotion in the batch.
        return guard(kind, keys, async () => {
          const page = await client.searchPromotions();
          const fetchedAt = now();
          const byId = new Map(page.items.map((p) => [String(p.id), p]));
          // Only a listing that holds every promotion proves one is gone; Ecwid documents no
          // paging here, so a partial one leaves the missing ids to be asked again later.
          const complete = page.items.length >= page.total;
          for (const key of keys) {
            const promotion = byId.get(key);
            settle(
              k(kind, key),
              promotion
                ? { status: 'ok', entityId: key, doc: promotion, fetchedAt }
                : complete
                  ? { status: 'gone', fetchedAt }
                  : { status: 'failed', error: new Error(`promotion not in a partial listing (${page.items.length} of ${page.total})`) },
            );
          }
        });
      case 'store_profile':
        return guard(kind, keys, async () => settle(k(kind, keys[0]!), { status: 'ok', entityId: String(storeId), doc: await client.getProfile(), fetchedAt: now() }));
      case 'app_subscription':
        return guard(kind, keys, async () => settle(k(kind, keys[0]!), { status: 'ok', entityId: String(storeId), doc: await client.getApplication(), fetchedAt: now() }));
      case 'app_storage':
        return guard(kind, keys, async () => settle(k(kind, keys[0]!), { status: 'ok', entityId: String(storeId), doc: await client.getStorage(), fetchedAt: now() }));
      default: {
        const exhaustive: never = kind;
        throw new Error(`no fetch for ${String(exhaustive)}`);
      }
    }
  });
  // Every kind runs; a store-level error from any of them is rethrown after the others settle.
  const results = await Promise.allSettled(tasks);
  const storeError = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (storeError) throw storeError.reason;
  for (const r of requests) {
    if (!outcomes.has(requestKey(r))) settle(requestKey(r), { status: 'failed', error: new Error('no answer for this id') });
  }
  return outcomes;
}
