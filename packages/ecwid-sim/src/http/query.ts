import type { Context } from 'hono';
import { parseEcwidDate } from '../dates.ts';
import { EcwidApiError } from './ecwid-error.ts';

function wrongParameter(name: string, value: string): never {
  throw new EcwidApiError('WRONG_PARAMETER', `Wrong parameter ${name}: '${value}'`);
}

export function intParam(c: Context, name: string): number | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) wrongParameter(name, value);
  return Number(value);
}

export function dateParam(c: Context, name: string): number | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === '') return undefined;
  return parseEcwidDate(value) ?? wrongParameter(name, value);
}

export function boolParam(c: Context, name: string): boolean | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === '') return undefined;
  if (value !== 'true' && value !== 'false') wrongParameter(name, value);
  return value === 'true';
}

/** A comma-separated list; undefined when absent. */
export function listParam(c: Context, name: string): string[] | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === '') return undefined;
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

export function intListParam(c: Context, name: string): number[] | undefined {
  return listParam(c, name)?.map((part) => (/^\d+$/.test(part) ? Number(part) : wrongParameter(name, part)));
}

export function enumParam<T extends string>(c: Context, name: string, values: readonly T[]): T | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === '') return undefined;
  return (values as readonly string[]).includes(value) ? (value as T) : wrongParameter(name, value);
}

export type Range = { from: number | undefined; to: number | undefined };

/** Inclusive time range from `{prefix}From` / `{prefix}To`, e.g. `updatedFrom`/`updatedTo`. */
export function rangeParams(c: Context, prefix: 'created' | 'updated'): Range {
  return { from: dateParam(c, `${prefix}From`), to: dateParam(c, `${prefix}To`) };
}

export function isRange(range: Range): boolean {
  return range.from !== undefined || range.to !== undefined;
}

export function inRange(value: number, range: Range): boolean {
  return (range.from === undefined || value >= range.from) && (range.to === undefined || value <= range.to);
}

type Filter<T> = (doc: T) => boolean;

/** Applies only the filters that were given, so an unfiltered 100k search stays a slice. */
export function applyFilters<T>(items: T[], filters: (Filter<T> | false)[]): T[] {
  const active = filters.filter((filter): filter is Filter<T> => filter !== false);
  return active.length ? items.filter((item) => active.every((filter) => filter(item))) : items;
}

const maxLimit = 100;

/** Ecwid's paging envelope; `limit` defaults to and is capped at 100 (docs/ecwid.md §4.4). */
export function page<T, R>(c: Context, items: readonly T[], render: (item: T) => R) {
  const offset = intParam(c, 'offset') ?? 0;
  const requested = intParam(c, 'limit') ?? maxLimit;
  if (offset < 0) wrongParameter('offset', String(offset));
  if (requested < 0) wrongParameter('limit', String(requested));
  const limit = Math.min(requested, maxLimit);
  const slice = items.slice(offset, offset + limit).map(render);
  return { total: items.length, count: slice.length, offset, limit, items: slice };
}
