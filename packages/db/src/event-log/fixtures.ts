import type { WebhookAppend } from './append-webhooks.ts';

let counter = 0;

/** A webhook row as ingest would append it; override what a test cares about. */
export function webhookRow(overrides: Partial<WebhookAppend> = {}): WebhookAppend {
  counter += 1;
  const eventId = overrides.eventId ?? `evt-${process.pid}-${counter}`;
  const body = {
    eventId,
    eventCreated: 1_700_000_000,
    storeId: overrides.storeId ?? 1003,
    entityId: 42,
    eventType: 'product.updated',
  };
  return {
    storeId: body.storeId,
    eventId,
    eventType: body.eventType,
    entityKind: 'product',
    entityId: '42',
    isKnownType: true,
    eventCreated: body.eventCreated,
    body: JSON.stringify(body),
    ...overrides,
  };
}
