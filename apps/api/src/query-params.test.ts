import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { createCursorCodec, type CursorState } from './cursor.ts';
import {
  booleanParam,
  cursorParam,
  decimalParam,
  fastIdParser,
  limitParam,
  numericId,
  parseTime,
  statusListParam,
  textId,
  timeParam,
  timeToParam,
} from './query-params.ts';
import { pathParams, readPathParams, readQuery } from './request-parts.ts';
import { checkProperty, encodeLoosely, propertyRunReport, unicode } from './test-helpers.ts';

// The parameter parsers on their own (no database): known-valid generators must be accepted and
// read exactly; every other spelling refused. The HTTP-level properties are in input.int.test.ts.

afterAll(() => {
  console.log(`property cases (query-params.test.ts):\n${propertyRunReport()}`);
});

const parse = (schema: { safeParse: (v: unknown) => { success: boolean; data?: unknown } }, value: string) => schema.safeParse(value);

describe('numbers: plain decimal digits only', () => {
  test('decimalParam reads every integer in range, with or without leading zeros, exactly', async () => {
    await checkProperty(
      'decimalParam accepts valid',
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.nat({ max: 4 }),
        (a, b, zeros) => {
          const [min, max] = a <= b ? [a, b] : [b, a];
          const n = min + Math.floor((max - min) / 2);
          const result = parse(decimalParam(min, max), `${'0'.repeat(zeros)}${n}`);
          expect(result).toEqual({ success: true, data: n });
        },
      ),
      500,
    );
  });

  test('limit: accepted exactly when the text is decimal digits of 1 to 500', async () => {
    const spellings = fc.oneof(
      fc.integer({ min: -1000, max: 100_000 }).map(String),
      fc
        .tuple(
          fc.integer({ min: 0, max: 600 }),
          fc.constantFrom('0x', '+', ' ', '-', '', '0', '00', '\t'),
          fc.constantFrom('', '.0', 'e0', 'e2', ' ', 'n'),
        )
        .map(([n, pre, post]) => `${pre}${n}${post}`),
      fc.integer({ min: 1, max: 500 }).map((n) => n.toString(16)),
      fc.stringMatching(/^[0-9eExXbBoO.+\- _]{0,8}$/),
      unicode({ maxLength: 6 }),
    );
    await checkProperty(
      'limit accepts exactly 1..500 in digits',
      fc.property(spellings, (s) => {
        const result = parse(limitParam, s);
        const expected = /^[0-9]+$/.test(s) && Number(s) >= 1 && Number(s) <= 500;
        expect(result.success, JSON.stringify(s)).toBe(expected);
        if (expected) expect(result.data).toBe(parseInt(s, 10));
      }),
      1000,
    );
    for (const s of ['0x10', '1e2', ' 5', '+5', '5.0', '-1', '0', '501', '', '٥', '5 '])
      expect(parse(limitParam, s).success, s).toBe(false);
    expect(parse(limitParam, '05')).toEqual({ success: true, data: 5 });
    expect(limitParam.safeParse(undefined)).toEqual({ success: true, data: 50 });
  });

  test('numericId: 1 to 15 digits; fastIdParser agrees with it on every string', async () => {
    const fast = fastIdParser(numericId)!;
    const ids = fc.oneof(
      fc.stringMatching(/^\d{1,17}$/),
      fc.stringMatching(/^[\d%a-fA-F+\-. \0]{0,6}$/),
      fc.maxSafeNat().map(String),
      unicode({ maxLength: 5 }),
    );
    await checkProperty(
      'numericId and its fast check',
      fc.property(ids, (s) => {
        const expected = /^[0-9]{1,15}$/.test(s);
        const result = parse(numericId, s);
        expect(result.success).toBe(expected);
        if (expected) expect(result.data).toBe(Number(s));
        expect(fast(s)).toBe(expected ? Number(s) : undefined);
      }),
      1000,
    );
  });
});

describe('text ids and filters', () => {
  test('textId takes 1 to 200 characters without NUL, as given; its fast check accepts only what it accepts', async () => {
    const fast = fastIdParser(textId)!;
    const texts = fc.oneof(
      unicode({ minLength: 1, maxLength: 200 }),
      unicode({ minLength: 195, maxLength: 205 }),
      fc
        .tuple(unicode({ maxLength: 10 }), fc.constantFrom('\0', '%', '%FF', '%00', '%25'), unicode({ maxLength: 10 }))
        .map((p) => p.join('')),
      fc.constant(''),
    );
    await checkProperty(
      'textId and its fast check',
      fc.property(texts, (s) => {
        // Characters are code points: an emoji is one character, two UTF-16 units.
        const length = [...s].length;
        const expected = length >= 1 && length <= 200 && !s.includes('\0');
        const result = parse(textId, s);
        expect(result.success).toBe(expected);
        if (expected) expect(result.data).toBe(s);
        const quick = fast(s);
        // The fast check may leave a valid value to zod (one with %), never accept an invalid one.
        if (quick !== undefined) expect(quick).toBe(s);
        if (quick !== undefined) expect(expected).toBe(true);
        if (expected && !s.includes('%')) expect(quick).toBe(s);
      }),
      1000,
    );
  });

  test('status lists: upper-case tokens, comma-separated, read as their distinct values', async () => {
    const token = fc.stringMatching(/^[A-Z0-9_]{1,12}$/);
    await checkProperty(
      'statusList accepts valid',
      fc.property(fc.array(token, { minLength: 1, maxLength: 20 }), (tokens) => {
        expect(parse(statusListParam, tokens.join(','))).toEqual({ success: true, data: [...new Set(tokens)] });
      }),
      500,
    );
    for (const s of ['', 'paid', 'PAID,', ',PAID', 'PAID,,X', 'PAID ', 'PAID;X', 'A,'.repeat(600) + 'A']) {
      expect(parse(statusListParam, s).success, s).toBe(false);
    }
  });

  test('booleans are exactly true or false; a cursor is not empty', () => {
    expect(parse(booleanParam, 'true')).toEqual({ success: true, data: true });
    expect(parse(booleanParam, 'false')).toEqual({ success: true, data: false });
    for (const s of ['', 'TRUE', '1', 'yes', 'true ']) expect(parse(booleanParam, s).success).toBe(false);
    expect(parse(cursorParam, '').success).toBe(false);
  });
});

// A reference for dates, computed another way: days from the civil date (H. Hinnant's algorithm)
// in BigInt microseconds, printed back the same way, against the parser's Date arithmetic.
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const monthDays = (y: number, m: number) => [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

type TimeParts = {
  y: number;
  m: number;
  d: number;
  form: 'date' | 'hm' | 'hms' | 'frac';
  h: number;
  mi: number;
  s: number;
  frac: string;
  zone: 'none' | 'Z' | 'colon' | 'compact';
  sign: '+' | '-';
  oh: number;
  om: number;
};

function printTime(p: TimeParts): string {
  let out = `${pad(p.y, 4)}-${pad(p.m)}-${pad(p.d)}`;
  if (p.form === 'date') return out;
  out += `T${pad(p.h)}:${pad(p.mi)}`;
  if (p.form !== 'hm') out += `:${pad(p.s)}`;
  if (p.form === 'frac') out += `.${p.frac}`;
  if (p.zone === 'Z') out += 'Z';
  if (p.zone === 'colon') out += `${p.sign}${pad(p.oh)}:${pad(p.om)}`;
  if (p.zone === 'compact') out += `${p.sign}${pad(p.oh)}${pad(p.om)}`;
  return out;
}

/** The expected reading: the UTC instant printed to the microsecond, or undefined outside 0001–9999. */
function expectedTime(p: TimeParts): string | undefined {
  const timed = p.form !== 'date';
  const offset = timed && (p.zone === 'colon' || p.zone === 'compact') ? (p.sign === '-' ? -1 : 1) * (p.oh * 60 + p.om) : 0;
  const seconds =
    BigInt(daysFromCivil(p.y, p.m, p.d)) * 86400n +
    BigInt(timed ? p.h * 3600 + p.mi * 60 + (p.form === 'hm' ? 0 : p.s) : 0) -
    BigInt(offset * 60);
  const day = Number(seconds / 86400n - (seconds % 86400n < 0n ? 1n : 0n));
  const rest = Number(seconds - BigInt(day) * 86400n);
  const [y, m, d] = civilFromDays(day);
  if (y < 1 || y > 9999) return undefined;
  const frac = p.form === 'frac' ? p.frac.padEnd(6, '0') : '000000';
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}T${pad(Math.floor(rest / 3600))}:${pad(Math.floor(rest / 60) % 60)}:${pad(rest % 60)}.${frac}Z`;
}

const timeParts = (fields: { y?: fc.Arbitrary<number>; dayOverflow?: boolean } = {}): fc.Arbitrary<TimeParts> =>
  fc
    .record({
      y: fields.y ?? fc.oneof(fc.integer({ min: 1, max: 9999 }), fc.constantFrom(1, 2, 99, 100, 1600, 1900, 2000, 2024, 9999)),
      m: fc.integer({ min: 1, max: 12 }),
      dayPick: fc.nat(),
      form: fc.constantFrom('date', 'hm', 'hms', 'frac'),
      h: fc.integer({ min: 0, max: 23 }),
      mi: fc.integer({ min: 0, max: 59 }),
      s: fc.integer({ min: 0, max: 59 }),
      frac: fc.stringMatching(/^\d{1,6}$/),
      zone: fc.constantFrom('none', 'Z', 'colon', 'compact'),
      sign: fc.constantFrom('+', '-'),
      oh: fc.integer({ min: 0, max: 23 }),
      om: fc.integer({ min: 0, max: 59 }),
    })
    .map(({ dayPick, ...p }) => {
      const days = monthDays(p.y, p.m);
      const d = fields.dayOverflow ? days + 1 + (dayPick % (99 - days)) : 1 + (dayPick % days);
      return { ...p, d } as TimeParts;
    });

describe('times: real calendar dates and times in years 0001–9999', () => {
  test('every valid date or date-time is read as its exact UTC instant, to the microsecond', async () => {
    await checkProperty(
      'timeParam reads valid times exactly',
      fc.property(timeParts(), (p) => {
        const text = printTime(p);
        const expected = expectedTime(p);
        const result = parse(timeParam, text);
        if (expected === undefined) {
          // In range as written, out of range in UTC (0001-01-01T00:30+01:00, 9999-12-31T23:30-01:00).
          expect(result.success, text).toBe(false);
        } else {
          expect(result, text).toEqual({ success: true, data: expected });
        }
      }),
      1000,
    );
  });

  test('days past the end of their month are refused, never rolled over', async () => {
    await checkProperty(
      'timeParam refuses nonexistent days',
      fc.property(timeParts({ dayOverflow: true }), (p) => {
        expect(parseTime(printTime(p))).toEqual({ error: 'is not a calendar date' });
      }),
      500,
    );
  });

  test('out-of-range fields and years are refused', async () => {
    const broken = fc.oneof(
      timeParts().map((p) => printTime({ ...p, form: 'hms', y: 0 })),
      fc.tuple(timeParts(), fc.integer({ min: 24, max: 99 })).map(([p, h]) => printTime({ ...p, form: 'hms', h })),
      fc.tuple(timeParts(), fc.integer({ min: 60, max: 99 })).map(([p, mi]) => printTime({ ...p, form: 'hm', mi })),
      fc.tuple(timeParts(), fc.integer({ min: 60, max: 99 })).map(([p, s]) => printTime({ ...p, form: 'hms', s })),
      fc.tuple(timeParts(), fc.constantFrom(0, 13, 20, 99)).map(([p, m]) => printTime({ ...p, m, d: 1 })),
      fc.tuple(timeParts(), fc.integer({ min: 24, max: 99 })).map(([p, oh]) => printTime({ ...p, form: 'hms', zone: 'colon', oh })),
      fc.tuple(timeParts(), fc.integer({ min: 60, max: 99 })).map(([p, om]) => printTime({ ...p, form: 'hms', zone: 'compact', om })),
      timeParts().map((p) => printTime({ ...p, d: 0 })),
    );
    await checkProperty(
      'timeParam refuses out-of-range fields',
      fc.property(broken, (text) => {
        expect(parse(timeParam, text).success, text).toBe(false);
      }),
      500,
    );
    for (const text of [
      '2024-02-30',
      '2023-02-29',
      '0000-01-01',
      '2024-01-01T24:00:00Z',
      '2024-06-30T23:59:60Z',
      '2024-01-01 12:00:00Z',
      '10000-01-01',
      '2024-1-01',
      '0001-01-01T00:00:00+00:01',
      '9999-12-31T23:59:59-00:01',
      '+002024-01-01',
    ]) {
      expect(parse(timeParam, text).success, text).toBe(false);
    }
    expect(parse(timeParam, '2024-02-29')).toEqual({ success: true, data: '2024-02-29T00:00:00.000000Z' });
    expect(parse(timeParam, '0001-01-01')).toEqual({ success: true, data: '0001-01-01T00:00:00.000000Z' });
    expect(parse(timeParam, '9999-12-31T23:59:59.999999Z')).toEqual({ success: true, data: '9999-12-31T23:59:59.999999Z' });
    expect(parse(timeParam, '2024-03-01T00:30:00.5+01:00')).toEqual({ success: true, data: '2024-02-29T23:30:00.500000Z' });
  });

  test('reads what RFC 3339 allows: any number of fraction digits, a lower-case t and z', () => {
    // .NET's round-trip format writes seven digits; a lower bound rounds up to the microsecond, an upper one down.
    expect(parse(timeParam, '2024-03-01T00:00:00.1234567Z')).toEqual({ success: true, data: '2024-03-01T00:00:00.123457Z' });
    expect(parse(timeToParam, '2024-03-01T00:00:00.1234567Z')).toEqual({ success: true, data: '2024-03-01T00:00:00.123456Z' });
    expect(parse(timeParam, '2024-03-01T00:00:00.1234560000Z')).toEqual({ success: true, data: '2024-03-01T00:00:00.123456Z' });
    expect(parse(timeParam, '2024-02-29T23:59:59.9999999Z')).toEqual({ success: true, data: '2024-03-01T00:00:00.000000Z' });
    expect(parse(timeToParam, '2024-02-29T23:59:59.9999999Z')).toEqual({ success: true, data: '2024-02-29T23:59:59.999999Z' });
    expect(parse(timeParam, '2024-03-01t00:30:00z')).toEqual({ success: true, data: '2024-03-01T00:30:00.000000Z' });
    expect(parse(timeParam, '9999-12-31T23:59:59.9999999Z').success).toBe(false);
  });

  test('reads a date alone as an upper bound through the end of that day, and a date-time as given', () => {
    expect(parse(timeToParam, '2024-02-29')).toEqual({ success: true, data: '2024-02-29T23:59:59.999999Z' });
    expect(parse(timeToParam, '9999-12-31')).toEqual({ success: true, data: '9999-12-31T23:59:59.999999Z' });
    expect(parse(timeToParam, '0001-01-01')).toEqual({ success: true, data: '0001-01-01T23:59:59.999999Z' });
    expect(parse(timeToParam, '2024-02-29T00:00:00Z')).toEqual({ success: true, data: '2024-02-29T00:00:00.000000Z' });
    expect(parse(timeToParam, '2024-03-01T00:30:00.5+01:00')).toEqual({ success: true, data: '2024-02-29T23:30:00.500000Z' });
    expect(parse(timeToParam, '2024-02-30').success).toBe(false);
  });
});

describe('the raw query string and path, decoded strictly', () => {
  const allowed = ['limit', 'cursor', 'sort', 'email', 'createdFrom', 'a b', 'ü', '+'];
  const allowedSet = new Set(allowed);
  const base = 'http://localhost/v1/stores/1/orders';

  test('well-formed parameters are read exactly, whatever the encoding', async () => {
    const entries = fc.uniqueArray(
      fc.tuple(
        fc.constantFrom(...allowed),
        unicode({ maxLength: 30 }).filter((v) => !v.includes('\0')),
      ),
      {
        selector: ([name]) => name,
        maxLength: allowed.length,
      },
    );
    await checkProperty(
      'readQuery reads valid queries exactly',
      fc.property(entries, fc.integer(), fc.boolean(), (pairs, seed, noEquals) => {
        const query = pairs
          .map(
            ([name, value], i) =>
              `${encodeLoosely(name, seed + i)}${value === '' && noEquals ? '' : `=${encodeLoosely(value, seed >> 3)}`}`,
          )
          .join('&');
        expect(readQuery(`${base}?${query}`, allowedSet)).toEqual(Object.fromEntries(pairs));
      }),
      1000,
    );
  });

  test('a bad escape, a NUL, an unknown or repeated name is a 400 naming that parameter', async () => {
    const bad = fc.constantFrom('%FF', '%C3%28', '%', '%G1', '%E2%82', '%ED%A0%80', '%F4%90%80%80', '%00', 'a%00b');
    await checkProperty(
      'readQuery refuses bad parameters',
      fc.property(
        fc.constantFrom(...allowed),
        bad,
        fc.constantFrom('value', 'name', 'unknown', 'repeat'),
        fc.string({ unit: 'grapheme-ascii', maxLength: 8 }).filter((s) => !allowedSet.has(s) && s !== '' && !/[%&=+#]/.test(s)),
        (name, escape, where, unknown) => {
          const piece =
            where === 'value'
              ? `${encodeURIComponent(name)}=${escape}`
              : where === 'name'
                ? `x${escape}=1`
                : where === 'unknown'
                  ? `${encodeURIComponent(unknown)}=1`
                  : `${encodeURIComponent(name)}=1&${encodeURIComponent(name)}=2`;
          // A name that decodes (x%00) is named decoded, and is then simply unknown; one that does not, as sent.
          const decodedName = (() => {
            try {
              return decodeURIComponent(`x${escape}`);
            } catch {
              return `x${escape}`;
            }
          })();
          const named = where === 'value' || where === 'repeat' ? name : where === 'unknown' ? unknown : decodedName;
          const before = name === 'limit' || where === 'repeat' ? '' : 'limit=5&';
          let thrown: any;
          try {
            readQuery(`${base}?${before}${piece}`, allowedSet);
          } catch (err) {
            thrown = err;
          }
          expect(thrown?.code).toBe('BAD_REQUEST');
          expect(thrown.details).toEqual({ parameter: named });
          expect(thrown.message).toContain(`"${named}"`);
        },
      ),
      500,
    );
    expect(() => readQuery(`${base}?status=PAID`, allowedSet)).toThrow(/unknown query parameter "status": this route takes limit, cursor/);
    expect(() => readQuery(`${base}?x=1`, new Set())).toThrow(/takes no query parameters/);
    expect(readQuery(`${base}?&limit=5&&#limit=6`, allowedSet)).toEqual({ limit: '5' });
  });

  test('path parameters are read exactly; a bad escape or NUL is a 400 naming the parameter', async () => {
    const params = pathParams('/v1/stores/{storeId}/orders/{orderId}/history');
    expect(params).toEqual([
      { index: 3, name: 'storeId' },
      { index: 5, name: 'orderId' },
    ]);
    await checkProperty(
      'readPathParams reads valid ids exactly',
      fc.property(unicode({ minLength: 1, maxLength: 40 }), fc.integer(), (id, seed) => {
        const raw = encodeLoosely(id, seed, 'path');
        const url = `http://localhost:3000/v1/stores/0042/orders/${raw}/history?x=%FF#y`;
        if (id.includes('\0')) {
          expect(() => readPathParams(url, params)).toThrow(/"orderId": must not contain NUL/);
        } else {
          expect(readPathParams(url, params)).toEqual({ storeId: '0042', orderId: id });
        }
      }),
      1000,
    );
    for (const raw of ['%FF', 'a%C3%28', '%', '%G1', '%ED%A0%80']) {
      expect(() => readPathParams(`http://localhost/v1/stores/1/orders/${raw}/history`, params)).toThrow(/path parameter "orderId"/);
    }
    expect(readPathParams('http://localhost/v1/stores/1/orders/a+b/history', params)).toEqual({ storeId: '1', orderId: 'a+b' });
  });
});

describe('cursors', () => {
  const codec = createCursorCodec('unit-test-secret-0123456789');
  const state: fc.Arbitrary<CursorState> = fc.record({
    storeId: fc.integer({ min: 0, max: 999_999_999_999_999 }),
    list: fc.constantFrom('orders', 'products', 'orders/A1/history', 'storage/a/b/history'),
    sort: fc.constantFrom('-createdAt', 'createdAt', 'total', '-position'),
    value: fc.option(unicode({ maxLength: 40 }), { nil: null }),
    key: fc.array(fc.oneof(fc.maxSafeInteger(), unicode({ maxLength: 20 })), { minLength: 1, maxLength: 3 }),
  });

  test('a cursor decodes to what was encoded, for its own store, list and sort only', async () => {
    await checkProperty(
      'cursor round trip and binding',
      fc.property(
        state,
        fc.integer({ min: 0, max: 999_999_999_999_999 }),
        fc.constantFrom('storeId', 'list', 'sort'),
        (s, otherStore, what) => {
          const cursor = codec.encode(s);
          expect(codec.decode(cursor, s)).toEqual(s);
          const other = {
            storeId: what === 'storeId' ? (otherStore === s.storeId ? otherStore + 1 : otherStore) : s.storeId,
            list: what === 'list' ? `${s.list}x` : s.list,
            sort: what === 'sort' ? `-${s.sort}` : s.sort,
          };
          expect(() => codec.decode(cursor, other)).toThrow(what === 'storeId' ? /another store/ : /another list or sort/);
        },
      ),
      500,
    );
  });

  test('a version 1 cursor (without its store) is refused with a clear message', () => {
    const payload = Buffer.from(JSON.stringify([1, 'orders', '-createdAt', null, 'O1'])).toString('base64url');
    const signature = createHmac('sha256', 'unit-test-secret-0123456789').update(payload).digest().subarray(0, 16).toString('base64url');
    expect(() => codec.decode(`${payload}.${signature}`, { storeId: 1, list: 'orders', sort: '-createdAt' })).toThrow(
      /earlier version of this API/,
    );
  });
});
