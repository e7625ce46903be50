import { createRoute, z, type OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ApiEnv } from './api-env.ts';
import { validationError } from './on-error.ts';

/** The error body of every non-2xx answer, as on-error.ts writes it. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(['BAD_REQUEST', 'UNAUTHORIZED', 'NOT_FOUND', 'INTERNAL', 'UNAVAILABLE']),
      message: z.string(),
      parameter: z.string().optional().openapi({ description: 'the bad parameter (400 only)' }),
    }),
  })
  .openapi('Error');

const errorResponses = {
  400: { description: 'a parameter is invalid; `error.parameter` names it', content: { 'application/json': { schema: errorSchema } } },
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
 * the schema accepts.
 */
export type FastCheck = (c: Context<ApiEnv>) => Record<string, unknown> | undefined;

type Target = 'query' | 'param';

/**
 * Registers a GET route: the zod schemas validate the request (through the app's defaultHook,
 * which maps failures to our 400) and describe it in /openapi.json.
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
    },
  } satisfies RouteConfig);
  if (!spec.fast) {
    app.openapi(route as RouteConfig, handler as never);
    return;
  }
  // The same document entry and the same checks app.openapi() would add (query, then params),
  // with the fast path first.
  app.openAPIRegistry.registerPath(route);
  const checks = (
    [
      ['query', spec.query],
      ['param', spec.params],
    ] as const
  ).flatMap(([target, schema]) => (schema ? [{ target, schema, fast: spec.fast?.[target] }] : []));
  app.get(spec.path.replaceAll(/\/{(.+?)}/g, '/:$1'), async (c) => {
    for (const { target, schema, fast } of checks) {
      let value = fast?.(c);
      if (value === undefined) {
        const result = await schema.safeParseAsync(requestPart(c, target));
        if (!result.success) throw validationError(result.error, target);
        value = result.data as Record<string, unknown>;
      }
      c.req.addValidatedData(target, value);
    }
    return handler(c);
  });
}

/** The request part as hono's validator hands it to zod: query values repeated become arrays. */
function requestPart(c: Context<ApiEnv>, target: Target): Record<string, unknown> {
  if (target === 'param') return c.req.param();
  return Object.fromEntries(Object.entries(c.req.queries()).map(([k, v]) => (v.length === 1 ? [k, v[0]] : [k, v])));
}

/** The validated part of the request, as the route's schema typed it. */
export function valid<T>(c: Context<ApiEnv>, target: 'query' | 'param'): T {
  return (c.req.valid as (t: string) => unknown)(target) as T;
}
