import { errorReply } from '@mirror/core';
import type { Context } from 'hono';

/** The one place ingest turns errors into HTTP: `{ error: { code, message, ... } }`. */
export function errorResponse(c: Context, err: unknown): Response {
  const { status, headers, body } = errorReply(err);
  return c.json(body, status, headers);
}
