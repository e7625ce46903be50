import { randomUUID } from 'node:crypto';
import { signWebhook } from '@mirror/ecwid';

/** A webhook body exactly as Ecwid sends it (docs/ecwid.md §1.2). */
export type EcwidWebhookBody = {
  eventId: string;
  eventCreated: number;
  storeId: number;
  entityId: number | string;
  eventType: string;
  data?: Record<string, unknown>;
};

export type SignedWebhook = { body: EcwidWebhookBody; json: string; signature: string };

export type WebhookInput = {
  storeId: number;
  eventType: string;
  entityId: number | string;
  data?: Record<string, unknown> | undefined;
  /** Defaults to a random UUID. */
  eventId?: string;
  /** UNIX seconds; defaults to now. */
  eventCreated?: number;
};

/** Builds and signs a webhook without sending it: for benchmarks and ingest tests. */
export function buildWebhook(input: WebhookInput, clientSecret: string): SignedWebhook {
  const body: EcwidWebhookBody = {
    eventId: input.eventId ?? randomUUID(),
    eventCreated: input.eventCreated ?? Math.floor(Date.now() / 1000),
    storeId: input.storeId,
    // `application.*` events carry the store id as a quoted string (docs/ecwid.md §1.2).
    entityId: input.eventType.startsWith('application.') ? String(input.entityId) : input.entityId,
    eventType: input.eventType,
    ...(input.data === undefined ? {} : { data: input.data }),
  };
  return {
    body,
    json: JSON.stringify(body),
    signature: signWebhook(body.eventCreated, body.eventId, clientSecret),
  };
}
