import type { Hono } from 'hono';

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
