export { defaultRetryAfterMs, fullJitterDelayMs, parseRetryAfterMs, type BackoffOptions } from './backoff.ts';
export {
  maxBatchSize,
  type CreateBatchOptions,
  type EcwidBatchRequest,
  type EcwidBatchResult,
  type EcwidBatchStatus,
} from './batch-types.ts';
export {
  createEcwidClient,
  ecwidApiBaseUrl,
  type EcwidClient,
  type EcwidClientOptions,
  type TrimmedListing,
} from './create-ecwid-client.ts';
export {
  EcwidBatchTimeoutError,
  EcwidError,
  EcwidHttpError,
  EcwidStoreError,
  EcwidUnavailableError,
  EcwidValidationError,
  type EcwidRetryReason,
  type EcwidStoreErrorCode,
  type EcwidValidationIssue,
} from './errors.ts';
export {
  fetchByBatch,
  type BatchEntity,
  type BatchEntityDocument,
  type BatchFetchResult,
  type FetchByBatchOptions,
} from './fetch-by-batch.ts';
export { readErrorText, type EcwidErrorFields } from './error-body.ts';
export { storeErrorCodeFor } from './store-error-code.ts';
export { fetchOrdersByIds, type BulkOptions, type FetchByIdsResult } from './fetch-orders-by-ids.ts';
export { fetchProductsByIds } from './fetch-products-by-ids.ts';
export type { EcwidLookup } from './lookup.ts';
export { paginate, paginatePages, type SearchFn } from './paginate.ts';
export { createRateLimiter, limitShare, type RateLimiter, type RateLimiterOptions, type RateLimiterStats } from './rate-limiter.ts';
export { createRateLimiterRegistry, tokenKey, type RateLimiterRegistry, type RateLimiterRegistryOptions } from './rate-limiter-registry.ts';
export { runBatch, type BatchApi, type RunBatchOptions } from './run-batch.ts';
export * from './schemas/index.ts';
export type * from './search-params.ts';
