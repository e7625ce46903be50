import { spawn } from 'node:child_process';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { cliPath, exited, freePort } from './test-process.ts';

/* `mirror api` run alone, as a deployment splitting the parts would. */

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

test.skipIf(concurrencySkipReason('mirror api in a child process'))(
  'mirror api alone serves /healthz, /readyz, /metrics and the API, and stops on SIGTERM',
  async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', cliPath, 'api'], {
      env: { ...process.env, DATABASE_URL: database.url!, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    try {
      const status = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined))?.status;
      await expect.poll(() => status('/healthz'), { timeout: 60_000, interval: 200 }).toBe(200);
      expect(await status('/readyz')).toBe(200);
      expect(await status('/metrics')).toBe(200);
      expect(await status('/openapi.json')).toBe(200);
      expect(await status('/v1/stores')).toBe(401);
      // A path no route takes answers the API's JSON error, not Hono's plain text.
      const unknown = await fetch(`http://127.0.0.1:${port}/nothing/here`, { method: 'DELETE' });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route for DELETE /nothing/here' } });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited(child)).toEqual({ code: 0, signal: null });
  },
  120_000,
);
