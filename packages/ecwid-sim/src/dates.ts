/** Ecwid's date string: `2024-09-04 07:26:24 +0000` (always UTC). */
export function formatEcwidDate(seconds: number): string {
  const iso = new Date(seconds * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000`;
}

const datePattern = /^(\d{4}-\d{2}-\d{2})(?: (\d{2}:\d{2}:\d{2})(?: ([+-]\d{4}))?)?$/;

/**
 * Parses a date filter the way Ecwid accepts them (docs/ecwid.md §4.1): UNIX seconds,
 * `yyyy-MM-dd HH:mm:ss Z`, `yyyy-MM-dd HH:mm:ss` or `yyyy-MM-dd`. Returns seconds, or
 * undefined when the value is not a date.
 */
export function parseEcwidDate(value: string): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const match = datePattern.exec(trimmed);
  if (!match) return undefined;
  const [, day, time = '00:00:00', zone = '+0000'] = match;
  const ms = Date.parse(`${day}T${time}${zone.slice(0, 3)}:${zone.slice(3)}`);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}
