import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { AppError, errorReply } from './errors.ts';

export type CheckReady = () => Promise<{ ready: true } | { ready: false; reason: string }>;

/**
 * `/healthz` (the process answers) and `/readyz` (the database answers and is migrated: 503
 * with the reason otherwise), for every process that serves HTTP.
 */
export function mountHealth(app: Hono, checkReady: CheckReady): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const state = await checkReady().catch(() => ({ ready: false as const, reason: 'database unreachable' }));
    return state.ready ? c.json({ status: 'ready' }) : c.json({ status: 'unready', reason: state.reason }, 503);
  });
}

/**
 * The JSON 404 (`{ error: { code: 'NOT_FOUND', … } }`) for a path no route takes, on a server's
 * root app. Hono does not carry a mounted app's `notFound` up to the root it is mounted on, so
 * without this every server answered unknown paths with a plain-text "404 Not Found".
 */
export function answerUnknownRoutes(app: Hono): void {
  app.notFound((c) => {
    const { status, headers, body } = errorReply(new AppError('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`));
    return c.json(body, status, headers);
  });
}

/** Listens on host:port; resolves once the socket is bound (port 0: a free one, returned). */
export function listen(
  app: { fetch: (req: Request) => Response | Promise<Response> },
  port: number,
  host: string,
): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => resolve({ server, port: info.port }));
    server.once('error', reject);
  });
}
