import { AppError, describeError, errorReply } from '@mirror/core';
import { sqlState } from '@mirror/db';
import { DrizzleQueryError } from 'drizzle-orm';
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

/** The causes of `err`, outermost first. */
function causeChain(err: unknown): unknown[] {
  const chain = [err];
  for (let e = err; e instanceof Error && e.cause !== undefined && chain.length < 10; e = e.cause) chain.push(e.cause);
  return chain;
}

/**
 * What the log says about an error the API did not expect (a 500): enough to find the fault (the
 * error's type, the database's SQLSTATE, where it was thrown) and nothing from the request's data.
 * The error object itself is not logged: drizzle's wrapper carries the query's parameters (in its
 * message and `params`), and Postgres quotes the offending value in its own message and `where`
 * (`invalid input syntax for type integer: "<the value>"`), so a database error is described by
 * its SQLSTATE alone. Any other error by its innermost cause's one-line description.
 */
export function unexpectedErrorLogFields(err: unknown): Record<string, unknown> {
  const chain = causeChain(err);
  const innermost = chain.at(-1);
  const state = chain.map(sqlState).find((s) => s !== undefined);
  const fromDatabase = state !== undefined || chain.some((e) => e instanceof DrizzleQueryError);
  return {
    errorType: innermost instanceof Error ? innermost.name : typeof innermost,
    ...(state && { sqlState: state }),
    ...(!fromDatabase && { error: describeError(innermost) }),
    stack: stackFrames(err),
  };
}

/** The `at …` lines of an error's stack: the lines before them repeat its message. */
function stackFrames(err: unknown): string[] {
  if (!(err instanceof Error) || !err.stack) return [];
  return err.stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .map((line) => line.trim());
}
