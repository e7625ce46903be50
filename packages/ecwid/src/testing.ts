import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Real example bodies from Ecwid's docs (see test-fixtures/README.md for provenance). */
export const fixturesDir = fileURLToPath(new URL('../test-fixtures/', import.meta.url));

/** Reads one example file as parsed JSON. */
export function readFixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(`${fixturesDir}${name}`, 'utf8')) as T;
}

/** Every webhook example body, by file name. */
export function webhookFixtures(): { name: string; body: Record<string, unknown> }[] {
  return readdirSync(fixturesDir)
    .filter((f) => f.startsWith('webhook-') && f.endsWith('.json'))
    .sort()
    .map((name) => ({ name, body: readFixture<Record<string, unknown>>(name) }));
}
