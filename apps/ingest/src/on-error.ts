import { AppError, httpStatusByCode, type ErrorCode } from '@mirror/core';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

const statusByCode: Record<ErrorCode, ContentfulStatusCode> = httpStatusByCode;

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
