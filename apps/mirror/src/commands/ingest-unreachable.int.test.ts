import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { createSecretBox } from '@mirror/core';
import { eventLogTable } from '@mirror/db';
import { postgresSkipReason, createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { signWebhook } from '@mirror/ecwid';
import { addStoreToken } from '@mirror/projector';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cliPath, exited, freePort } from './test-process.ts';

/*
 * `mirror ingest` started before its database is reachable: it listens, answers webhooks 503
 * (Ecwid retries them) and /readyz 503, then takes webhooks once the database answers.
 */

const storeId = 1003;
const secret = 'ingest-unreachable-secret';
const skip = postgresSkipReason('ingest started before its database', 'needs a Postgres server to put a proxy in front of');

let database: TestDatabase;
let child: ChildProcess | undefined;
let proxy: Server | undefined;

describe.skipIf(skip)('mirror ingest before its database answers', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    await addStoreToken(database.db, createSecretBox(randomBytes(32)), storeId, 'secret_ingest_unreachable');
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await exited(child);
    }
    proxy?.close();
    await database?.close();
  });

  test('listens at once, answers 503 until the database is up, then stores webhooks', async () => {
    const real = new URL(database.url!);
    const proxyPort = await freePort();
    const through = new URL(database.url!);
    through.port = String(proxyPort);
    const port = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', cliPath, 'ingest'], {
      env: {
        ...process.env,
        DATABASE_URL: through.href,
        PORT: String(port),
        HOST: '127.0.0.1',
        ECWID_CLIENT_SECRET: secret,
        LOG_LEVEL: 'silent',
      },
      stdio: 'ignore',
    });
    const base = `http://127.0.0.1:${port}`;
    await expect
      .poll(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status, { timeout: 30_000, interval: 100 })
      .toBe(200);

    const post = async (eventId: string) => {
      const eventCreated = Math.floor(Date.now() / 1000);
      const body = JSON.stringify({ eventId, eventCreated, storeId, entityId: 7, eventType: 'product.updated', data: {} });
      return fetch(`${base}/webhooks/ecwid`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ecwid-webhook-signature': signWebhook(eventCreated, eventId, secret) },
        body,
      });
    };
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    const early = await post('before-the-database');
    expect(early.status).toBe(503);
    expect(early.headers.get('retry-after')).toBe('5');
    expect(((await early.json()) as { error: { code: string } }).error.code).toBe('UNAVAILABLE');
    expect(child.exitCode).toBeNull();
    // Counted as a 503 (the ingest alert watches this outcome).
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^mirror_webhooks_total\{[^}]*outcome="unavailable"[^}]*\} 1$/m);

    // The database comes up (a proxy to it starts listening where ingest looks).
    proxy = createServer((socket) => {
      const upstream = connect(Number(real.port || 5432), real.hostname);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => proxy!.listen(proxyPort, '127.0.0.1', resolve));
    await expect.poll(async () => (await fetch(`${base}/readyz`)).status, { timeout: 30_000, interval: 200 }).toBe(200);
    const late = await post('after-the-database');
    expect(late.status).toBe(200);
    expect(await late.json()).toEqual({ status: 'inserted' });
    const rows = await database.db
      .select({ eventId: eventLogTable.eventId })
      .from(eventLogTable)
      .where(and(eq(eventLogTable.storeId, storeId), eq(eventLogTable.kind, 'webhook')));
    expect(rows).toEqual([{ eventId: 'after-the-database' }]);
  }, 90_000);
});
