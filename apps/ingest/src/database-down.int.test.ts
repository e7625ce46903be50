import { createServer, connect, type Server, type Socket } from 'node:net';
import { createSilentLogger } from '@mirror/core';
import { createDb, eventLogTable, storeTokensTable, type Database } from '@mirror/db';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createIngest } from './start-ingest.ts';
import { postWebhook, testSecret, webhookBody } from './test-helpers.ts';

/** A TCP hop between ingest and Postgres that a test can cut and restore, like a failing network. */
async function startCuttableProxy(target: URL): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const open = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => {});
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  await open();
  return {
    port,
    async cut() {
      await new Promise<void>((resolve) => {
        server!.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
    restore: open,
  };
}

const skip = concurrencySkipReason('database-down tests');

describe.skipIf(skip)('when the database goes away', () => {
  let database: TestDatabase;
  let throughProxy: Database;
  let proxy: Awaited<ReturnType<typeof startCuttableProxy>>;
  let app: ReturnType<typeof createIngest>['app'];

  beforeAll(async () => {
    database = await createTestDatabase();
    await database.db.insert(storeTokensTable).values({ storeId: 1003, token: 'secret_test' });
    const url = new URL(database.url!);
    proxy = await startCuttableProxy(new URL(url));
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    throughProxy = await createDb({ url: url.toString(), connectTimeoutSeconds: 2 });
    app = createIngest(
      throughProxy,
      {
        clientSecret: testSecret,
        verifySignatures: true,
        bodyLimitBytes: 262_144,
        batchMax: 50,
        batchWindowMs: 0,
        appendTimeoutMs: 3000,
        maxEventAgeMs: 3_600_000,
      },
      process.env.DEBUG_TEST ? (await import('@mirror/core')).createLogger({ level: 'debug' }) : createSilentLogger(),
    ).app;
  });
  afterAll(async () => {
    await throughProxy?.close().catch(() => {});
    await database?.close();
  });

  const stored = async (ids: string[]) =>
    (await database.db.select({ id: eventLogTable.eventId }).from(eventLogTable).where(inArray(eventLogTable.eventId, ids))).map(
      (r) => r.id,
    );

  test('answers 503 with Retry-After, acknowledges nothing, and recovers when it is back', async () => {
    const before = Array.from({ length: 10 }, () => webhookBody());
    expect((await Promise.all(before.map((b) => postWebhook(app, b)))).map((r) => r.status)).toEqual(before.map(() => 200));

    await proxy.cut();
    const during = Array.from({ length: 10 }, () => webhookBody());
    const refused = await Promise.all(during.map((b) => postWebhook(app, b)));
    for (const res of refused) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toMatchObject({ error: { code: 'UNAVAILABLE' } });
    }
    expect((await app.request('/readyz')).status).toBe(503);
    expect(await stored(during.map((b) => b.eventId as string))).toEqual([]);

    // Ecwid retries what was refused; once the database is back, those land exactly once.
    await proxy.restore();
    const retried = await Promise.all(during.map((b) => postWebhook(app, b)));
    expect(retried.map((r) => r.status)).toEqual(during.map(() => 200));
    expect((await stored(during.map((b) => b.eventId as string))).sort()).toEqual(during.map((b) => b.eventId).sort());
  });

  test('never answers 200 for a webhook that is not in the log, even when cut mid-flight', async () => {
    const bodies = Array.from({ length: 150 }, () => webhookBody());
    let acked = 0;
    let cutting: Promise<void> | undefined;
    const statuses = await Promise.all(
      bodies.map(async (b, i) => {
        await new Promise((r) => setTimeout(r, i)); // a steady stream, 1 ms apart
        const res = await postWebhook(app, b);
        // Cut the connection while the stream is still flowing, after some commits landed.
        if (res.status === 200 && ++acked === 20) cutting = proxy.cut();
        return res.status;
      }),
    );
    await cutting;
    await proxy.restore();

    const acknowledged = bodies.filter((_, i) => statuses[i] === 200).map((b) => b.eventId as string);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses).toContain(503);
    expect(acknowledged.length).toBeGreaterThan(0);
    expect((await stored(acknowledged)).sort()).toEqual(acknowledged.sort());
  });

  test('answers 503 in time when the database holds the store lookup (a lock), not after Ecwid gave up', async () => {
    // A fresh ingest: it has not read which stores it mirrors yet, so its first webhook asks.
    const fresh = createIngest(
      database,
      {
        clientSecret: testSecret,
        verifySignatures: true,
        bodyLimitBytes: 262_144,
        batchMax: 50,
        batchWindowMs: 0,
        appendTimeoutMs: 1000,
        maxEventAgeMs: 3_600_000,
      },
      createSilentLogger(),
    ).app;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const holder = database.db.transaction(async (tx) => {
      await tx.execute(sql`lock table store_tokens in access exclusive mode`);
      locked();
      await held;
    });
    await lockTaken;
    const body = webhookBody();
    const started = performance.now();
    const res = await postWebhook(fresh, body);
    const tookMs = performance.now() - started;
    release();
    await holder;
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(tookMs).toBeLessThan(5000);
    expect(await stored([body.eventId as string])).toEqual([]);
    // Once the lock is gone the same webhook lands.
    expect((await postWebhook(fresh, body)).status).toBe(200);
  });
});
