import { createRoute, type OpenAPIHono, type z } from '@hono/zod-openapi';
import { AppError } from '@mirror/core';
import type { Context } from 'hono';
import type { ApiEnv } from './api-env.ts';
import { validationError } from './on-error.ts';
import { errorSchema } from './routes.ts';

/** Bodies larger than this are refused before they are read whole. */
const maxBodyBytes = 16 * 1024;

/** Operator actions (retries, keys, verify) are the admin token's alone: a store key reads. */
export function requireAdmin(c: Context<ApiEnv>, what: string): void {
  if (c.get('principal').kind !== 'admin') throw new AppError('FORBIDDEN', `${what} needs the admin token (MIRROR_ADMIN_TOKEN)`);
}

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });

/**
 * Registers a POST or DELETE route: documented in /openapi.json like the GET routes, path
 * parameters checked by their schema, and a JSON body (when the route takes one) read strictly:
 * JSON content type, at most 16 KiB, the schema's fields only, or a 400 naming the field.
 */
export function addActionRoute<Body>(
  app: OpenAPIHono<ApiEnv>,
  spec: {
    method: 'post' | 'delete';
    path: string;
    tag: string;
    summary: string;
    description: string;
    params?: z.ZodObject;
    body?: z.ZodType<Body>;
    status: 200 | 201 | 202;
    response: z.ZodType;
    responseDescription: string;
  },
  handler: (c: Context<ApiEnv>, input: { params: Record<string, unknown>; body: Body }) => Promise<Response>,
): void {
  app.openAPIRegistry.registerPath(
    createRoute({
      method: spec.method,
      path: spec.path,
      tags: [spec.tag],
      summary: spec.summary,
      description: spec.description,
      security: [{ bearerAuth: [] }],
      request: {
        ...(spec.params && { params: spec.params }),
        ...(spec.body && { body: { ...json(spec.body), required: true } }),
      },
      responses: {
        [spec.status]: { description: spec.responseDescription, ...json(spec.response) },
        400: { description: 'a bad path parameter or body; `error.parameter` names it', ...json(errorSchema) },
        401: { description: 'no valid API key or admin token', ...json(errorSchema) },
        403: { description: 'a store key: only the admin token may do this', ...json(errorSchema) },
        404: { description: 'no such store or item', ...json(errorSchema) },
      },
    }),
  );
  app.on(spec.method.toUpperCase(), spec.path.replaceAll(/\/{(.+?)}/g, '/:$1'), async (c) => {
    let params: Record<string, unknown> = {};
    if (spec.params) {
      const result = await spec.params.safeParseAsync(c.req.param());
      if (!result.success) throw validationError(result.error, 'param');
      params = result.data as Record<string, unknown>;
    }
    let body = undefined as Body;
    if (spec.body) body = await readJsonBody(c, spec.body);
    return handler(c, { params, body });
  });
}

async function readJsonBody<T>(c: Context<ApiEnv>, schema: z.ZodType<T>): Promise<T> {
  if (!/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
    throw new AppError('BAD_REQUEST', 'send the body as JSON: Content-Type: application/json', { details: { parameter: 'content-type' } });
  }
  const text = await c.req.text();
  if (Buffer.byteLength(text) > maxBodyBytes) throw new AppError('PAYLOAD_TOO_LARGE', `the body is over ${maxBodyBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('BAD_REQUEST', 'the body is not valid JSON', { details: { parameter: 'body' } });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error, 'json');
  return parsed.data;
}
