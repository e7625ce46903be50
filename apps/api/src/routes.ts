import { createRoute, z, type OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ApiEnv } from './api-env.ts';
import { validationError } from './on-error.ts';
import { pathParams, readPathParams, readQuery } from './request-parts.ts';

/** The error body of every non-2xx answer, as on-error.ts writes it. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(['BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'PAYLOAD_TOO_LARGE', 'INTERNAL', 'UNAVAILABLE']),
      message: z.string(),
      parameter: z.string().optional().openapi({ description: 'the bad parameter (400 only)' }),
    }),
  })
  .openapi('Error');

const errorResponses = {
  400: {
    description:
      'a parameter is invalid, unknown or repeated, or not valid percent-encoded UTF-8 (or holds a NUL); `error.parameter` names it',
    content: { 'application/json': { schema: errorSchema } },
  },
  401: { description: 'no valid API key or admin token', content: { 'application/json': { schema: errorSchema } } },
  404: {
    description: 'no such store (or not readable with this key), or no such entity',
    content: { 'application/json': { schema: errorSchema } },
  },
} as const;

type Handler = (c: Context<ApiEnv>) => Promise<Response>;

/**
 * A cheap check of one request part for the common case: the values the route's zod schema would
 * produce, or undefined to let the schema decide (and word the error). It must accept only what
 * the schema accepts from the strictly decoded part (request-parts.ts): hono's decoded values,
 * which it may read, keep escapes it could not decode, so a value with `%` goes to the schema.
 */
export type FastCheck = (c: Context<ApiEnv>) => Record<string, unknown> | undefined;

type Target = 'query' | 'param';

/**
 * Registers a GET route: the zod schemas validate the request (failures become our 400 naming
 * the parameter, on-error.ts) and describe it in /openapi.json. The route takes only the query
 * parameters its query schema names (none without one), each at most once.
 */
export function addGetRoute(
  app: OpenAPIHono<ApiEnv>,
  spec: {
    path: string;
    tag: string;
    summary: string;
    description?: string;
    params?: z.ZodObject;
    query?: z.ZodObject;
    response: z.ZodType;
    responseDescription: string;
    /** Hot routes: skip zod when these say the request is valid (see FastCheck). */
    fast?: Partial<Record<Target, FastCheck>>;
    /** Read with the admin token only (the handler checks): a store key is answered 403. */
    adminOnly?: true;
  },
  handler: Handler,
): void {
  const route = createRoute({
    method: 'get',
    path: spec.path,
    tags: [spec.tag],
    summary: spec.summary,
    ...(spec.description && { description: spec.description }),
    security: [{ bearerAuth: [] }],
    request: { ...(spec.params && { params: spec.params }), ...(spec.query && { query: spec.query }) },
    responses: {
      200: { description: spec.responseDescription, content: { 'application/json': { schema: spec.response } } },
      ...errorResponses,
      ...(spec.adminOnly && {
        403: { description: 'a store key: only the admin token may read this', content: { 'application/json': { schema: errorSchema } } },
      }),
    },
  } satisfies RouteConfig);
  // Registered by hand rather than with app.openapi(): the same document entry and the same
  // checks (query, then params), but on the parts as request-parts.ts decodes them (strictly,
  // refusing unknown and repeated parameters), with the fast path first.
  app.openAPIRegistry.registerPath(route);
  const allowed = new Set(spec.query ? Object.keys(spec.query.shape) : []);
  const params = pathParams(spec.path);
  const read: Record<Target, (c: Context<ApiEnv>) => Record<string, string>> = {
    query: (c) => readQuery(c.req.url, allowed),
    param: (c) => readPathParams(c.req.url, params),
  };
  const checks = (
    [
      ['query', spec.query ?? z.object({})],
      ['param', spec.params],
    ] as const
  ).flatMap(([target, schema]) => (schema ? [{ target, schema, fast: spec.fast?.[target] }] : []));
  app.get(spec.path.replaceAll(/\/{(.+?)}/g, '/:$1'), async (c) => {
    for (const { target, schema, fast } of checks) {
      let value = fast?.(c);
      if (value === undefined) {
        const result = await schema.safeParseAsync(read[target](c));
        if (!result.success) throw validationError(result.error, target);
        value = result.data as Record<string, unknown>;
      }
      c.req.addValidatedData(target, value);
    }
    return handler(c);
  });
}

/** The validated part of the request, as the route's schema typed it. */
export function valid<T>(c: Context<ApiEnv>, target: 'query' | 'param'): T {
  return (c.req.valid as (t: string) => unknown)(target) as T;
}
