import { signWebhook } from '@mirror/ecwid';
import type { Hono } from 'hono';

export const testSecret = 'test_client_secret';

let counter = 0;

/** A fresh, well-formed webhook body (distinct eventId each call). */
export function webhookBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter += 1;
  return {
    eventId: `e-${process.pid}-${Date.now()}-${counter}`,
    // Recent: ingest ignores webhooks older than INGEST_MAX_EVENT_AGE.
    eventCreated: Math.floor(Date.now() / 1000) - 60,
    storeId: 1003,
    entityId: 100 + counter,
    eventType: 'product.updated',
    ...overrides,
  };
}

/** POSTs a body to the app with the signature Ecwid would send (or the given one). */
export function postWebhook(
  app: Hono,
  body: Record<string, unknown> | string | Uint8Array,
  options: { signature?: string | null; secret?: string; query?: string } = {},
): Promise<Response> {
  const payload = typeof body === 'object' && !(body instanceof Uint8Array) ? JSON.stringify(body) : body;
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=UTF-8' };
  let signature = options.signature;
  if (signature === undefined && typeof body === 'object' && !(body instanceof Uint8Array)) {
    signature = signWebhook(body.eventCreated as number, body.eventId as string, options.secret ?? testSecret);
  }
  if (signature) headers['x-ecwid-webhook-signature'] = signature;
  return Promise.resolve(app.request(`/webhooks/ecwid${options.query ?? ''}`, { method: 'POST', body: payload, headers }));
}
