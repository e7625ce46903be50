import { AppError, httpStatusByCode, type ErrorCode } from '@mirror/core';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';

const statusByCode: Record<ErrorCode, ContentfulStatusCode> = httpStatusByCode;

/** The one place the API turns errors into HTTP: `{ error: { code, message, parameter? } }`. */
export function errorResponse(c: Context, err: unknown): Response {
  const appError = err instanceof AppError ? err : undefined;
  const code: ErrorCode = appError?.code ?? 'INTERNAL';
  const status = statusByCode[code];
  // AppError messages are written to be shown; anything else may carry internals (SQL, params).
  const message = appError?.message ?? 'Internal error';
  if (status === 401) c.header('WWW-Authenticate', 'Bearer');
  if (status === 503) c.header('Retry-After', '5');
  return c.json({ error: { code, message, ...appError?.details } }, status);
}

const targetNames: Record<string, string> = {
  query: 'query parameter',
  param: 'path parameter',
  header: 'header',
  json: 'body field',
};

/**
 * Turns zod's validation error into our 400: the message names the first bad parameter, and
 * `parameter` carries its name for programs. zod's own issue list is not passed through: it is
 * large and its shape is zod's, not ours.
 */
export function validationError(error: ZodError, target: string): AppError {
  const issue = error.issues[0];
  const parameter = issue?.path.map(String).join('.') || target;
  const what = targetNames[target] ?? target;
  return new AppError('BAD_REQUEST', `invalid ${what} "${parameter}": ${issue?.message ?? 'invalid value'}`, {
    details: { parameter },
  });
}
