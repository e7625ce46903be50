import { z } from '@hono/zod-openapi';

/** Ecwid's numeric ids (store, product, customer, …): digits only, within JS's safe integers. */
export const numericId = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a positive integer id')
  .transform(Number);

export const storeIdParam = numericId.openapi({ param: { name: 'storeId', in: 'path' }, example: '1003' });

export const textId = z.string().min(1).max(200);

const isoDateTime = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** ISO 8601 date or date-time; a time without offset is UTC. */
export const timeParam = z
  .string()
  .regex(isoDateTime, 'must be an ISO 8601 date or date-time, e.g. 2024-05-01 or 2024-05-01T12:00:00Z')
  .transform((s, ctx) => {
    const hasTime = s.includes('T');
    const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(s.slice(10));
    const date = new Date(hasTime && !hasZone ? `${s}Z` : s);
    if (Number.isNaN(date.getTime())) {
      ctx.addIssue({ code: 'custom', message: 'is not a valid date' });
      return z.NEVER;
    }
    return date;
  })
  .openapi({ type: 'string', format: 'date-time', example: '2024-05-01T00:00:00Z' });

export const booleanParam = z
  .enum(['true', 'false'])
  .transform((v) => v === 'true')
  .openapi({ type: 'string', enum: ['true', 'false'] });

/** `PAID` or `PAID,AWAITING_PAYMENT`: Ecwid's upper-case status tokens. */
export const statusListParam = z
  .string()
  .regex(/^[A-Z0-9_]+(,[A-Z0-9_]+)*$/, 'must be one or more comma-separated upper-case statuses, e.g. PAID,REFUNDED')
  .transform((s) => s.split(','))
  .openapi({ type: 'string', example: 'PAID,AWAITING_PAYMENT' });

export const limitParam = z.coerce
  .number({ error: 'must be an integer from 1 to 500' })
  .int('must be an integer from 1 to 500')
  .min(1, 'must be an integer from 1 to 500')
  .max(500, 'must be an integer from 1 to 500')
  .default(50)
  .openapi({ type: 'integer', minimum: 1, maximum: 500, default: 50 });

export const cursorParam = z.string().max(2000).openapi({ description: 'the `nextCursor` of the previous page, unchanged' });

/**
 * numericId or textId checked without zod, for hot routes: the value the schema would give, or
 * undefined where the schema must decide (other schemas, and every value the schema refuses).
 */
export function fastIdParser(schema: z.ZodType): ((raw: string) => string | number | undefined) | undefined {
  if (schema === numericId) return (raw) => (/^\d{1,15}$/.test(raw) ? Number(raw) : undefined);
  if (schema === textId) return (raw) => (raw.length >= 1 && raw.length <= 200 ? raw : undefined);
  return undefined;
}
