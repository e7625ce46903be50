/**
 * The closed set of error codes the mirror speaks. Each HTTP app maps them to a status in one
 * table; everything else (CLI, workers) reads `code` to decide what to do.
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNAVAILABLE'
  | 'UPSTREAM_FAILED'
  | 'CONFIG'
  | 'INTERNAL';

/** The HTTP status each code maps to: the one table every HTTP app answers with. */
export const httpStatusByCode = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  UNAVAILABLE: 503,
  UPSTREAM_FAILED: 502,
  CONFIG: 500,
  INTERNAL: 500,
} as const satisfies Record<ErrorCode, number>;

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly code: ErrorCode;
  /** Safe, structured detail for the client (never secrets or personal data). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }
}

/** Turns anything thrown into an Error, keeping the original as `cause`. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : 'non-error thrown', { cause: value });
}

export type DescribeErrorOptions = {
  /**
   * Describe the innermost cause: the database's or the network's own words, not a wrapper's
   * (drizzle wraps a Postgres error in one whose message holds the query and its parameters,
   * which must never be shown).
   */
  innermost?: boolean;
  /** Prefix the error's class (`EcwidHttpError: …`). Default true. */
  withName?: boolean;
  /** Longest description; longer ones are cut with `...`. Default 500. */
  maxLength?: number;
};

/**
 * A one-line description of anything thrown, safe to store, log and show: on one line, capped, and anything that looks like an Ecwid token (`secret_…`, `public_…`) blanked. The one
 * way errors are described for people (status pages, parked rows, log fields, 400 answers).
 */
export function describeError(err: unknown, options: DescribeErrorOptions = {}): string {
  const { innermost = false, withName = true, maxLength = 500 } = options;
  let e = toError(err);
  if (innermost) while (e.cause instanceof Error) e = e.cause;
  const line = e.message.replace(/\s*\n\s*/g, ' ');
  const text = (withName ? `${e.name}: ${line}` : line).replace(/\b(secret|public)_[A-Za-z0-9]+/g, '$1_***');
  return text.length > maxLength ? `${text.slice(0, maxLength - 3)}...` : text;
}

/**
 * The answer every HTTP app gives for an error: its status, the body
 * `{ error: { code, message, ...details } }` and headers (Retry-After on 503). Only an
 * AppError's message is shown: those are written to be; any other error may carry internals
 * (SQL, parameters), so it answers 500 "Internal error".
 */
export function errorReply(err: unknown) {
  const appError = err instanceof AppError ? err : undefined;
  const code: ErrorCode = appError?.code ?? 'INTERNAL';
  const status = httpStatusByCode[code];
  const headers: Record<string, string> = status === 503 ? { 'Retry-After': '5' } : {};
  return { status, headers, body: { error: { code, message: appError?.message ?? 'Internal error', ...appError?.details } } };
}
