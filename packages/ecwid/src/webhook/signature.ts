import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Ecwid signs `${eventCreated}.${eventId}` (not the body) with the app's client secret:
 * standard base64 of HMAC-SHA256. docs/ecwid.md §2.
 */
export function signWebhook(eventCreated: number, eventId: string, clientSecret: string): string {
  return createHmac('sha256', clientSecret).update(`${eventCreated}.${eventId}`).digest('base64');
}

/**
 * Constant-time check of the `X-Ecwid-Webhook-Signature` header. Fails closed on a missing or
 * malformed header; the comparison never short-circuits on content.
 */
export function isValidSignature(header: string | undefined | null, eventCreated: number, eventId: string, clientSecret: string): boolean {
  if (!header) return false;
  const trimmed = header.trim();
  // Base64 of 32 bytes is exactly 44 characters; anything else cannot match.
  if (!/^[A-Za-z0-9+/]{43}=$/.test(trimmed)) return false;
  const expected = createHmac('sha256', clientSecret).update(`${eventCreated}.${eventId}`).digest();
  const got = Buffer.from(trimmed, 'base64');
  return got.length === expected.length && timingSafeEqual(got, expected);
}
