import { expect, test } from 'vitest';
import { webhookFixtures } from '../testing.ts';
import { parseWebhook } from './parse-webhook.ts';
import { ecwidWebhookSchema } from './webhook-schema.ts';

const encode = (s: string) => new TextEncoder().encode(s);

test.each(webhookFixtures().map((f) => [f.name, f.body] as const))('accepts the docs example %s', (_, body) => {
  const text = JSON.stringify(body);
  const parsed = parseWebhook(encode(text));
  expect(parsed.ok).toBe(true);
  if (parsed.ok) {
    expect(parsed.webhook).toEqual(body);
    expect(parsed.text).toBe(text);
  }
});

test('keeps the exact text, so numbers beyond 2^53 in data survive', () => {
  const text =
    '{"eventId":"a","eventCreated":7891234567,"storeId":1003,"entityId":"1003","eventType":"x.y","data":{"n":12345678901234567890}}';
  const parsed = parseWebhook(encode(text));
  expect(parsed.ok && parsed.text).toBe(text);
});

test('accepts data: null (seen on order.deleted) and an absent data', () => {
  const base = { eventId: 'a', eventCreated: 1, storeId: 1, entityId: 1, eventType: 'order.deleted' };
  expect(parseWebhook(encode(JSON.stringify({ ...base, data: null }))).ok).toBe(true);
  expect(parseWebhook(encode(JSON.stringify(base))).ok).toBe(true);
});

test('accepts ids above 2^31 and the legacy entityId -1', () => {
  const body = { eventId: 'a', eventCreated: 7891234567, storeId: 3_000_000_000, entityId: -1, eventType: 'unfinished_order.created' };
  expect(parseWebhook(encode(JSON.stringify(body))).ok).toBe(true);
});

test('keeps fields it does not know', () => {
  const body = { eventId: 'a', eventCreated: 1, storeId: 1, entityId: 1, eventType: 'order.created', newField: { x: 1 } };
  const parsed = parseWebhook(encode(JSON.stringify(body)));
  expect(parsed.ok && parsed.webhook).toEqual(body);
});

test('accepts an event type of any spelling (the log marks it unknown); only an empty or absurdly long one is refused', () => {
  const body = (eventType: string) => JSON.stringify({ eventId: 'a', eventCreated: 1, storeId: 1, entityId: 1, eventType });
  for (const eventType of ['order created', 'order:created', 'order.créé', 'app/custom.event', 'order.created ', 'x'.repeat(1000)])
    expect([eventType, parseWebhook(encode(body(eventType))).ok]).toEqual([eventType, true]);
  for (const eventType of ['', 'x'.repeat(1001)])
    expect(parseWebhook(encode(body(eventType)))).toMatchObject({ ok: false, problem: { field: 'eventType' } });
});

test('names the field of the first problem', () => {
  const parsed = parseWebhook(encode('{"eventId":"a","eventCreated":"1","storeId":1,"entityId":1,"eventType":"x"}'));
  expect(parsed).toEqual({ ok: false, problem: { field: 'eventCreated', message: expect.any(String) } });
});

test('the hand check of valid bodies accepts exactly what the schema accepts', () => {
  const base = { eventId: 'a-1', eventCreated: 1_700_000_000, storeId: 1003, entityId: 42, eventType: 'order.updated', data: {} };
  const variants: Record<string, unknown>[] = [
    base,
    { ...base, data: null },
    { ...base, data: undefined },
    { ...base, data: [] },
    { ...base, data: 'x' },
    { ...base, eventId: '' },
    { ...base, eventId: 'a b' },
    { ...base, eventId: 'é' },
    { ...base, eventId: 'x'.repeat(200) },
    { ...base, eventId: 'x'.repeat(201) },
    { ...base, eventId: 7 },
    { ...base, eventCreated: -1 },
    { ...base, eventCreated: 0 },
    { ...base, eventCreated: 1.5 },
    { ...base, eventCreated: 253_402_300_799 },
    { ...base, eventCreated: 253_402_300_800 },
    { ...base, eventCreated: '1' },
    { ...base, storeId: 0 },
    { ...base, storeId: -5 },
    { ...base, storeId: 2 ** 53 },
    { ...base, storeId: 3_000_000_000 },
    { ...base, entityId: -1 },
    { ...base, entityId: 2 ** 53 },
    { ...base, entityId: -(2 ** 53) },
    { ...base, entityId: 1.5 },
    { ...base, entityId: '' },
    { ...base, entityId: '1003' },
    { ...base, entityId: 'x'.repeat(201) },
    { ...base, entityId: null },
    { ...base, eventType: '' },
    { ...base, eventType: 'order updated' },
    { ...base, eventType: 'x'.repeat(100) },
    { ...base, eventType: 'x'.repeat(101) },
    { ...base, eventType: 'order.créé' },
    { ...base, eventType: 'x'.repeat(1000) },
    { ...base, eventType: 'x'.repeat(1001) },
    { eventCreated: 1, storeId: 1, entityId: 1, eventType: 'x' },
  ];
  for (const body of variants) {
    const text = JSON.stringify(body);
    expect([text, parseWebhook(encode(text)).ok]).toEqual([text, ecwidWebhookSchema.safeParse(JSON.parse(text)).success]);
  }
});

test('names where an unstorable string is, however deep', () => {
  const parsed = parseWebhook(encode('{"eventId":"a","data":{"items":[{"name":"ok"},{"name":"bad\\u0000"}]}}'));
  expect(parsed).toEqual({ ok: false, problem: { field: 'data.items[1].name', message: 'contains a NUL character (\\u0000)' } });
  const deep = parseWebhook(encode(`{"eventId":"a","data":${'['.repeat(70)}${']'.repeat(70)}}`));
  expect(deep).toEqual({ ok: false, problem: { field: 'data', message: 'is nested deeper than 64 levels' } });
});
