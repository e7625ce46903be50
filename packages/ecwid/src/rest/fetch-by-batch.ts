import type { z } from 'zod';
import type { EcwidBatchRequest, EcwidBatchStatus } from './batch-types.ts';
import { maxBatchSize } from './batch-types.ts';
import { EcwidHttpError, EcwidStoreError, EcwidUnavailableError, EcwidValidationError, type EcwidError } from './errors.ts';
import { readErrorFields } from './error-body.ts';
import { chunk, mapConcurrent } from '@mirror/core';
import type { RunBatchOptions } from './run-batch.ts';
import { ecwidCartSchema } from './schemas/cart.ts';
import { ecwidCategorySchema } from './schemas/category.ts';
import { ecwidCustomerGroupSchema } from './schemas/customer-group.ts';
import { ecwidCustomerSchema } from './schemas/customer.ts';
import { ecwidDiscountCouponSchema } from './schemas/discount-coupon.ts';
import { ecwidOrderSchema } from './schemas/order.ts';
import { ecwidProductTypeSchema } from './schemas/product-type.ts';
import { ecwidProductSchema } from './schemas/product.ts';
import { storeErrorCodeFor } from './store-error-code.ts';
import { formatFieldPath } from './validate.ts';

const enc = (id: string | number) => encodeURIComponent(String(id));

// One GET path per entity; the batch path is for entities whose search has no id filter.
const batchTargets = {
  order: { path: (id) => `/orders/${enc(id)}`, schema: ecwidOrderSchema },
  product: { path: (id) => `/products/${enc(id)}`, schema: ecwidProductSchema },
  cart: { path: (id) => `/carts/${enc(id)}`, schema: ecwidCartSchema },
  category: { path: (id) => `/categories/${enc(id)}`, schema: ecwidCategorySchema },
  customer: { path: (id) => `/customers/${enc(id)}`, schema: ecwidCustomerSchema },
  customerGroup: { path: (id) => `/customer_groups/${enc(id)}`, schema: ecwidCustomerGroupSchema },
  discountCoupon: {
    path: (id) => `/discount_coupons/${enc(id)}`,
    schema: ecwidDiscountCouponSchema,
  },
  productType: { path: (id) => `/classes/${enc(id)}`, schema: ecwidProductTypeSchema },
} satisfies Record<string, { path: (id: string | number) => string; schema: z.ZodType }>;

/** Entities {@link fetchByBatch} can read. */
export type BatchEntity = keyof typeof batchTargets;
/** The document type of each batch entity. */
export type BatchEntityDocument<E extends BatchEntity> = z.output<(typeof batchTargets)[E]['schema']>;

/** Found documents, ids Ecwid answered 404 for, and ids that failed (each with a typed error). */
export type BatchFetchResult<T, Id> = {
  found: { id: Id; value: T }[];
  missing: Id[];
  failed: { id: Id; error: EcwidError }[];
};

/** Options of {@link fetchByBatch}. */
export type FetchByBatchOptions = Omit<RunBatchOptions, 'stopOnFirstFailure'> & {
  batchSize?: number;
  /** Batches in flight at once; Ecwid runs one store's batches in order anyway. */
  concurrency?: number;
};

/**
 * Reads many entities by id through the batch API: up to 500 GET sub-requests per batch.
 * A 402/403 inside a batch still means the whole store is unreadable, so it throws.
 */
export async function fetchByBatch<E extends BatchEntity, Id extends string | number>(
  client: {
    runBatch(requests: readonly EcwidBatchRequest[], options?: RunBatchOptions): Promise<EcwidBatchStatus>;
  },
  entity: E,
  ids: readonly Id[],
  options: FetchByBatchOptions = {},
): Promise<BatchFetchResult<BatchEntityDocument<E>, Id>> {
  const { batchSize = maxBatchSize, concurrency = 1, ...runOptions } = options;
  const target: { path: (id: Id) => string; schema: z.ZodType } = batchTargets[entity];
  const result: BatchFetchResult<BatchEntityDocument<E>, Id> = {
    found: [],
    missing: [],
    failed: [],
  };

  await mapConcurrent(chunk([...new Set(ids)], Math.min(batchSize, maxBatchSize)), concurrency, async (idChunk) => {
    const requests = idChunk.map((id, index) => ({
      id: String(index),
      path: target.path(id),
      method: 'GET' as const,
    }));
    const status = await client.runBatch(requests, {
      allowParallelMode: true,
      ...runOptions,
      // A 404 for one id must not stop the others.
      stopOnFirstFailure: false,
    });
    const byRequestId = new Map(status.responses.map((response) => [response.id, response]));
    idChunk.forEach((id, index) => {
      const request = requests[index]!;
      const context = { method: 'GET', path: request.path.replace(/\?.*$/, '') };
      const response = byRequestId.get(request.id);
      const httpStatus = response?.httpStatusCode;
      if (!response || httpStatus === undefined || response.status === 'NOT_EXECUTED') {
        result.failed.push({
          id,
          error: new EcwidUnavailableError(context, { reason: 'server_error', attempts: 1 }),
        });
        return;
      }
      if (httpStatus >= 200 && httpStatus < 300) {
        const parsed = target.schema.safeParse(response.body);
        if (parsed.success) result.found.push({ id, value: parsed.data as BatchEntityDocument<E> });
        else {
          const issues = parsed.error.issues.map((issue) => ({
            path: formatFieldPath(issue.path),
            message: issue.message,
          }));
          result.failed.push({
            id,
            error: new EcwidValidationError(context, issues, { cause: parsed.error }),
          });
        }
        return;
      }
      const { errorCode, errorMessage } = readErrorFields(response.body);
      const storeCode = storeErrorCodeFor(httpStatus, errorCode);
      if (storeCode) throw new EcwidStoreError(storeCode, { ...context, status: httpStatus, errorCode }, errorMessage);
      if (httpStatus === 404) result.missing.push(id);
      else if (httpStatus === 429 || httpStatus >= 500) {
        const reason = httpStatus === 429 ? 'rate_limited' : 'server_error';
        result.failed.push({
          id,
          error: new EcwidUnavailableError({ ...context, status: httpStatus }, { reason, attempts: 1 }),
        });
      } else {
        result.failed.push({
          id,
          error: new EcwidHttpError({ ...context, status: httpStatus }, { errorCode, errorMessage }),
        });
      }
    });
  });
  return result;
}
