import { createSilentLogger } from '@mirror/core';
import { eventLogTable, readLog, storeTokensTable } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { signWebhook } from '@mirror/ecwid';
import { webhookFixtures } from '@mirror/ecwid/testing';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createIngest } from './start-ingest.ts';
import { postWebhook, testSecret, webhookBody } from './test-helpers.ts';

let database: TestDatabase;
let ingest: ReturnType<typeof createIngest>;
const flushSizes: number[] = [];

const config = {
  clientSecret: testSecret,
  verifySignatures: true,
  bodyLimitBytes: 256 * 1024,
  batchMax: 200,
  batchWindowMs: 0,
  appendTimeoutMs: 8000,
  // Ecwid's documentation examples are years old (one is dated 2220); the age window has tests of its own.
  maxEventAgeMs: 100 * 365 * 86_400_000,
  maxFutureSkewMs: 300 * 365 * 86_400_000,
};

/** The stores these tests send for are mirrored (ingest ignores webhooks of any other). */
const mirroredStores = [1003, 4242, ...webhookFixtures().map(({ body }) => Number(body.storeId))];

beforeAll(async () => {
  database = await createTestDatabase();
  await database.db
    .insert(storeTokensTable)
    .values([...new Set(mirroredStores)].map((storeId) => ({ storeId, token: 'secret_test' })))
    .onConflictDoNothing();
  ingest = createIngest(database, config, createSilentLogger(), { onFlush: ({ size }) => flushSizes.push(size) });
});
afterAll(async () => {
  await database.close();
});

const rowsFor = (eventId: string) => database.db.select().from(eventLogTable).where(eq(eventLogTable.eventId, eventId));
const countRows = () => database.db.$count(eventLogTable);

describe('POST /webhooks/ecwid', () => {
  test("appends every example body from Ecwid's docs, verbatim", async () => {
    const fixtures = webhookFixtures();
    expect(fixtures.length).toBeGreaterThanOrEqual(15);
    for (const { name, body } of fixtures) {
      // The docs reuse one eventId across examples; give each its own so none is a duplicate.
      const unique = { ...body, eventId: `${String(body.eventId)}-${name}` };
      const res = await postWebhook(ingest.app, unique);
      expect(res.status, name).toBe(200);
      const [row] = await rowsFor(unique.eventId);
      expect(row?.payload, name).toEqual(unique);
      expect(row?.kind).toBe('webhook');
      expect(row?.storeId).toBe(body.storeId);
      expect(row?.eventType).toBe(body.eventType);
      expect(row?.entityId).toBe(String(body.entityId));
      expect(row?.isKnownType, name).toBe(true);
      expect(row?.eventCreatedAt?.getTime()).toBe((body.eventCreated as number) * 1000);
    }
  });

  test('stores a redelivered webhook once and answers 200 both times', async () => {
    const body = webhookBody();
    const first = await postWebhook(ingest.app, body);
    const second = await postWebhook(ingest.app, body);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(await second.json()).toEqual({ status: 'duplicate' });
    expect(await rowsFor(body.eventId as string)).toHaveLength(1);
  });

  test('trusts the body, not the ?eventtype= Ecwid appends to the URL', async () => {
    const body = webhookBody({ eventType: 'order.updated', entityId: 5, data: { orderId: 'K8XTQ' } });
    const res = await postWebhook(ingest.app, body, { query: '?eventtype=product.deleted' });
    expect(res.status).toBe(200);
    const [row] = await rowsFor(body.eventId as string);
    expect(row).toMatchObject({ eventType: 'order.updated', entityKind: 'order' });
  });

  test('keeps event types outside the catalog, marked unknown; resolves snake_case spellings', async () => {
    const unknown = webhookBody({ eventType: 'gift_card.created' });
    const alias = webhookBody({ eventType: 'application.storage_changed', entityId: '1003' });
    expect((await postWebhook(ingest.app, unknown)).status).toBe(200);
    expect((await postWebhook(ingest.app, alias)).status).toBe(200);
    expect((await rowsFor(unknown.eventId as string))[0]).toMatchObject({ isKnownType: false, entityKind: null });
    // Whatever its spelling: a space, a colon, a letter outside ASCII.
    for (const eventType of ['order created', 'order:created', 'order.créé', "order.updated'; drop table event_log;--"]) {
      const odd = webhookBody({ eventType });
      expect([eventType, (await postWebhook(ingest.app, odd)).status]).toEqual([eventType, 200]);
      expect((await rowsFor(odd.eventId as string))[0]).toMatchObject({ eventType, isKnownType: false, entityKind: null });
    }
    expect((await rowsFor(alias.eventId as string))[0]).toMatchObject({ isKnownType: true, entityKind: 'app_storage' });
  });

  test('rejects a missing or wrong signature with 401 and writes nothing', async () => {
    const before = await countRows();
    const body = webhookBody();
    const missing = await postWebhook(ingest.app, body, { signature: null });
    const wrongSecret = await postWebhook(ingest.app, body, { secret: 'not-the-secret' });
    const garbage = await postWebhook(ingest.app, body, { signature: 'bm9wZQ==' });
    // A valid signature of another event must not authorise this one.
    const otherEvent = await postWebhook(ingest.app, body, {
      signature: signWebhook(body.eventCreated as number, 'other-event', testSecret),
    });
    for (const res of [missing, wrongSecret, garbage, otherEvent]) {
      expect(res.status).toBe(401);
      expect((await res.json()) as unknown).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    }
    expect(await countRows()).toBe(before);
  });

  test('rejects a body over the size limit with 413 and writes nothing', async () => {
    const before = await countRows();
    const body = webhookBody({ data: { padding: 'x'.repeat(300 * 1024) } });
    const res = await postWebhook(ingest.app, body);
    expect(res.status).toBe(413);
    expect(await countRows()).toBe(before);
  });

  test('rejects a chunked body (no Content-Length) once it passes the limit', async () => {
    const before = await countRows();
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 10) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await ingest.app.request('/webhooks/ecwid', {
      method: 'POST',
      body: stream,
      headers: { 'x-ecwid-webhook-signature': signWebhook(1, 'x', testSecret) },
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(sent).toBeLessThan(10); // stopped reading early
    expect(await countRows()).toBe(before);
  });

  test('accepts a chunked body under the limit', async () => {
    const body = webhookBody();
    const bytes = new TextEncoder().encode(JSON.stringify(body));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 10));
        controller.enqueue(bytes.slice(10));
        controller.close();
      },
    });
    const res = await ingest.app.request('/webhooks/ecwid', {
      method: 'POST',
      body: stream,
      headers: { 'x-ecwid-webhook-signature': signWebhook(body.eventCreated as number, body.eventId as string, testSecret) },
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(200);
    expect(await rowsFor(body.eventId as string)).toHaveLength(1);
  });

  const valid = () => webhookBody();
  const withField = (field: string, value: unknown) => JSON.stringify({ ...valid(), [field]: value });
  const without = (field: string) => {
    const body = valid();
    delete body[field];
    return JSON.stringify(body);
  };
  const deep = (levels: number) => JSON.stringify({ ...valid(), data: JSON.parse(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`) });
  const utf8 = (s: string) => new TextEncoder().encode(s);
  const malformed: [string, string | Uint8Array, string][] = [
    ['invalid JSON', '{"eventId": "x",', 'body'],
    ['empty body', '', 'body'],
    ['whitespace only', '  \n ', 'body'],
    ['a JSON array', '[]', 'body'],
    ['an array holding a webhook', JSON.stringify([valid()]), 'body'],
    ['JSON null', 'null', 'body'],
    ['a JSON string', '"order.created"', 'body'],
    ['a JSON number', '42', 'body'],
    ['trailing garbage', `${JSON.stringify(valid())} x`, 'body'],
    ['eventId missing', without('eventId'), 'eventId'],
    ['eventId a number', withField('eventId', 123), 'eventId'],
    ['eventId empty', withField('eventId', ''), 'eventId'],
    ['eventCreated a string', withField('eventCreated', '1234567'), 'eventCreated'],
    ['eventCreated fractional', withField('eventCreated', 1234567.5), 'eventCreated'],
    ['eventCreated negative', withField('eventCreated', -1), 'eventCreated'],
    ['eventCreated huge', '{"eventId":"h","eventCreated":1e300,"storeId":1,"entityId":1,"eventType":"order.updated"}', 'eventCreated'],
    [
      'eventCreated beyond 2^53',
      '{"eventId":"h","eventCreated":9007199254740993,"storeId":1,"entityId":1,"eventType":"order.updated"}',
      'eventCreated',
    ],
    ['storeId missing', without('storeId'), 'storeId'],
    ['storeId a string', withField('storeId', '1003'), 'storeId'],
    ['storeId zero', withField('storeId', 0), 'storeId'],
    [
      'storeId beyond 2^53',
      '{"eventId":"h","eventCreated":1,"storeId":123456789012345678901,"entityId":1,"eventType":"order.updated"}',
      'storeId',
    ],
    ['entityId missing', without('entityId'), 'entityId'],
    ['entityId an object', withField('entityId', { id: 1 }), 'entityId'],
    ['entityId null', withField('entityId', null), 'entityId'],
    ['eventType missing', without('eventType'), 'eventType'],
    ['eventType a number', withField('eventType', 7), 'eventType'],
    ['eventType empty', withField('eventType', ''), 'eventType'],
    ['eventType over 1000 characters', withField('eventType', 'x'.repeat(1001)), 'eventType'],
    ['data an array', withField('data', [1, 2]), 'data'],
    ['data a string', withField('data', 'orderId=1'), 'data'],
    ['nesting 100 levels deep', deep(100), 'data'],
    ['nesting 100,000 levels deep', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, 'body'],
    ['invalid UTF-8', new Uint8Array([...utf8('{"eventId":"'), 0xff, 0xfe, ...utf8('","x":1}')]), 'body'],
    ['a NUL character', withField('data', { note: 'a\u0000b' }), 'data.note'],
    [
      'an unpaired surrogate',
      '{"eventId":"s","eventCreated":1,"storeId":1,"entityId":1,"eventType":"order.updated","data":{"x":"\\ud800"}}',
      'data.x',
    ],
  ];

  test.each(malformed)('rejects %s with 400 naming the field, writing nothing', async (_, body, field) => {
    const before = await countRows();
    // A well-formed signature header, so the body itself is what gets judged.
    const res = await postWebhook(ingest.app, body, { signature: signWebhook(1, 'x', testSecret) });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { code: string; message: string; field?: string } };
    expect(json.error.code).toBe('BAD_REQUEST');
    expect(json.error.field).toBe(field);
    expect(json.error.message.startsWith(field)).toBe(true);
    expect(await countRows()).toBe(before);
  });

  test('the malformed table covers at least 20 cases', () => {
    expect(malformed.length).toBeGreaterThanOrEqual(20);
  });

  test('answers other methods with 405 and unknown paths with 404', async () => {
    expect((await ingest.app.request('/webhooks/ecwid')).status).toBe(405);
    expect((await ingest.app.request('/nope')).status).toBe(404);
  });
});

describe("webhooks are hints: what is not the mirror's to keep is answered 200 and stored nowhere", () => {
  test('a known eventId re-posted with another storeId (a replay: the signature does not cover storeId) is a duplicate', async () => {
    const body = webhookBody({ eventType: 'product.deleted' });
    expect((await postWebhook(ingest.app, body)).status).toBe(200);
    const before = await countRows();
    const replay = await postWebhook(ingest.app, { ...body, storeId: 4242 });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ status: 'duplicate' });
    // Under a store the mirror does not mirror it is ignored before the log is asked.
    const elsewhere = await postWebhook(ingest.app, { ...body, storeId: 999_999 });
    expect(await elsewhere.json()).toEqual({ status: 'ignored' });
    expect(await countRows()).toBe(before);
    expect((await rowsFor(body.eventId as string)).map((r) => r.storeId)).toEqual([1003]);
  });

  test('a webhook for a store the mirror does not mirror is ignored, and stored once the store is added', async () => {
    const before = await countRows();
    const body = webhookBody({ storeId: 777_001 });
    const res = await postWebhook(ingest.app, body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ignored' });
    expect(await countRows()).toBe(before);

    await database.db.insert(storeTokensTable).values({ storeId: 777_001, token: 'secret_added' });
    // A miss reloads the mirrored stores at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const again = await postWebhook(ingest.app, webhookBody({ storeId: 777_001 }));
    expect(await again.json()).toEqual({ status: 'inserted' });
  });

  test('a webhook older than the age window, or dated in the future, is ignored', async () => {
    const { maxFutureSkewMs: _, ...defaults } = config;
    const app = createIngest(database, { ...defaults, maxEventAgeMs: 48 * 3_600_000 }, createSilentLogger()).app;
    const before = await countRows();
    const now = Math.floor(Date.now() / 1000);
    const cases = [
      ['49 hours old', now - 49 * 3600, 'ignored'],
      ['47 hours old', now - 47 * 3600, 'inserted'],
      ['an hour ahead', now + 3600, 'ignored'],
      ['a minute ahead (clock skew)', now + 60, 'inserted'],
    ] as const;
    for (const [what, eventCreated, status] of cases) {
      const res = await postWebhook(app, webhookBody({ eventCreated }));
      expect([what, res.status, await res.json()]).toEqual([what, 200, { status }]);
    }
    expect(await countRows()).toBe(before + 2);
  });

  test('a lone signed webhook the database cannot store is a 400 naming the body, not a 503 retried for a day', async () => {
    // Numbers beyond Postgres' numeric range (a 17,000-digit number is within it, and is stored).
    for (const data of ['{"n":1e1000000}', '{"n":1e-20000}', '{"a":1,"n":-1e131073}']) {
      const before = await countRows();
      const body = webhookBody();
      const text = JSON.stringify(body).replace(/}$/, `,"data":${data}}`);
      const res = await postWebhook(ingest.app, text, {
        signature: signWebhook(body.eventCreated as number, body.eventId as string, testSecret),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'BAD_REQUEST', field: 'body' } });
      expect(await countRows()).toBe(before);
    }
  });
});

describe('group commit', () => {
  test('200 concurrent distinct webhooks give 200 rows, committed in shared batches', async () => {
    const before = await countRows();
    flushSizes.length = 0;
    const bodies = Array.from({ length: 200 }, () => webhookBody({ storeId: 4242 }));
    const responses = await Promise.all(bodies.map((b) => postWebhook(ingest.app, b)));
    expect(responses.map((r) => r.status)).toEqual(bodies.map(() => 200));
    expect(await countRows()).toBe(before + 200);
    const stored = await readLog(database.db, { after: 0, limit: 10_000, storeId: 4242 });
    expect(new Set(stored.map((r) => r.eventId))).toEqual(new Set(bodies.map((b) => b.eventId)));
    expect(flushSizes.length).toBeLessThan(200);
    expect(Math.max(...flushSizes)).toBeGreaterThan(1);
  });
});

describe('health', () => {
  test('healthz answers while the process lives; readyz once migrations are applied', async () => {
    expect((await ingest.app.request('/healthz')).status).toBe(200);
    const ready = await ingest.app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  test('readyz is 503 on a database whose migrations have not run', async () => {
    const { createDb } = await import('@mirror/db');
    const bare = await createDb({ dataDir: 'memory://' });
    try {
      const app = createIngest(bare, config, createSilentLogger()).app;
      const res = await app.request('/readyz');
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'unready', reason: 'migrations have not been run' });
      // And the log itself refuses nothing silently: a webhook gets 503, not 200.
      const write = await postWebhook(app, webhookBody());
      expect(write.status).toBe(503);
    } finally {
      await bare.close();
    }
    expect(await database.db.execute(sql`select 1`)).toBeTruthy();
  });
});
