import type { ContentfulStatusCode } from 'hono/utils/http-status';

// Codes from docs/ecwid.md §4.3; the customer, group and class codes are not documented and
// follow the pattern of the documented ones.
const statusByCode = {
  WRONG_PARAMETER: 400,
  INVALID_API_TOKEN: 403,
  INSUFFICIENT_APP_SCOPE: 403,
  STORE_NOT_FOUND: 404,
  ORDER_NOT_FOUND: 404,
  CHECKOUT_NOT_FOUND: 404,
  PRODUCT_NOT_FOUND: 404,
  CATEGORIES_NOT_FOUND: 404,
  CUSTOMER_NOT_FOUND: 404,
  CUSTOMER_GROUP_NOT_FOUND: 404,
  DISCOUNT_COUPON_NOT_FOUND: 404,
  PRODUCT_CLASS_NOT_FOUND: 404,
  PRODUCT_REVIEW_NOT_FOUND: 404,
  BATCH_NOT_FOUND: 404,
  OTHER: 404,
  RESOURCE_NOT_FOUND: 404,
  TIMEOUT: 408,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type EcwidErrorCode = keyof typeof statusByCode;

/** An Ecwid error answer: `{ errorMessage, errorCode }` with the status of its code. */
export class EcwidApiError extends Error {
  override readonly name = 'EcwidApiError';
  readonly code: EcwidErrorCode;

  constructor(code: EcwidErrorCode, message: string) {
    super(message);
    this.code = code;
  }

  get status(): ContentfulStatusCode {
    return statusByCode[this.code];
  }

  toBody() {
    return { errorMessage: this.message, errorCode: this.code };
  }
}

export function notFound(code: EcwidErrorCode, what: string, id: string): never {
  throw new EcwidApiError(code, `${what} with id ${id} not found`);
}
