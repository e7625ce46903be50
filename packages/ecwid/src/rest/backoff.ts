/** Ecwid's default cooldown when a 429 carries no `Retry-After` (as in Ecwid's Java client). */
export const defaultRetryAfterMs = 10_000;

/** Tuning for {@link fullJitterDelayMs}. */
export type BackoffOptions = { baseMs?: number; capMs?: number; random?: () => number };

/**
 * Capped exponential backoff with full jitter: uniform in [0, min(cap, base·2^(attempt-1))).
 * Full jitter spreads many callers that failed together instead of retrying in lockstep.
 */
export function fullJitterDelayMs(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs = 500, capMs = 30_000, random = Math.random } = options;
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * `Retry-After` as milliseconds: delta-seconds (what Ecwid sends, docs/ecwid.md §4.2) or an
 * HTTP date; 10 s when absent or unreadable.
 */
export function parseRetryAfterMs(header: string | null, nowMs: number): number {
  if (header === null || header.trim() === '') return defaultRetryAfterMs;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return defaultRetryAfterMs;
  return Math.max(0, at - nowMs);
}
