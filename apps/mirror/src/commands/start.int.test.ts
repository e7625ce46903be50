import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { cliPath, freePort } from './test-process.ts';

/*
 * What a newcomer does: `pnpm start` in a clean directory with nothing configured. The mirror
 * must come up on embedded PGlite with a simulated store, print the store id and an API key,
 * and serve that store's orders through the query API within seconds; SIGTERM stops it cleanly.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'mirror-start-'));
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

test("pnpm start on PGlite from a clean directory serves the demo store's orders, then stops on SIGTERM", async () => {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    MIRROR_DATA_DIR: join(dataDir, 'pgdata'),
    LOG_FORMAT: 'json',
    MIRROR_DEMO_RATE: '5',
  };
  for (const name of ['DATABASE_URL', 'ECWID_STORES', 'ECWID_CLIENT_SECRET', 'MIRROR_ADMIN_TOKEN']) delete env[name];
  const started = Date.now();
  child = spawn(process.execPath, ['--import', 'tsx', cliPath, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));

  // The banner names the store and the key to use.
  const banner = await until(() => /Demo store id: (\d+)\s+API key for it: (\S+)/.exec(stdout), 90_000);
  const [, storeId, apiKey] = banner;
  expect(stdout).toContain('DEMO MODE');
  // No structured log line carries the key: it is printed for the person, not logged.
  expect(stdout.split('\n').filter((l) => l.startsWith('{') && l.includes(apiKey!))).toEqual([]);

  const orders = await until(async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/stores/${storeId}/orders?limit=5`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    if (res.status !== 200) return undefined;
    const body = (await res.json()) as { data: { orderId: string; items: unknown[] }[] };
    return body.data.length > 0 ? body.data : undefined;
  }, 60_000);
  console.log(`demo orders visible ${((Date.now() - started) / 1000).toFixed(1)} s after start`);
  expect(orders[0]!.orderId).toMatch(/^[A-Z0-9]+$/);
  expect(orders[0]!.items.length).toBeGreaterThan(0);

  // A path no route takes, under the API or not, answers the API's JSON error.
  const unknown = await fetch(`http://127.0.0.1:${port}/v1/stores/${storeId}/nothing`, { headers: { authorization: `Bearer ${apiKey}` } });
  expect(unknown.status).toBe(404);
  expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  // Without the key, nothing.
  expect((await fetch(`http://127.0.0.1:${port}/v1/stores/${storeId}/orders`)).status).toBe(401);
  // The same port serves ingest, health and metrics.
  expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
  // The simulated store's live webhooks arrive through ingest once the backfill is done.
  const metrics = await until(async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return /mirror_webhooks_total\{[^}]*outcome="inserted"\} \d+/.test(text) ? text : undefined;
  }, 30_000);
  expect(metrics).toContain('mirror_log_head_position');
  expect(metrics).toMatch(/mirror_ecwid_requests_total\{status="200"\} \d+/);

  child.kill('SIGTERM');
  const exit = await new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
  expect(exit).toBe(0);
}, 180_000);

async function until<T>(probe: () => T | undefined | null | Promise<T | undefined | null>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
