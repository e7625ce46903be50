import { AppError, type ErrorCode } from '@mirror/core';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

const statusByCode = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UNAVAILABLE: 503,
  UPSTREAM_FAILED: 502,
  CONFIG: 500,
  INTERNAL: 500,
} as const satisfies Record<ErrorCode, ContentfulStatusCode>;

/** The one place ingest turns errors into HTTP: `{ error: { code, message, ... } }`. */
export function errorResponse(c: Context, err: unknown): Response {
  const appError = err instanceof AppError ? err : undefined;
  const code: ErrorCode = appError?.code ?? 'INTERNAL';
  const status = statusByCode[code];
  // AppError messages are written to be shown; anything else may carry internals.
  const message = appError?.message ?? 'Internal error';
  if (status === 503) c.header('Retry-After', '5');
  return c.json({ error: { code, message, ...appError?.details } }, status);
}
