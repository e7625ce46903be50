import { createSilentLogger } from '@mirror/core';
import { eventLogTable, storeTokensTable } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { signWebhook } from '@mirror/ecwid';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createIngest } from './start-ingest.ts';
import { testSecret } from './test-helpers.ts';

/*
 * Property tests of POST /webhooks/ecwid: whatever arrives, ingest never answers 5xx (the
 * database is up), and a row is written exactly when the answer says `inserted`. Bodies are
 * generated from valid webhooks with fields mutated, removed, retyped or given extreme values,
 * from arbitrary JSON, and from arbitrary bytes; most are correctly signed, so the checks behind
 * the signature are the ones exercised.
 */

const mirrored = 1003;
let database: TestDatabase;
let app: ReturnType<typeof createIngest>['app'];
const runs = new Map<string, number>();

beforeAll(async () => {
  database = await createTestDatabase();
  await database.db.insert(storeTokensTable).values({ storeId: mirrored, token: 'secret_test' });
  app = createIngest(
    database,
    {
      clientSecret: testSecret,
      verifySignatures: true,
      bodyLimitBytes: 16 * 1024,
      batchMax: 50,
      batchWindowMs: 0,
      appendTimeoutMs: 8000,
      maxEventAgeMs: 48 * 3_600_000,
    },
    createSilentLogger(),
  ).app;
});
afterAll(async () => {
  console.log(`webhook property runs:\n${[...runs].map(([name, n]) => `  ${name}: ${n} cases`).join('\n')}`);
  await database.close();
});

const rows = () => database.db.$count(eventLogTable);

let counter = 0;
const freshId = () => `prop-${process.pid}-${Date.now()}-${counter++}`;

/** A value to put where a field was: of the right type or not, ordinary or extreme. */
const anyValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 2 ** 53, 2 ** 53 + 2, 1e300, Number.MAX_SAFE_INTEGER),
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '\u0000', '\ud800', 'order.updated', '1003', ' '),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);

/** Numbers as JSON text that a JS number cannot hold or Postgres' numeric cannot store. */
const extremeNumber = fc.constantFrom('1e1000000', '1e-20000', '-1e131073', '123456789012345678901234567890', '9'.repeat(40));

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A valid webhook, then mutated: `[json text, eventCreated, eventId]` (what the signature covers). */
const mutatedWebhook = fc
  .record({
    eventType: fc.constantFrom(
      'order.updated',
      'product.deleted',
      'application.uninstalled',
      'gift_card.created',
      'customer.personalDataRemovalRequest',
    ),
    entityId: fc.oneof(fc.integer({ min: 1, max: 2 ** 40 }), fc.string({ minLength: 1, maxLength: 8 })),
    storeId: fc.constantFrom(mirrored, mirrored, 4242, 1),
    ageSeconds: fc.constantFrom(0, 60, 3600, 49 * 3600, -3600),
    data: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
    mutations: fc.array(
      fc.tuple(
        fc.constantFrom('eventId', 'eventCreated', 'storeId', 'entityId', 'eventType', 'data', 'extra'),
        fc.constantFrom('remove', 'replace'),
        anyValue,
      ),
      { maxLength: 2 },
    ),
    extreme: fc.option(extremeNumber, { nil: undefined }),
  })
  .map((w) => {
    const body: Record<string, unknown> = {
      eventId: freshId(),
      eventCreated: nowSeconds() - w.ageSeconds,
      storeId: w.storeId,
      entityId: w.entityId,
      eventType: w.eventType,
      ...(w.data !== undefined && { data: w.data }),
    };
    for (const [field, how, value] of w.mutations) {
      if (how === 'remove') delete body[field];
      else body[field] = value;
    }
    let text = JSON.stringify(body);
    if (w.extreme) text = text.replace(/}$/, `,"n":${w.extreme}}`);
    return { text, eventCreated: body.eventCreated, eventId: body.eventId };
  });

async function post(text: string | Uint8Array, eventCreated: unknown, eventId: unknown, signed: boolean) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (signed) {
    headers['x-ecwid-webhook-signature'] =
      typeof eventCreated === 'number' && typeof eventId === 'string'
        ? signWebhook(eventCreated, eventId, testSecret)
        : signWebhook(1, 'x', testSecret);
  }
  return app.request('/webhooks/ecwid', { method: 'POST', body: text, headers });
}

/** One request: never a 5xx; a row is written exactly when the answer is `inserted`. */
async function holds(text: string | Uint8Array, eventCreated: unknown, eventId: unknown, signed: boolean): Promise<boolean> {
  const before = await rows();
  const res = await post(text, eventCreated, eventId, signed);
  const after = await rows();
  expect(res.status, typeof text === 'string' ? text.slice(0, 300) : 'bytes').toBeLessThan(500);
  const body = (await res.json()) as { status?: string; error?: { code: string; field?: string } };
  if (res.status === 200) {
    expect(['inserted', 'duplicate', 'ignored']).toContain(body.status);
    expect(after - before).toBe(body.status === 'inserted' ? 1 : 0);
  } else {
    expect(after).toBe(before);
    if (res.status === 400) expect(body.error?.field).toEqual(expect.any(String));
  }
  return true;
}

async function check(name: string, property: fc.IAsyncProperty<[unknown, ...unknown[]]>, numRuns: number) {
  const details = await fc.check(property, { numRuns });
  if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? `property ${name} failed`);
  runs.set(name, details.numRuns);
}

describe('POST /webhooks/ecwid under generated input', () => {
  test('mutated, signed webhooks: never a 5xx, a row exactly for `inserted`', async () => {
    await check(
      'mutated signed webhooks',
      fc.asyncProperty(mutatedWebhook, ({ text, eventCreated, eventId }) => holds(text, eventCreated, eventId, true)),
      600,
    );
  }, 120_000);

  test('arbitrary JSON and arbitrary bytes, signed or not: never a 5xx, never a row', async () => {
    await check(
      'arbitrary JSON',
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), fc.boolean(), (value, signed) =>
        holds(JSON.stringify(value) ?? 'null', 1, 'x', signed),
      ),
      300,
    );
    await check(
      'arbitrary bytes',
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, signed) => holds(bytes, 1, 'x', signed)),
      300,
    );
  }, 120_000);

  test('a replay of a stored webhook under any other store is never stored again', async () => {
    await check(
      'replays under other stores',
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 40 }), async (otherStore) => {
        const eventId = freshId();
        const body = { eventId, eventCreated: nowSeconds(), storeId: mirrored, entityId: 7, eventType: 'product.deleted' };
        const first = await post(JSON.stringify(body), body.eventCreated, eventId, true);
        expect(await first.json()).toEqual({ status: 'inserted' });
        const before = await rows();
        const replay = await post(JSON.stringify({ ...body, storeId: otherStore }), body.eventCreated, eventId, true);
        expect(replay.status).toBe(200);
        expect(['duplicate', 'ignored']).toContain(((await replay.json()) as { status: string }).status);
        expect(await rows()).toBe(before);
        return true;
      }),
      200,
    );
  }, 120_000);
});
