import type { MiddlewareHandler } from 'hono';
import { EcwidApiError } from './ecwid-error.ts';

/** Which fields to keep: `null` keeps the whole value, a nested selection trims it further. */
export type FieldSelection = Map<string, FieldSelection | null>;

function wrongParameter(value: string): never {
  throw new EcwidApiError('WRONG_PARAMETER', `Wrong parameter responseFields: '${value}'`);
}

/**
 * Parses Ecwid's `responseFields` (docs/ecwid.md §4.1): comma-separated field names, each
 * optionally followed by a parenthesised selection of its own fields, nested to any depth:
 * `total,items(id,updateTimestamp)`, `generalInfo(storeId,storeUrl),settings(storeName)`.
 * Spaces around names are ignored; a field named twice gets both selections.
 */
export function parseResponseFields(value: string): FieldSelection {
  let position = 0;

  function list(depth: number): FieldSelection {
    const selection: FieldSelection = new Map();
    for (;;) {
      const start = position;
      while (position < value.length && !'(),'.includes(value[position]!)) position++;
      const name = value.slice(start, position).trim();
      let nested: FieldSelection | null = null;
      if (value[position] === '(') {
        if (!name) wrongParameter(value);
        position++;
        nested = list(depth + 1);
        if (value[position] !== ')') wrongParameter(value);
        position++;
        // Only a separator or the end may follow a closed selection.
        while (value[position] === ' ') position++;
      }
      if (name) merge(selection, name, nested);
      if (position >= value.length) {
        if (depth > 0) wrongParameter(value);
        return selection;
      }
      if (value[position] === ')') {
        if (depth === 0) wrongParameter(value);
        return selection;
      }
      if (value[position] !== ',') wrongParameter(value);
      position++;
    }
  }

  const selection = list(0);
  if (!selection.size) wrongParameter(value);
  return selection;
}

function merge(selection: FieldSelection, name: string, nested: FieldSelection | null): void {
  if (!selection.has(name)) {
    selection.set(name, nested);
    return;
  }
  const existing = selection.get(name)!;
  if (existing === null || nested === null) {
    selection.set(name, null);
    return;
  }
  for (const [child, childNested] of nested) merge(existing, child, childNested);
}

/**
 * Keeps the selected fields, in the document's own order. An array is trimmed element by
 * element (`items(id)` applies to every item); a selection on a scalar leaves it as it is.
 */
export function selectFields(value: unknown, selection: FieldSelection): unknown {
  if (Array.isArray(value)) return value.map((element) => selectFields(element, selection));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (!selection.has(key)) continue;
    const nested = selection.get(key)!;
    out[key] = nested ? selectFields(field, nested) : field;
  }
  return out;
}

/** Trims every successful JSON answer of the store's routes to `?responseFields=`, envelope included. */
export const responseFieldsMiddleware: MiddlewareHandler = async (c, next) => {
  const value = c.req.query('responseFields');
  const selection = value === undefined || value.trim() === '' ? undefined : parseResponseFields(value);
  await next();
  if (!selection || c.res.status !== 200 || !c.res.headers.get('content-type')?.includes('application/json')) return;
  const body: unknown = await c.res.json();
  const headers = new Headers(c.res.headers);
  headers.delete('content-length');
  const trimmed = new Response(JSON.stringify(selectFields(body, selection)), { status: 200, headers });
  // Unset first so Hono does not merge the old response's headers into the new one.
  c.res = undefined;
  c.res = trimmed;
};
