import { z } from '@hono/zod-openapi';

/*
 * The checks of every path and query parameter. They read each value exactly or refuse it: a
 * number is plain decimal digits (no sign, exponent, hex, fraction or blanks; leading zeros are
 * allowed and read as decimal), a time is a real calendar date and time, text never carries a NUL
 * (Postgres cannot store one). What reaches a handler fits the column it is compared with, so a
 * bad value is a 400 naming the parameter, never a 500 from the database. The raw URL is decoded
 * strictly before these run (request-parts.ts).
 */

/** Ecwid's numeric ids (store, product, customer, …): 1 to 15 decimal digits, so within JS's safe integers and bigint. */
export const numericId = z
  .string()
  .regex(/^\d{1,15}$/, 'must be an integer id: 1 to 15 decimal digits')
  .transform(Number);

export const storeIdParam = numericId.openapi({ param: { name: 'storeId', in: 'path' }, example: '1003' });

/** Text ids and text filters: 1 to 200 characters (zod counts Unicode code points), no NUL. */
export const textId = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[^\0]*$/, 'must not contain NUL (%00)');

/**
 * A whole number written in plain decimal digits, from min to max. Leading zeros are allowed
 * (`05` is 5); anything else (`+5`, ` 5`, `5.0`, `1e2`, `0x10`, `-1`) is refused.
 */
export function decimalParam(min: number, max: number, message = `must be an integer from ${min} to ${max}, in decimal digits`) {
  return z
    .string()
    .transform((s, ctx) => {
      const n = /^\d+$/.test(s) ? Number(s) : NaN;
      // Past 2^53 Number() rounds, but never below 2^53: a max within the safe integers still holds.
      if (!(n >= min && n <= max)) {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return n;
    })
    .openapi({ type: 'integer', minimum: min, maximum: max });
}

const dateTime = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|([+-])(\d{2}):?(\d{2}))?)?$/;
const timeFormat = 'must be an ISO 8601 date or date-time, e.g. 2024-05-01 or 2024-05-01T12:00:00Z';
const timeRange = 'must be between 0001-01-01 and 9999-12-31T23:59:59.999999Z';

const daysIn = (year: number, month: number) =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/** Epoch ms of a UTC date and time, for any year (Date.UTC reads years 0–99 as 1900–1999). */
function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

const firstMs = utcMs(1, 1, 1, 0, 0, 0);
const lastMs = utcMs(9999, 12, 31, 23, 59, 59);

/**
 * Reads an ISO 8601 date or date-time: the instant in UTC as `YYYY-MM-DDTHH:MM:SS.ffffffZ`
 * (microseconds, Postgres' precision, kept exactly), or a reason to refuse it. A date is its
 * midnight UTC; a time without an offset is UTC. Fields out of range (`2024-02-30`, `T24:00`,
 * `:60`, offset `+24:00`) are refused, not rolled over, and so is an instant outside years
 * 0001–9999 once the offset is applied: Postgres and JS dates both hold that range.
 *
 * RFC 3339 allows any number of fraction digits and a lower-case `t` and `z` (.NET's round-trip
 * format writes seven digits). Past the microsecond, a lower bound rounds up and an upper bound
 * (`upperBound`, which also reads a date alone as all of that day) rounds down, so a bound keeps
 * exactly the stored microseconds the instant covers.
 */
export function parseTime(s: string, options: { upperBound?: boolean } = {}): { time: string } | { error: string } {
  const m = dateTime.exec(s);
  if (!m) return { error: timeFormat };
  const [, y, mo, d, h = '0', mi = '0', sec = '0', fraction = '', , sign, oh = '0', om = '0'] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, sec].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return { error: 'is not a calendar date' };
  if (hour > 23 || minute > 59 || second > 59) return { error: 'is not a time of day (00:00:00 to 23:59:59)' };
  if (sign && (Number(oh) > 23 || Number(om) > 59)) return { error: 'has an invalid UTC offset' };
  if (year < 1) return { error: timeRange };
  const offsetMs = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000 : 0;
  let micros = Number(fraction.slice(0, 6).padEnd(6, '0'));
  if (!options.upperBound && /[1-9]/.test(fraction.slice(6))) micros += 1;
  // .9999995 rounded up is the next second.
  const carry = micros === 1_000_000 ? 1_000 : 0;
  if (carry) micros = 0;
  const ms = utcMs(year, month, day, hour, minute, second) - offsetMs + carry;
  if (ms < firstMs || ms > lastMs) return { error: timeRange };
  // An upper bound given as a day means all of that day: `createdTo=2024-09-05` keeps the
  // orders placed on the 5th, as a merchant reading a date range expects.
  if (options.upperBound && m[4] === undefined) return { time: `${new Date(ms).toISOString().slice(0, 10)}T23:59:59.999999Z` };
  return { time: `${new Date(ms).toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}Z` };
}

const timeOf = (options: { upperBound?: boolean }) =>
  z
    .string()
    .transform((s, ctx) => {
      const parsed = parseTime(s, options);
      if ('error' in parsed) {
        ctx.addIssue({ code: 'custom', message: parsed.error });
        return z.NEVER;
      }
      return parsed.time;
    })
    // No `example`: Swagger UI's "Try it out" fills examples in as values, and a list's first
    // try then filters on them and finds nothing. Descriptions give the forms instead.
    .openapi({ type: 'string', format: 'date-time' });

/** ISO 8601 date or date-time, read exactly (parseTime): the UTC instant as a string Postgres reads as timestamptz. */
export const timeParam = timeOf({});

/** timeParam for an inclusive upper bound: a date alone is its last microsecond (UTC), so the whole day is in. */
export const timeToParam = timeOf({ upperBound: true });

export const booleanParam = z
  .enum(['true', 'false'], { error: 'must be true or false' })
  .transform((v) => v === 'true')
  .openapi({ type: 'string', enum: ['true', 'false'] });

/** `PAID` or `PAID,AWAITING_PAYMENT`: Ecwid's upper-case status tokens (at most 1000 characters). */
export const statusListParam = z
  .string()
  .max(1000, 'must be at most 1000 characters')
  .regex(/^[A-Z0-9_]+(,[A-Z0-9_]+)*$/, 'must be one or more comma-separated upper-case values, e.g. A,B')
  .transform((s) => [...new Set(s.split(','))])
  .openapi({ type: 'string' });

/**
 * statusListParam for a field whose values Ecwid documents as a closed set: a value outside it
 * (a typo: `PAYED`) is refused with the set named, rather than answered with an empty list.
 */
export function statusSetParam(values: readonly string[]) {
  const known = new Set(values);
  return statusListParam
    .superRefine((tokens, ctx) => {
      const unknown = tokens.filter((t) => !known.has(t));
      if (unknown.length > 0) ctx.addIssue({ code: 'custom', message: `${unknown.join(',')}: not one of ${values.join(', ')}` });
    })
    .openapi({ type: 'string' });
}

export const limitParam = decimalParam(1, 500)
  .default(50)
  .openapi({ type: 'integer', minimum: 1, maximum: 500, default: 50, description: 'rows per page, in decimal digits; default 50' });

/** `before`, on a list newest first: rows with a lower id than this, the previous page's `nextBefore`. */
export const beforeParam = (what: string) =>
  decimalParam(1, Number.MAX_SAFE_INTEGER, `must be a ${what} id: an integer ≥ 1 in decimal digits`)
    .optional()
    .openapi({ type: 'integer', minimum: 1, description: `${what}s with a lower id than this (the previous page’s nextBefore)` });

/**
 * A page read by id with one row more than `limit`: the rows to answer, and the id the next page
 * goes on from (`nextBefore`, `nextAfter`), null on the last page.
 */
export function idPage<Row extends { id: number }>(rows: Row[], limit: number): { rows: Row[]; next: number | null } {
  if (rows.length <= limit) return { rows, next: null };
  const page = rows.slice(0, limit);
  return { rows: page, next: page.at(-1)!.id };
}

export const cursorParam = z
  .string()
  .min(1, 'must be the nextCursor of the previous page; leave it out for the first page')
  .max(2000)
  .openapi({ description: 'the `nextCursor` of the previous page, unchanged; it is valid only for the same store, list and sort' });

/** `/^\d{1,15}$/`: numericId's own check. */
const digitsId = /^\d{1,15}$/;
/** textId without zod: no NUL, and no `%` (which may be an escape hono could not decode: the schema's strict path decides). */
const plainTextId = /^[^\0%]{1,200}$/u;

/**
 * numericId or textId checked without zod, for hot routes: the value the schema would give, or
 * undefined where the schema must decide (other schemas, and every value the schema refuses).
 * The input is hono's decoded path segment, which leaves an escape it cannot decode (`%FF`) as
 * it was, so an id with `%` in it goes to the strict path (request-parts.ts).
 */
export function fastIdParser(schema: z.ZodType): ((decoded: string) => string | number | undefined) | undefined {
  if (schema === numericId) return (raw) => (digitsId.test(raw) ? Number(raw) : undefined);
  if (schema === textId) return (raw) => (plainTextId.test(raw) ? raw : undefined);
  return undefined;
}
