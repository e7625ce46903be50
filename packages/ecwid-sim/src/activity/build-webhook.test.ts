import { expect, it } from 'vitest';
import { buildWebhook } from './build-webhook.ts';

it('signs like Ecwid: base64 HMAC-SHA256 of eventCreated.eventId', () => {
  const webhook = buildWebhook(
    {
      storeId: 1003,
      eventType: 'product.updated',
      entityId: 5,
      eventId: '80aece08-40e8-4145-8764-6c2f0d38678',
      eventCreated: 1234567,
    },
    'test_client_secret',
  );
  // The vector from docs/ecwid.md §2.
  expect(webhook.signature).toBe('ekmGPQc/IpCwO6woAiM+L8uvY6chew4n6JVQCiDrEVw=');
  expect(JSON.parse(webhook.json)).toEqual(webhook.body);
  expect(webhook.body).not.toHaveProperty('data');
});

it('quotes the entity id of application events', () => {
  const webhook = buildWebhook({ storeId: 1003, eventType: 'application.storageChanged', entityId: 1003 }, 's');
  expect(webhook.body.entityId).toBe('1003');
  expect(webhook.body.eventId).toMatch(/^[0-9a-f-]{36}$/);
});
