import type { z } from '@hono/zod-openapi';
import { AppError } from '@mirror/core';
import type { Context } from 'hono';
import type { ApiEnv } from './api-env.ts';
import { validationError } from './on-error.ts';

/*
 * A JSON request body, read as strictly as the URL is (request-parts.ts). Reading it as text
 * would turn bytes that are not UTF-8 into U+FFFD and store that in place of what was sent, and
 * JSON lets a string spell a NUL (`\u0000`, which Postgres cannot store in text: a 500 at the
 * INSERT) or half a surrogate pair (`\ud800`, which no UTF-8 can carry). Each is a 400 naming the
 * field it is in, before the route's schema or handler sees the body.
 */

/** Bodies larger than this are refused. */
const maxBodyBytes = 16 * 1024;

const badUtf8 = 'is not valid UTF-8 (bytes that are not UTF-8, or a lone surrogate escape such as \\ud800)';
const nul = 'must not contain NUL (\\u0000)';

/**
 * The body of a route that takes JSON: `Content-Type: application/json`, at most 16 KiB, valid
 * UTF-8 and JSON, no NUL or lone surrogate in any string (names included), and what `schema`
 * accepts. Anything else is a 400 naming the field (or `body`), or a 413.
 */
export async function readJsonBody<T>(c: Context<ApiEnv>, schema: z.ZodType<T>): Promise<T> {
  if (!/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
    throw new AppError('BAD_REQUEST', 'send the body as JSON: Content-Type: application/json', { details: { parameter: 'content-type' } });
  }
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.byteLength > maxBodyBytes) throw new AppError('PAYLOAD_TOO_LARGE', `the body is over ${maxBodyBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(decodeMarkingInvalid(bytes));
  } catch {
    throw new AppError('BAD_REQUEST', 'the body is not valid JSON', { details: { parameter: 'body' } });
  }
  const bad = findBadText(value);
  if (bad) {
    const field = bad.path.length === 0 ? 'body' : bad.path.join('.');
    throw new AppError('BAD_REQUEST', `invalid body field "${field}": ${bad.problem}`, { details: { parameter: field } });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error, 'json');
  return parsed.data;
}

// ignoreBOM: a BOM is dropped once, at the start of the body (as Response.text() does), not at
// the start of every run decoded between invalid bytes.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The body as text. Where it is not UTF-8, each byte outside a valid sequence becomes the lone
 * surrogate U+DC00 + byte (as Python's surrogateescape does). The decoder's own stand-in, U+FFFD,
 * could not be told from a U+FFFD the client sent; a lone surrogate never comes from valid UTF-8,
 * so findBadText reports it in whichever field it sits in (and outside a string it is bad JSON).
 */
export function decodeMarkingInvalid(bytes: Uint8Array): string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    text = '';
    let start = 0;
    for (let i = 0; i < bytes.length;) {
      const length = utf8SequenceLength(bytes, i);
      if (length > 0) {
        i += length;
        continue;
      }
      text += utf8.decode(bytes.subarray(start, i)) + String.fromCharCode(0xdc00 + bytes[i]!);
      start = ++i;
    }
    text += utf8.decode(bytes.subarray(start));
  }
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/**
 * For a lead byte: the length of its sequence and the range its second byte must be in (the
 * Unicode Standard's table 3-7, which leaves out overlong forms, surrogates and anything past
 * U+10FFFF); undefined for a byte that never starts one.
 */
function sequenceShape(lead: number): [length: number, secondMin: number, secondMax: number] | undefined {
  if (lead >= 0xc2 && lead <= 0xdf) return [2, 0x80, 0xbf];
  if (lead === 0xe0) return [3, 0xa0, 0xbf];
  if (lead === 0xed) return [3, 0x80, 0x9f];
  if (lead >= 0xe1 && lead <= 0xef) return [3, 0x80, 0xbf];
  if (lead === 0xf0) return [4, 0x90, 0xbf];
  if (lead >= 0xf1 && lead <= 0xf3) return [4, 0x80, 0xbf];
  if (lead === 0xf4) return [4, 0x80, 0x8f];
  return undefined;
}

/** The length of the well-formed UTF-8 sequence that starts at `bytes[i]`, or 0 where none does. */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i]!;
  if (lead < 0x80) return 1;
  const shape = sequenceShape(lead);
  if (!shape || i + shape[0] > bytes.length) return 0;
  const [length, secondMin, secondMax] = shape;
  const second = bytes[i + 1]!;
  if (second < secondMin || second > secondMax) return 0;
  for (let k = 2; k < length; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return 0;
  return length;
}

type BadText = { path: string[]; problem: string };

function textProblem(s: string): string | undefined {
  if (s.includes('\0')) return nul;
  if (!s.isWellFormed()) return badUtf8;
  return undefined;
}

/**
 * The first string in `value`, in document order, holding a NUL or a lone surrogate, with its
 * path (`label`, `items.0.name`). A bad member name is named as JSON would escape it. Walked with
 * a stack rather than recursion: 16 KiB of `[` nests eight thousand deep.
 */
export function findBadText(value: unknown): BadText | undefined {
  const pending: { value: unknown; path: string[] }[] = [{ value, path: [] }];
  while (pending.length > 0) {
    const { value: v, path } = pending.pop()!;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) return { path, problem };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) pending.push({ value: v[i], path: [...path, String(i)] });
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [name, member] = entries[i]!;
        const named = [...path, textProblem(name) ? JSON.stringify(name).slice(1, -1) : name];
        pending.push({ value: member, path: named });
        // Pushed after its value, so the name is looked at first.
        pending.push({ value: name, path: named });
      }
    }
  }
  return undefined;
}
