import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '@mirror/core';

/** What a cursor remembers: the store, list and sort it belongs to, and the last row's key. */
export type CursorState = {
  /** The store in the URL it was issued under. */
  storeId: number;
  /** The list it belongs to (`orders`, `orders/history`, …). */
  list: string;
  /** The sort as requested (`-createdAt`). */
  sort: string;
  /** The last row's sort value as Postgres prints it (text keeps µs and numeric exact); null when the value is null. */
  value: string | null;
  /** The last row's primary key (after store_id). */
  key: (string | number)[];
};

export type CursorCodec = {
  encode(state: CursorState): string;
  /** Throws AppError('BAD_REQUEST') naming `cursor` when it was tampered with or belongs elsewhere. */
  decode(cursor: string, expected: { storeId: number; list: string; sort: string }): CursorState;
};

const signatureBytes = 16;
/** The payload's first element. 1: `[1, list, sort, value, ...key]` (no store; refused). 2: the store after the version. */
const version = 2;

/**
 * Cursors are opaque to clients: base64url(JSON) + "." + a truncated HMAC-SHA256 over it. The
 * signature turns any edit into a 400 instead of a query at an arbitrary position; the key
 * values are then still checked against the column types before they reach SQL.
 */
export function createCursorCodec(secret: string | Buffer): CursorCodec {
  const sign = (payload: string) => createHmac('sha256', secret).update(payload).digest().subarray(0, signatureBytes);

  return {
    encode(state) {
      const payload = Buffer.from(JSON.stringify([version, state.storeId, state.list, state.sort, state.value, ...state.key])).toString(
        'base64url',
      );
      return `${payload}.${sign(payload).toString('base64url')}`;
    },
    decode(cursor, expected) {
      const [payload, signature, ...rest] = cursor.split('.');
      if (!payload || !signature || rest.length > 0) throw badCursor('malformed');
      const given = Buffer.from(signature, 'base64url');
      const wanted = sign(payload);
      if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) throw badCursor('signature mismatch');
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        throw badCursor('malformed');
      }
      if (Array.isArray(parsed) && parsed[0] === 1) {
        throw badCursor('it was issued by an earlier version of this API; start the list again without a cursor');
      }
      if (!Array.isArray(parsed) || parsed[0] !== version || parsed.length < 6) throw badCursor('malformed');
      const [, storeId, list, sort, value, ...key] = parsed as unknown[];
      if (storeId !== expected.storeId) throw badCursor('it was issued for another store; repeat the request that returned it');
      if (list !== expected.list || sort !== expected.sort) {
        throw badCursor(`it was issued for another list or sort; repeat the request that returned it`);
      }
      if (value !== null && typeof value !== 'string') throw badCursor('malformed');
      if (!key.every((k) => typeof k === 'string' || typeof k === 'number')) throw badCursor('malformed');
      return { storeId, list, sort, value, key: key as (string | number)[] };
    },
  };
}

export function badCursor(reason: string): AppError {
  return new AppError('BAD_REQUEST', `invalid query parameter "cursor": ${reason}`, { details: { parameter: 'cursor' } });
}
