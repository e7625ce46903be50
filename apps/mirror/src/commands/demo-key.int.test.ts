import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiKeysTable } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { cliPath, exited, freePort } from './test-process.ts';

/*
 * Demo mode started twice on one database: one live demo key, not one more per start. The first
 * start's key stops working; the second's works. And the second start's simulated store sends
 * webhooks the mirror takes as new: not the first start's eventIds again, which ingest would
 * drop as duplicates, leaving a later start's demo with no live changes.
 */

let database: TestDatabase;
const dataDir = mkdtempSync(join(tmpdir(), 'mirror-demo-key-'));

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts `mirror start` in demo mode and reads the banner's key. */
async function start(): Promise<{
  key: string;
  ask: (key: string) => Promise<number>;
  webhooks: () => Promise<Webhooks>;
  stop: () => Promise<number | null>;
}> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), LOG_FORMAT: 'json', LOG_LEVEL: 'warn', MIRROR_DEMO_RATE: '10' };
  for (const name of ['DATABASE_URL', 'ECWID_STORES', 'ECWID_CLIENT_SECRET', 'MIRROR_ADMIN_TOKEN', 'MIRROR_DATA_DIR']) delete env[name];
  if (database.url) env.DATABASE_URL = database.url;
  else env.MIRROR_DATA_DIR = join(dataDir, 'pgdata');
  const child = spawn(process.execPath, ['--import', 'tsx', cliPath, 'start'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const stop = async () => {
    child.kill('SIGTERM');
    return (await exited(child)).code;
  };
  const deadline = Date.now() + 90_000;
  let key: string | undefined;
  while (!key && Date.now() < deadline && child.exitCode === null) {
    key = /API key for it: (\S+)/.exec(stdout)?.[1];
    if (!key) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!key) {
    await stop();
    throw new Error(`no demo key in the banner:\n${stdout}`);
  }
  expect(stdout).toContain("the previous start's demo key is revoked");
  // 401 for a key the server does not take; anything else means it took it.
  const ask = async (k: string) =>
    (await fetch(`http://127.0.0.1:${port}/v1/stores/1003/orders?limit=1`, { headers: { authorization: `Bearer ${k}` } })).status;
  // The webhooks this process answered, by outcome (from its own /metrics).
  const webhooks = async (): Promise<Webhooks> => {
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const count = (outcome: string) =>
      [...metrics.matchAll(new RegExp(`^mirror_webhooks_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)$`, 'gm'))].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
    return { inserted: count('inserted'), duplicate: count('duplicate') };
  };
  return { key, ask, webhooks, stop };
}

type Webhooks = { inserted: number; duplicate: number };

/** Waits (up to 30 s) until the demo's live webhooks have put at least `count` rows in the log. */
async function liveWebhooks(demo: { webhooks: () => Promise<Webhooks> }, count: number): Promise<Webhooks> {
  let seen: Webhooks = { inserted: 0, duplicate: 0 };
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
    seen = await demo.webhooks();
    if (seen.inserted >= count) break;
  }
  return seen;
}

test('demo mode across restarts: one live key (the previous one is revoked), and live webhooks again', async () => {
  const first = await start();
  expect(await first.ask(first.key)).not.toBe(401);
  expect((await liveWebhooks(first, 30)).inserted).toBeGreaterThanOrEqual(30);
  expect(await first.stop()).toBe(0);

  const second = await start();
  expect(second.key).not.toBe(first.key);
  expect(await second.ask(second.key)).not.toBe(401);
  expect(await second.ask(first.key)).toBe(401);
  // Were they the first start's eventIds again, the first 30 or more would all be duplicates.
  const again = await liveWebhooks(second, 10);
  expect(again.inserted).toBeGreaterThanOrEqual(10);
  expect(again.duplicate).toBeLessThan(10);
  expect(await second.stop()).toBe(0);

  if (database.url) {
    const live = await database.db
      .select({ prefix: apiKeysTable.prefix })
      .from(apiKeysTable)
      .where(and(eq(apiKeysTable.storeId, 1003), eq(apiKeysTable.label, 'demo'), isNull(apiKeysTable.revokedAt)));
    expect(live).toEqual([{ prefix: second.key.slice(0, 11) }]);
    expect(await database.db.$count(apiKeysTable)).toBe(2);
  }
}, 240_000);
