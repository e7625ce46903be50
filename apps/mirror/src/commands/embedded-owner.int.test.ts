import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimEmbedded, createDb, execRows, ownerRecordPath } from '@mirror/db';
import { sql } from 'drizzle-orm';
import { afterAll, expect, test } from 'vitest';
import { cliPath, exited, freePort } from './test-process.ts';

/*
 * The embedded database (PGlite, no DATABASE_URL) as people use it: `pnpm start` in one
 * terminal, `pnpm mirror …` in another. One process owns the data folder and serves it; every
 * other command connects through it; a second server refuses. And a server killed with -9 in
 * the middle of webhooks loses none it acknowledged, and the folder opens again every time.
 * No TEST_DATABASE_URL needed: these run on PGlite in child processes.
 */

const root = mkdtempSync(join(tmpdir(), 'mirror-owner-'));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

function baseEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, MIRROR_DATA_DIR: dataDir, LOG_FORMAT: 'json', HOST: '127.0.0.1', ...extra };
  for (const name of ['DATABASE_URL', 'ECWID_STORES', 'ECWID_CLIENT_SECRET', 'MIRROR_ADMIN_TOKEN', 'LOG_LEVEL']) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

type Run = { code: number | null; stdout: string; stderr: string; ms: number };

/** Runs a short `mirror …` command to its end. */
async function mirror(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const { code } = await exited(child);
  children.delete(child);
  return { code, stdout, stderr, ms: Date.now() - started };
}

/** Starts a long-running `mirror …` and collects its output. */
function server(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', 'tsx', cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out.stderr += c.toString()));
  child.once('exit', () => children.delete(child));
  return { child, out };
}

async function until<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const httpStatus = async (url: string, init?: RequestInit) => (await fetch(url, init).catch(() => undefined))?.status;

test('beside `mirror start` on PGlite, other commands connect through it, psql-style clients read it, a second server refuses', async () => {
  const dataDir = join(root, 'beside', 'pgdata');
  const ports = [await freePort(), await freePort()];
  const started = Date.now();
  // Two servers started at the same moment on a new folder: one opens it, the other refuses,
  // says who has it and what to do, exit code 3.
  const both = ports.map((port) => ({ port, ...server(['start'], baseEnv(dataDir, { PORT: String(port), MIRROR_DEMO_RATE: '5' })) }));
  const refused = await Promise.race(both.map(async (s) => (await exited(s.child), s)));
  const { child, out, port } = both.find((s) => s !== refused)!;
  const env = baseEnv(dataDir, { PORT: String(port) });
  expect(refused.child.exitCode, refused.out.stderr).toBe(3);
  expect(refused.out.stderr).toContain(`in use by process ${child.pid} (mirror start`);
  expect(refused.out.stderr).toContain('DATABASE_URL');
  const [, sqlUrl] = await until(() => /SQL \(psql, BI tools; while this runs\): (\S+)/.exec(out.stdout), 90_000, 'demo banner');
  const [, storeId, apiKey] = /Demo store id: (\d+)\s+API key for it: (\S+)/.exec(out.stdout)!;
  console.log(`mirror start serving ${sqlUrl} after ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // The record beside the folder names the server and its URL.
  const record = JSON.parse(readFileSync(ownerRecordPath(dataDir), 'utf8')) as { pid: number; url: string; command: string };
  expect(record).toMatchObject({ pid: child.pid, url: sqlUrl, command: 'mirror start' });
  // The URL is logged too (for a server without the demo banner).
  expect(out.stdout).toContain(`"url":"${sqlUrl}"`);

  // Short commands at once, beside the server: all connect through it.
  const [status, migrate, keys] = await Promise.all([
    mirror(['status', '--json'], env),
    mirror(['migrate'], env),
    mirror(['api-keys', 'list'], env),
  ]);
  console.log(`beside the server: status ${status.ms} ms, migrate ${migrate.ms} ms, api-keys list ${keys.ms} ms`);
  for (const run of [status, migrate, keys]) {
    expect(run.stderr).not.toMatch(/Aborted|PANIC|in use by/);
    expect(run.code).toBe(0);
  }
  expect((JSON.parse(status.stdout) as { stores: { storeId: number }[] }).stores.map((s) => s.storeId)).toContain(Number(storeId));
  expect(keys.stdout).toContain('demo');
  expect(migrate.stdout).toContain('through the process that owns it');

  // psql's way in: the reporting views over the wire.
  const reader = await createDb({ url: sqlUrl, embedded: true });
  try {
    const [row] = await execRows<{ n: number }>(reader.db, sql`select count(*)::int as n from reporting.daily_sales`);
    expect(row!.n).toBeGreaterThanOrEqual(0);
  } finally {
    await reader.close();
  }

  // The server kept working: health, and the API's list and get-by-id (prepared statements,
  // raw rows and pipelining on one connection, over the socket).
  const headers = { authorization: `Bearer ${apiKey}` };
  const [order] = await until(
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}/v1/stores/${storeId}/orders?limit=3`, { headers });
      return res.status === 200 ? ((await res.json()) as { data: { orderId: string }[] }).data : undefined;
    },
    30_000,
    'orders through the API',
  );
  const byId = await Promise.all(
    Array.from({ length: 8 }, () => fetch(`http://127.0.0.1:${port}/v1/stores/${storeId}/orders/${order!.orderId}`, { headers })),
  );
  expect(byId.map((r) => r.status)).toEqual(Array(8).fill(200));
  expect(await httpStatus(`http://127.0.0.1:${port}/readyz`)).toBe(200);
  expect(child.exitCode).toBeNull();

  // Ctrl-C: a clean stop, exit 0, the record removed.
  child.kill('SIGINT');
  expect(await exited(child)).toEqual({ code: 0, signal: null });
  expect(existsSync(ownerRecordPath(dataDir))).toBe(false);
}, 180_000);

test('kill -9 of the server while webhooks arrive, with commands in between: the folder always opens, no acknowledged webhook is lost', async () => {
  const dataDir = join(root, 'kill', 'pgdata');
  const storeId = 777;
  const dead = await freePort(); // Ecwid's API: nothing listens (enrichment pauses the store, ingest does not care)
  const env = (port: number) =>
    baseEnv(dataDir, {
      PORT: String(port),
      ECWID_STORES: `${storeId}:secret_kill_token`,
      MIRROR_SECRET_KEY: '01'.repeat(32),
      ECWID_WEBHOOK_VERIFY: 'false',
      ECWID_API_BASE_URL: `http://127.0.0.1:${dead}/api/v3`,
      LOG_LEVEL: 'warn',
    });
  const acknowledged = new Set<string>();
  let sent = 0;
  let kills = 0;
  let counter = 0;
  for (let round = 0; round < 5; round++) {
    const port = await freePort();
    const { child, out } = server(['start'], env(port));
    await until(async () => (await httpStatus(`http://127.0.0.1:${port}/readyz`)) === 200, 90_000, `server ready (round ${round})`).catch(
      (err) => {
        throw new Error(`${(err as Error).message}\n${out.stderr}`);
      },
    );
    let stop = false;
    const senders = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const eventId = `kill-${round}-${++counter}`;
        sent++;
        const res = await fetch(`http://127.0.0.1:${port}/webhooks/ecwid`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            eventId,
            eventCreated: Math.floor(Date.now() / 1000),
            storeId,
            entityId: counter,
            eventType: 'product.updated',
          }),
        }).catch(() => undefined);
        if (res?.status === 200) {
          const body = (await res.json().catch(() => ({}))) as { status?: string };
          if (body.status === 'inserted' || body.status === 'duplicate') acknowledged.add(eventId);
          else throw new Error(`webhook ${eventId} answered 200 ${JSON.stringify(body)}: expected inserted`);
        } else if (!res) break; // the server is gone
      }
    });
    // A command beside the server, while webhooks arrive (once: each process start costs seconds).
    if (round === 1) {
      const beside = await mirror(['status'], env(port));
      expect(beside.code, beside.stderr).toBe(0);
    }
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 1200));
    child.kill('SIGKILL');
    kills++;
    await exited(child);
    stop = true;
    await Promise.all(senders);
    // The record is left behind; the next process recovers. Twice that is a command run in
    // between (it becomes the owner for its run), else the next server (or, at the end, this test).
    expect(existsSync(ownerRecordPath(dataDir))).toBe(true);
    if (round === 0 || round === 2) {
      const between = await mirror(round === 2 ? ['api-keys', 'list'] : ['status'], env(port));
      expect(between.stderr).not.toMatch(/Aborted|PANIC/);
      expect(between.code, between.stderr).toBe(0);
      expect(existsSync(ownerRecordPath(dataDir))).toBe(false);
    }
  }

  // This test process opens the folder itself (recovering the last kill's record) and looks.
  const claim = await claimEmbedded(dataDir, { command: 'test', exclusive: true });
  expect(claim.role).toBe('owner');
  const reader = await createDb({ url: claim.url, embedded: true });
  try {
    const rows = await execRows<{ event_id: string }>(
      reader.db,
      sql`select event_id from event_log where kind = 'webhook' and store_id = ${storeId}`,
    );
    const logged = new Set(rows.map((r) => r.event_id));
    const lost = [...acknowledged].filter((id) => !logged.has(id));
    console.log(
      `kill -9: ${kills} kills; ${sent} webhooks sent, ${acknowledged.size} acknowledged, ${[...acknowledged].filter((id) => logged.has(id)).length} of them found in event_log, ${lost.length} lost`,
    );
    expect(kills).toBeGreaterThanOrEqual(5);
    expect(acknowledged.size).toBeGreaterThan(0);
    expect(lost).toEqual([]);
  } finally {
    await reader.close();
    if (claim.role === 'owner') await claim.release();
  }
}, 240_000);

test('a record another machine wrote (a copied folder, a recreated container) is named with its host, and how to clear it', async () => {
  const dataDir = join(root, 'foreign');
  const recordPath = ownerRecordPath(dataDir);
  writeFileSync(
    recordPath,
    JSON.stringify({
      pid: 1,
      nonce: 'foreign',
      host: 'another-machine',
      processStart: '1',
      startedAt: '2026-12-01T00:00:00.000Z',
      command: 'mirror start',
      dataDir,
      url: 'postgres://postgres@127.0.0.1:1/postgres',
    }),
  );
  const run = await mirror(['api'], baseEnv(dataDir, { PORT: String(await freePort()) }));
  expect(run.code).toBe(3);
  expect(run.stderr).toContain('in use by process 1 (mirror start, since 2026-12-01T00:00:00.000Z)');
  expect(run.stderr).toContain(', on host another-machine.');
  expect(run.stderr).toContain(
    `if no mirror runs on another-machine any more (the folder was copied, or a container was recreated), delete ${recordPath}`,
  );
  // Never this machine's pid 1.
  expect(run.stderr).not.toContain('kill 1');
}, 60_000);
