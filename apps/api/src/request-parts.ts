import { AppError } from '@mirror/core';

/*
 * The request's path parameters and query string, decoded from the raw URL strictly. Hono's own
 * decoding is lenient: an escape that is not UTF-8 (`%FF`, `%C3%28`) or not an escape at all (`%`,
 * `%G1`) is left in the value as typed, so `orders/%FF` would look up an order whose id is the
 * three characters `%FF`, and a repeated parameter becomes an array the schema may or may not
 * expect. Here each of those is a 400 naming the parameter, and so are a NUL anywhere (Postgres
 * cannot store one in text), a parameter the route does not take (a typo such as `status` for
 * `paymentStatus` would otherwise be ignored and widen the answer), and a parameter given twice.
 */

function bad(parameter: string, message: string): AppError {
  return new AppError('BAD_REQUEST', message, { details: { parameter } });
}

/** decodeURIComponent, or undefined where the text is not valid percent-encoded UTF-8. */
function decodeStrict(text: string): string | undefined {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

const notUtf8 = 'is not valid percent-encoded UTF-8 (an escape such as %FF, %C3%28 or a lone %)';
const nul = 'must not contain NUL (%00)';

/** The query string of an absolute URL, without `?` and without the fragment; '' when there is none. */
function rawQuery(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return '';
  const hash = url.indexOf('#', start);
  return url.slice(start + 1, hash === -1 ? undefined : hash);
}

/**
 * The query parameters of `url` (`a=1&b=x+y` → `{ a: '1', b: 'x y' }`), each one of `allowed`
 * and given once. Throws a 400 naming the first parameter, in URL order, that is not valid
 * percent-encoded UTF-8, holds a NUL, is not in `allowed`, or repeats. A name without `=` has the
 * value ''; empty pieces (`a=1&&b=2`, a trailing `&`) are skipped.
 */
export function readQuery(url: string, allowed: ReadonlySet<string>): Record<string, string> {
  const query = rawQuery(url);
  const values: Record<string, string> = {};
  if (query === '') return values;
  for (const piece of query.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const rawName = (eq === -1 ? piece : piece.slice(0, eq)).replaceAll('+', ' ');
    const name = decodeStrict(rawName);
    if (name === undefined) throw bad(rawName, `invalid query parameter name "${rawName}": ${notUtf8}`);
    if (!allowed.has(name)) {
      const known = allowed.size === 0 ? 'this route takes no query parameters' : `this route takes ${[...allowed].join(', ')}`;
      throw bad(name, `unknown query parameter "${name}": ${known}`);
    }
    if (Object.hasOwn(values, name)) throw bad(name, `invalid query parameter "${name}": given more than once`);
    const value = eq === -1 ? '' : decodeStrict(piece.slice(eq + 1).replaceAll('+', ' '));
    if (value === undefined) throw bad(name, `invalid query parameter "${name}": ${notUtf8}`);
    if (value.includes('\0')) throw bad(name, `invalid query parameter "${name}": ${nul}`);
    values[name] = value;
  }
  return values;
}

/** Where each `{name}` of a route path (`/v1/stores/{storeId}/orders/{orderId}`) sits among its `/` segments. */
export type PathParams = readonly { index: number; name: string }[];

export function pathParams(path: string): PathParams {
  return path.split('/').flatMap((segment, index) => {
    const m = /^{(.+)}$/.exec(segment);
    return m ? [{ index, name: m[1]! }] : [];
  });
}

/**
 * The path parameters of `url`, an absolute URL the route matched, decoded strictly (a `+` stays
 * a `+` in a path). Throws a 400 naming the parameter that is not valid percent-encoded UTF-8 or
 * holds a NUL. The segments are those hono routed by: it decodes the path but leaves `%2F`
 * encoded, so a segment here is a segment there.
 */
export function readPathParams(url: string, params: PathParams): Record<string, string> {
  const start = url.indexOf('/', url.indexOf(':') + 3);
  let end = url.length;
  for (const stop of ['?', '#']) {
    const i = url.indexOf(stop, start);
    if (i !== -1 && i < end) end = i;
  }
  const segments = url.slice(start, end).split('/');
  const values: Record<string, string> = {};
  for (const { index, name } of params) {
    const value = decodeStrict(segments[index] ?? '');
    if (value === undefined) throw bad(name, `invalid path parameter "${name}": ${notUtf8}`);
    if (value.includes('\0')) throw bad(name, `invalid path parameter "${name}": ${nul}`);
    values[name] = value;
  }
  return values;
}
