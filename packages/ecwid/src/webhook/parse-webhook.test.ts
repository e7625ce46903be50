import { expect, test } from 'vitest';
import { webhookFixtures } from '../testing.ts';
import { parseWebhook } from './parse-webhook.ts';

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

test('names the field of the first problem', () => {
  const parsed = parseWebhook(encode('{"eventId":"a","eventCreated":"1","storeId":1,"entityId":1,"eventType":"x"}'));
  expect(parsed).toEqual({ ok: false, problem: { field: 'eventCreated', message: expect.any(String) } });
});
