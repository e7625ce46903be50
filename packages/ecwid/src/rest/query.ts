/** A value Ecwid accepts in a query string; arrays become comma lists, dates UNIX seconds. */
export type QueryValue = string | number | boolean | Date | readonly (string | number)[] | undefined;

/** Builds `?a=1&b=x,y` from defined values only; empty when nothing is set. */
export function toQueryString(params: Readonly<Record<string, QueryValue>>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (value instanceof Date) search.set(key, String(Math.floor(value.getTime() / 1000)));
    else if (Array.isArray(value)) search.set(key, value.join(','));
    else search.set(key, String(value));
  }
  const query = search.toString();
  return query === '' ? '' : `?${query}`;
}
