import { lookupEventType } from './event-catalog.ts';

/**
 * What the event log keeps of a received webhook (the fields of @mirror/db's WebhookAppend):
 * its identity, the entity the catalog says it concerns (null for a type outside the catalog,
 * which is kept all the same), and the body exactly as received.
 */
export function webhookLogEntry(
  webhook: { storeId: number; eventId: string; eventType: string; entityId: number | string; eventCreated: number },
  body: string,
) {
  const info = lookupEventType(webhook.eventType);
  return {
    storeId: webhook.storeId,
    eventId: webhook.eventId,
    eventType: webhook.eventType,
    entityKind: info?.entity ?? null,
    entityId: String(webhook.entityId),
    isKnownType: info !== undefined,
    eventCreated: webhook.eventCreated,
    body,
  };
}
