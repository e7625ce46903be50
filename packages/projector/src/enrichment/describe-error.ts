/**
 * A one-line description safe to store and show: the error's class and message, capped. Ecwid
 * client errors never carry tokens, query strings or bodies (packages/ecwid/src/rest/errors.ts);
 * anything that looks like a token is blanked anyway.
 */
export function describeError(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const text = `${e.name}: ${e.message}`.replace(/\b(secret|public)_[A-Za-z0-9]+/g, '$1_***');
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}
