import { expect, test } from 'vitest';
import { isValidSignature, signWebhook } from './signature.ts';

// Worked examples from docs/ecwid.md §2 (the first is also published by a third-party client).
const vectors = [
  ['test_client_secret', 1234567, '80aece08-40e8-4145-8764-6c2f0d38678', 'ekmGPQc/IpCwO6woAiM+L8uvY6chew4n6JVQCiDrEVw='],
  ['abcde123456789', 1234567, '80aece08-40e8-4145-8764-6c2f0d38678', 'lidx/4J5L2Pp4auvwGBp6DwPkpPmyVLI3oLB440X358='],
  ['abcde123456789', 1634209655, '95ed494f-362d-4fca-933d-f5c7064b04bb', 'NoLsApTwIZWkNZqX2Bi85FLwQkjL6WSGBoUs7unubrM='],
] as const;

test.each(vectors)('signs %s / %i / %s as Ecwid does', (secret, created, eventId, expected) => {
  expect(signWebhook(created, eventId, secret)).toBe(expected);
  expect(isValidSignature(expected, created, eventId, secret)).toBe(true);
});

test('rejects a signature made with another secret, event or time', () => {
  const [secret, created, eventId, header] = vectors[0];
  expect(isValidSignature(header, created, eventId, 'another-secret')).toBe(false);
  expect(isValidSignature(header, created + 1, eventId, secret)).toBe(false);
  expect(isValidSignature(header, created, `${eventId}x`, secret)).toBe(false);
});

test('fails closed on a missing, empty or malformed header', () => {
  const [secret, created, eventId, header] = vectors[0];
  for (const bad of [undefined, null, '', '   ', 'bm9wZQ==', header.slice(0, -2), `${header}AA`, header.replace('=', '!')]) {
    expect(isValidSignature(bad, created, eventId, secret)).toBe(false);
  }
});

test('accepts surrounding whitespace a proxy may add', () => {
  const [secret, created, eventId, header] = vectors[0];
  expect(isValidSignature(` ${header} `, created, eventId, secret)).toBe(true);
});
