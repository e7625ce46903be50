import { AppError, errorReply } from '@mirror/core';
import type { Context } from 'hono';
import type { ZodError } from 'zod';

/** The one place the API turns errors into HTTP: `{ error: { code, message, parameter? } }`. */
export function errorResponse(c: Context, err: unknown): Response {
  const { status, headers, body } = errorReply(err);
  return c.json(body, status, status === 401 ? { ...headers, 'WWW-Authenticate': 'Bearer' } : headers);
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
