import { z } from 'zod';

// Ecwid's timestamps exceed 2^31 (docs/ecwid.md §1.2), and so may its ids; JS numbers are exact up to 2^53.
const safeInteger = z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

/** Latest instant a timestamptz-friendly webhook time may name: 9999-12-31T23:59:59Z. */
const maxEventCreated = 253_402_300_799;

/**
 * The fields every Ecwid webhook body carries (docs/ecwid.md §1.2). Unknown fields are kept:
 * the log stores the body verbatim, this schema only checks what the mirror relies on.
 */
export const ecwidWebhookSchema = z.looseObject({
  eventId: z
    .string()
    .min(1)
    .max(200)
    // Stored as text, never parsed as a UUID: the docs' own sample is not a valid UUID.
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
  eventCreated: safeInteger.min(0).max(maxEventCreated),
  storeId: safeInteger.positive(),
  // `application.*` sends the id quoted, other events as a number; legacy carts sent -1.
  entityId: z.union([safeInteger, z.string().min(1).max(200)]),
  // Any spelling: a type outside the catalogue is logged and marked unknown, never refused (a
  // refused webhook is retried by Ecwid for a day, then lost). The cap only keeps out a body that
  // is not a webhook at all.
  eventType: z.string().min(1).max(1000),
  data: z.record(z.string(), z.unknown()).nullish(),
});

export type EcwidWebhook = z.infer<typeof ecwidWebhookSchema>;
