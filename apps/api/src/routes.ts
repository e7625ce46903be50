import { createRoute, z, type OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ApiEnv } from './api-env.ts';

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
  404: { description: 'no such store (or not readable with this key), or no such entity', content: { 'application/json': { schema: errorSchema } } },
} as const;

type Handler = (c: Context<ApiEnv>) => Promise<Response>;

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
  app.openapi(route as RouteConfig, handler as never);
}

/** The validated part of the request, as the route's schema typed it. */
export function valid<T>(c: Context<ApiEnv>, target: 'query' | 'param'): T {
  return (c.req.valid as (t: string) => unknown)(target) as T;
}
