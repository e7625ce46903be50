/**
 * Why a store, not a single entity, cannot be read: the whole token/store needs attention, so
 * callers stop syncing that store instead of retrying. docs/ecwid.md §4.3.
 */
export type EcwidStoreErrorCode =
  | 'PLAN' // 402 NOT_AVAILABLE_ON_CURRENT_PLAN: the plan has no API access
  | 'SUSPENDED' // 402 STORE_IS_SUSPENDED
  | 'SCOPE' // 403 INSUFFICIENT_APP_SCOPE
  | 'TOKEN' // 403 INVALID_API_TOKEN (or 401)
  | 'FEATURE' // 403 *_FEATURE_NOT_AVAILABLE: e.g. reviews switched off for the store
  | 'STORE_NOT_FOUND'; // 404 STORE_NOT_FOUND / PROFILE_NOT_FOUND: not one entity, the store

/** Where and why a request failed; never the query string (it may hold an email) or the token. */
type RequestContext = { method: string; path: string; status?: number | undefined };

/** Common base so callers can `instanceof EcwidError` once. */
export class EcwidError extends Error {
  override readonly name: string = 'EcwidError';
  readonly method: string;
  /** Path without the query string, relative to the store: `/orders/K8XTQ`. */
  readonly path: string;

  constructor(message: string, context: RequestContext, options?: { cause?: unknown }) {
    super(message, options);
    this.method = context.method;
    this.path = context.path;
  }
}

/** 401/402/403 (and a 404 naming the store): not retried, the store needs attention. */
export class EcwidStoreError extends EcwidError {
  override readonly name = 'EcwidStoreError';
  readonly code: EcwidStoreErrorCode;
  readonly status: number;
  readonly errorCode: string | undefined;

  constructor(
    code: EcwidStoreErrorCode,
    context: RequestContext & { status: number; errorCode?: string | undefined },
    errorMessage?: string,
  ) {
    super(
      `Ecwid store error ${code} (${context.status}${context.errorCode ? ` ${context.errorCode}` : ''}) on ${context.method} ${context.path}${errorMessage ? `: ${errorMessage}` : ''}`,
      context,
    );
    this.code = code;
    this.status = context.status;
    this.errorCode = context.errorCode;
  }
}

/** Any other 4xx: a bug in the request or a state Ecwid refuses; retrying will not help. */
export class EcwidHttpError extends EcwidError {
  override readonly name = 'EcwidHttpError';
  readonly status: number;
  readonly errorCode: string | undefined;
  readonly errorMessage: string | undefined;

  constructor(context: RequestContext & { status: number }, body: { errorCode?: string | undefined; errorMessage?: string | undefined }) {
    super(
      `Ecwid ${context.status}${body.errorCode ? ` ${body.errorCode}` : ''} on ${context.method} ${context.path}${body.errorMessage ? `: ${body.errorMessage}` : ''}`,
      context,
    );
    this.status = context.status;
    this.errorCode = body.errorCode;
    this.errorMessage = body.errorMessage;
  }
}

/** Why the last attempt of a retried request failed. */
export type EcwidRetryReason = 'rate_limited' | 'server_error' | 'timeout' | 'network' | 'malformed_body';

/** 429, 5xx, timeouts or network failures that outlived every attempt. */
export class EcwidUnavailableError extends EcwidError {
  override readonly name = 'EcwidUnavailableError';
  readonly reason: EcwidRetryReason;
  readonly attempts: number;
  /** HTTP status of the last attempt, when there was a response. */
  readonly status: number | undefined;
  /** A 429's `Retry-After`, in ms, when the caller chose not to wait that long (`maxRateLimitWaitMs`). */
  readonly retryAfterMs: number | undefined;

  constructor(
    context: RequestContext,
    failure: { reason: EcwidRetryReason; attempts: number; retryAfterMs?: number },
    options?: { cause?: unknown },
  ) {
    super(
      `Ecwid ${context.method} ${context.path} failed after ${failure.attempts} attempts (${failure.reason}${context.status ? ` ${context.status}` : ''})`,
      context,
      options,
    );
    this.reason = failure.reason;
    this.attempts = failure.attempts;
    this.status = context.status;
    this.retryAfterMs = failure.retryAfterMs;
  }
}

/** One field that did not match what the mirror relies on. */
export type EcwidValidationIssue = { path: string; message: string };

/** A 2xx body the mirror cannot use: names the field, e.g. `items[3].price`. */
export class EcwidValidationError extends EcwidError {
  override readonly name = 'EcwidValidationError';
  readonly issues: readonly EcwidValidationIssue[];

  constructor(context: RequestContext, issues: readonly EcwidValidationIssue[], options?: { cause?: unknown }) {
    const first = issues[0];
    const summary = first ? `${first.path || '(root)'}: ${first.message}` : 'invalid body';
    const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : '';
    super(`Unexpected Ecwid response for ${context.method} ${context.path}: ${summary}${more}`, context, options);
    this.issues = issues;
  }

  /** The first offending field path, e.g. `items[3].price`. */
  get field(): string {
    return this.issues[0]?.path ?? '';
  }
}

/** A batch that did not complete within its polling budget. */
export class EcwidBatchTimeoutError extends EcwidError {
  override readonly name = 'EcwidBatchTimeoutError';
  readonly ticket: string;
  readonly lastStatus: string;

  constructor(ticket: string, lastStatus: string, waitedMs: number) {
    super(`Ecwid batch not completed after ${Math.round(waitedMs)} ms (last status ${lastStatus})`, {
      method: 'GET',
      path: '/batch',
    });
    this.ticket = ticket;
    this.lastStatus = lastStatus;
  }
}
