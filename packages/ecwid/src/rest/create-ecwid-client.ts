import { randomUUID } from 'node:crypto';
import { sleep as delay, type Logger } from '@mirror/core';
import { z } from 'zod';
import { maxBatchSize, type CreateBatchOptions, type EcwidBatchRequest, type EcwidBatchStatus } from './batch-types.ts';
import { createTransport } from './create-transport.ts';
import { EcwidHttpError } from './errors.ts';
import { fetchByBatch, type BatchEntity, type FetchByBatchOptions } from './fetch-by-batch.ts';
import { fetchOrdersByIds, type BulkOptions } from './fetch-orders-by-ids.ts';
import { fetchProductsByIds } from './fetch-products-by-ids.ts';
import type { EcwidLookup } from './lookup.ts';
import { parseBatchStatus } from './parse-batch-status.ts';
import { toQueryString, type QueryValue } from './query.ts';
import { createRateLimiter, type RateLimiter } from './rate-limiter.ts';
import type { RateLimiterRegistry } from './rate-limiter-registry.ts';
import { runBatch, type RunBatchOptions } from './run-batch.ts';
import {
  ecwidApplicationSchema,
  ecwidBatchStatusSchema,
  ecwidBatchTicketSchema,
  ecwidCartSchema,
  ecwidCategorySchema,
  ecwidCustomerGroupSchema,
  ecwidCustomerSchema,
  ecwidDeletedItemSchema,
  ecwidDiscountCouponSchema,
  ecwidLatestStatsSchema,
  ecwidOrderInvoicesSchema,
  ecwidOrderSchema,
  ecwidProductSchema,
  ecwidProductTypeListSchema,
  ecwidProductTypeSchema,
  ecwidProfileSchema,
  ecwidPromotionSchema,
  ecwidReviewSchema,
  ecwidStorageSchema,
  searchPageSchema,
  type SearchPage,
} from './schemas/index.ts';
import type {
  CartSearchParams,
  CategorySearchParams,
  CustomerGroupSearchParams,
  CustomerSearchParams,
  DeletedEntity,
  DeletedSearchParams,
  DiscountCouponSearchParams,
  OrderSearchParams,
  Paging,
  ProductSearchParams,
  ReviewSearchParams,
  TimeFilter,
} from './search-params.ts';
import { parseBody } from './validate.ts';

/** Production API root; apps read it from `ECWID_API_BASE_URL` to point at the simulator. */
export const ecwidApiBaseUrl = 'https://app.ecwid.com/api/v3';

/** Options of {@link createEcwidClient}. */
export type EcwidClientOptions = {
  /** API root without the store id; defaults to {@link ecwidApiBaseUrl}. */
  baseUrl?: string;
  storeId: number;
  token: string;
  /**
   * The token's shared budget: a registry (the client takes `forToken(token)`) or a limiter.
   * Without one the client gets a private 600/min limiter, which is only right when nothing
   * else in the process uses the token.
   */
  limiter?: RateLimiter | RateLimiterRegistry;
  fetch?: typeof globalThis.fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Source of jitter for backoff; tests pin it. */
  random?: () => number;
  /** Per attempt, covering the body too. */
  timeoutMs?: number;
  /** Attempts per request, counting the first, across 429, 5xx, timeouts and network errors. */
  maxAttempts?: number;
  /**
   * A 429 whose `Retry-After` is longer than this fails at once (EcwidUnavailableError, reason
   * `rate_limited`, with `retryAfterMs`) instead of waiting: a worker serving many stores frees
   * its slot for the others. The token's limiter is paused either way. Default: always wait.
   */
  maxRateLimitWaitMs?: number;
  log?: Pick<Logger, 'warn'>;
  /** Called after every HTTP attempt with its status, `timeout` or `network_error` (metrics). */
  onAttempt?: (outcome: string) => void;
};

// Ecwid's path for each deleted-items history. The coupon path is our best reading: the exact
// current spelling is unconfirmed (legacy docs said `/discount_coupons/deleted`, docs/ecwid.md §4.4).
const deletedPaths = {
  orders: '/orders/deleted',
  products: '/products/deleted',
  coupons: '/coupons/deleted',
  customers: '/customers/deleted',
  reviews: '/reviews/deleted',
} as const satisfies Record<DeletedEntity, string>;

const enc = (id: string | number) => encodeURIComponent(String(id));

/** The listings that take `responseFields` and page by offset, with the filters each always needs. */
const trimmedListings = {
  orders: { path: '/orders', params: {} },
  carts: { path: '/carts', params: { showHidden: true } },
  products: { path: '/products', params: {} },
  customers: { path: '/customers', params: {} },
  discount_coupons: { path: '/discount_coupons', params: {} },
  reviews: { path: '/reviews', params: {} },
  categories: { path: '/categories', params: { hidden_categories: true } },
  customer_groups: { path: '/customer_groups', params: {} },
} as const;

/** A listing {@link createEcwidClient}'s `listFields` can trim. */
export type TrimmedListing = keyof typeof trimmedListings;

/**
 * A typed client for one store's REST API v3 (docs/ecwid.md §4): reads return validated
 * documents with every Ecwid field kept, a 404 on a read by id is `{ status: 'gone' }`, and
 * failures are typed errors (`EcwidStoreError`, `EcwidHttpError`, `EcwidUnavailableError`,
 * `EcwidValidationError`). The token never appears in an error or a log line.
 */
export function createEcwidClient(options: EcwidClientOptions) {
  const {
    baseUrl = ecwidApiBaseUrl,
    storeId,
    token,
    fetch = globalThis.fetch,
    sleep = delay,
    now = Date.now,
    random = Math.random,
    timeoutMs = 20_000,
    maxAttempts = 5,
    maxRateLimitWaitMs = Infinity,
    log,
    onAttempt,
  } = options;
  const limiter =
    options.limiter === undefined
      ? createRateLimiter({ now, sleep })
      : 'forToken' in options.limiter
        ? options.limiter.forToken(token)
        : options.limiter;
  const transport = createTransport({
    baseUrl,
    storeId,
    token,
    limiter,
    fetch,
    sleep,
    now,
    random,
    timeoutMs,
    maxAttempts,
    maxRateLimitWaitMs,
    log,
    onAttempt,
  });

  async function read<S extends z.ZodType>(path: string, schema: S, query = ''): Promise<z.output<S>> {
    const answer = await transport.send({ method: 'GET', path, query });
    if (answer.status === 'not_found') throw new EcwidHttpError({ method: 'GET', path, status: 404 }, answer);
    return parseBody(schema, answer.body, { method: 'GET', path });
  }

  async function lookup<S extends z.ZodType>(path: string, schema: S): Promise<EcwidLookup<z.output<S>>> {
    const answer = await transport.send({ method: 'GET', path });
    if (answer.status === 'not_found') return { status: 'gone', errorCode: answer.errorCode };
    return { status: 'ok', value: parseBody(schema, answer.body, { method: 'GET', path }) };
  }

  function search<Item extends z.ZodType>(
    path: string,
    item: Item,
    params: Readonly<Record<string, QueryValue>>,
  ): Promise<SearchPage<z.output<Item>>> {
    // Ecwid's default limit differs by endpoint (carts: 10), so it is always sent.
    return read(path, searchPageSchema(item), toQueryString({ limit: 100, ...params }));
  }

  const api = {
    storeId,

    /** `GET /orders/{orderId}` by public id (`K8XTQ`, prefixes and suffixes included). */
    getOrder: (orderId: string) => lookup(`/orders/${enc(orderId)}`, ecwidOrderSchema),
    /** `GET /orders`; excludes unfinished orders (those are carts). */
    searchOrders: (params: OrderSearchParams = {}) => search('/orders', ecwidOrderSchema, params),
    /** `GET /orders/{orderId}/invoices`. */
    getOrderInvoices: (orderId: string) => lookup(`/orders/${enc(orderId)}/invoices`, ecwidOrderInvoicesSchema),

    /** `GET /carts/{cartId}`: an abandoned checkout. */
    getCart: (cartId: string) => lookup(`/carts/${enc(cartId)}`, ecwidCartSchema),
    /** `GET /carts`. */
    searchCarts: (params: CartSearchParams = {}) => search('/carts', ecwidCartSchema, params),

    /** `GET /products/{productId}`. */
    getProduct: (productId: number) => lookup(`/products/${enc(productId)}`, ecwidProductSchema),
    /** `GET /products`; with `productId` set Ecwid ignores the other filters. */
    searchProducts: (params: ProductSearchParams = {}) => search('/products', ecwidProductSchema, params),

    /** `GET /categories/{categoryId}`. */
    getCategory: (categoryId: number) => lookup(`/categories/${enc(categoryId)}`, ecwidCategorySchema),
    /** `GET /categories`, disabled categories included (`hidden_categories=true`). */
    searchCategories: (params: CategorySearchParams = {}) =>
      search('/categories', ecwidCategorySchema, { ...params, hidden_categories: true }),

    /** `GET /customers/{customerId}`. */
    getCustomer: (customerId: number) => lookup(`/customers/${enc(customerId)}`, ecwidCustomerSchema),
    /** `GET /customers`. */
    searchCustomers: (params: CustomerSearchParams = {}) => search('/customers', ecwidCustomerSchema, params),

    /** `GET /customer_groups/{groupId}`. */
    getCustomerGroup: (groupId: number) => lookup(`/customer_groups/${enc(groupId)}`, ecwidCustomerGroupSchema),
    /** `GET /customer_groups`. */
    searchCustomerGroups: (params: CustomerGroupSearchParams = {}) => search('/customer_groups', ecwidCustomerGroupSchema, params),

    /** `GET /discount_coupons/{id}`; Ecwid also accepts the coupon code in place of the id. */
    getDiscountCoupon: (idOrCode: number | string) => lookup(`/discount_coupons/${enc(idOrCode)}`, ecwidDiscountCouponSchema),
    /** `GET /discount_coupons`. */
    searchDiscountCoupons: ({ discountType, ...params }: DiscountCouponSearchParams = {}) =>
      search('/discount_coupons', ecwidDiscountCouponSchema, {
        ...params,
        discount_type: discountType,
      }),

    /**
     * `GET /promotions`: all of them. Ecwid documents no paging or get-by-id here, yet answers
     * with the paged envelope; when a page holds fewer than its `total`, the rest is asked for by
     * offset, as on every other listing, until `total` is reached or a page adds no promotion not
     * already read (an Ecwid that ignores `offset` answers the first page again).
     */
    searchPromotions: async () => {
      const schema = searchPageSchema(ecwidPromotionSchema);
      const first = await read('/promotions', schema);
      const items = [...first.items];
      const seen = new Set(items.map((promotion) => promotion.id));
      while (items.length < first.total) {
        const page = await read('/promotions', schema, toQueryString({ offset: items.length, limit: 100 }));
        const fresh = page.items.filter((promotion) => !seen.has(promotion.id));
        if (fresh.length === 0) break;
        for (const promotion of fresh) seen.add(promotion.id);
        items.push(...fresh);
      }
      return { ...first, items, count: items.length, offset: 0 };
    },

    /** `GET /classes/{classId}`: a product type. */
    getProductType: (classId: number) => lookup(`/classes/${enc(classId)}`, ecwidProductTypeSchema),
    /** `GET /classes`: every product type (a bare array). */
    listProductTypes: () => read('/classes', ecwidProductTypeListSchema),

    /** `GET /reviews/{reviewId}` (in Ecwid's Java client; not in the docs). */
    getReview: (reviewId: number) => lookup(`/reviews/${enc(reviewId)}`, ecwidReviewSchema),
    /** `GET /reviews`. */
    searchReviews: (params: ReviewSearchParams = {}) => search('/reviews', ecwidReviewSchema, params),

    /** `GET /application`: this app's subscription in the store. */
    getApplication: () => read('/application', ecwidApplicationSchema),
    /** `GET /storage`: the app's key-value storage (a bare array). */
    getStorage: () => read('/storage', ecwidStorageSchema),
    /** `GET /profile`. */
    getProfile: () => read('/profile', ecwidProfileSchema),
    /** `GET /latest-stats`: when each entity family last changed. */
    getLatestStats: () => read('/latest-stats', ecwidLatestStatsSchema),
    /**
     * A listing trimmed to a few fields of each item (`responseFields`, docs/ecwid.md §4.1), e.g.
     * the ids and update times of 100 orders per request: what comparing whole id sets needs,
     * at a fraction of the bytes. Items come back as Ecwid sent them (checked only to be objects).
     */
    listFields: (listing: TrimmedListing, fields: readonly string[], params: Paging & { updatedFrom?: TimeFilter } = {}) =>
      search(trimmedListings[listing].path, z.looseObject({}), {
        ...trimmedListings[listing].params,
        ...params,
        responseFields: `total,count,offset,limit,items(${fields.join(',')})`,
      }),
    /** `GET /{entity}/deleted`: ids deleted in a time window. */
    getDeleted: (entity: DeletedEntity, { from, to, ...paging }: DeletedSearchParams = {}) =>
      search(deletedPaths[entity], ecwidDeletedItemSchema, {
        ...paging,
        from_date: from,
        to_date: to,
      }),

    /**
     * `POST /batch` with 1–500 sub-requests; returns the ticket. A deduplication key is always
     * sent, so retrying a create after a timeout cannot start the batch twice.
     */
    async createBatch(requests: readonly EcwidBatchRequest[], batchOptions: CreateBatchOptions = {}): Promise<string> {
      if (requests.length === 0 || requests.length > maxBatchSize) {
        throw new RangeError(`a batch holds 1 to ${maxBatchSize} requests, got ${requests.length}`);
      }
      const { deduplicationKey = randomUUID(), ...flags } = batchOptions;
      const answer = await transport.send({
        method: 'POST',
        path: '/batch',
        query: toQueryString({ ...flags, deduplicationKey }),
        body: requests.map((request) => ({ method: 'GET', ...request })),
      });
      if (answer.status === 'not_found') throw new EcwidHttpError({ method: 'POST', path: '/batch', status: 404 }, answer);
      return parseBody(ecwidBatchTicketSchema, answer.body, { method: 'POST', path: '/batch' }).ticket;
    },
    /** `GET /batch?ticket=…&escapedJson=true`, each sub-response body parsed. */
    async getBatch(ticket: string): Promise<EcwidBatchStatus> {
      const body = await read('/batch', ecwidBatchStatusSchema, toQueryString({ ticket, escapedJson: true }));
      return parseBatchStatus(body, { method: 'GET', path: '/batch' });
    },
  };

  const runBatchWithPolling = (requests: readonly EcwidBatchRequest[], batchOptions?: RunBatchOptions) =>
    runBatch(api, requests, { sleep, now }, batchOptions);

  return {
    ...api,
    /** Creates a batch and polls it until COMPLETED (bounded; see RunBatchOptions). */
    runBatch: runBatchWithPolling,
    /** Many orders by id, 100 per search; returns the docs and the ids not found. */
    fetchOrdersByIds: (ids: readonly (string | number)[], bulkOptions?: BulkOptions) => fetchOrdersByIds(api, ids, bulkOptions),
    /** Many products by id, 100 per search; returns the docs and the ids not found. */
    fetchProductsByIds: (ids: readonly number[], bulkOptions?: BulkOptions) => fetchProductsByIds(api, ids, bulkOptions),
    /** Many entities of a kind with no id filter (customers, categories, …), 500 per batch. */
    fetchByBatch: <E extends BatchEntity, Id extends string | number>(entity: E, ids: readonly Id[], batchOptions?: FetchByBatchOptions) =>
      fetchByBatch({ runBatch: runBatchWithPolling }, entity, ids, batchOptions),
  };
}

/** A client for one store; see {@link createEcwidClient}. */
export type EcwidClient = ReturnType<typeof createEcwidClient>;
