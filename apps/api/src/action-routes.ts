import { createRoute, type OpenAPIHono, type z } from '@hono/zod-openapi';
import { AppError } from '@mirror/core';
import type { Context } from 'hono';
import type { ApiEnv } from './api-env.ts';
import { readJsonBody } from './json-body.ts';
import { validationError } from './on-error.ts';
import { pathParams, readPathParams, readQuery } from './request-parts.ts';
import { errorSchema } from './routes.ts';

/** No action route takes a query parameter: what it acts on is in the path and the body. */
const noQueryParameters: ReadonlySet<string> = new Set();

type ErrorStatus = 400 | 401 | 403 | 404 | 409;

const errorDescriptions: Record<Exclude<ErrorStatus, 409>, string> = {
  400: 'a query parameter (there are none), a path parameter or the body is bad; `error.parameter` names it',
  401: 'no valid API key or admin token',
  403: 'a store key: only the admin token may do this',
  404: 'no such store or item',
};

/** Operator actions (retries, keys, verify) are the admin token's alone: a store key reads. */
export function requireAdmin(c: Context<ApiEnv>, what: string): void {
  if (c.get('principal').kind !== 'admin') throw new AppError('FORBIDDEN', `${what} needs the admin token (MIRROR_ADMIN_TOKEN)`);
}

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });

/**
 * Registers a POST or DELETE route, the one way the API takes one: documented in /openapi.json
 * like the GET routes, and the request checked before the handler acts, each failure a 400
 * naming the part. The query must be empty (an unknown or undecodable parameter is refused as on
 * GET routes, routes.ts), path parameters are decoded strictly and checked by their schema, and a
 * JSON body (when the route takes one) is read strictly (json-body.ts).
 */
export function addActionRoute<Body>(
  app: OpenAPIHono<ApiEnv>,
  spec: {
    method: 'post' | 'delete';
    path: string;
    tag: string;
    summary: string;
    description?: string;
    params?: z.ZodObject;
    body?: z.ZodType<Body>;
    status: 200 | 201 | 202;
    response: z.ZodType;
    responseDescription: string;
    /** The route's own wording of an error answer, or one more (409) it gives. */
    errors?: Partial<Record<ErrorStatus, string>>;
  },
  handler: (c: Context<ApiEnv>, input: { params: Record<string, unknown>; body: Body }) => Promise<Response>,
): void {
  app.openAPIRegistry.registerPath(
    createRoute({
      method: spec.method,
      path: spec.path,
      tags: [spec.tag],
      summary: spec.summary,
      ...(spec.description && { description: spec.description }),
      security: [{ bearerAuth: [] }],
      request: {
        ...(spec.params && { params: spec.params }),
        ...(spec.body && { body: { ...json(spec.body), required: true } }),
      },
      responses: {
        [spec.status]: { description: spec.responseDescription, ...json(spec.response) },
        ...Object.fromEntries(
          Object.entries({ ...errorDescriptions, ...spec.errors }).map(([status, description]) => [
            status,
            { description, ...json(errorSchema) },
          ]),
        ),
      },
    }),
  );
  const params = pathParams(spec.path);
  app.on(spec.method.toUpperCase(), spec.path.replaceAll(/\/{(.+?)}/g, '/:$1'), async (c) => {
    readQuery(c.req.url, noQueryParameters);
    let checkedParams: Record<string, unknown> = {};
    if (spec.params) {
      const result = await spec.params.safeParseAsync(readPathParams(c.req.url, params));
      if (!result.success) throw validationError(result.error, 'param');
      checkedParams = result.data as Record<string, unknown>;
    }
    let body = undefined as Body;
    if (spec.body) body = await readJsonBody(c, spec.body);
    return handler(c, { params: checkedParams, body });
  });
}
