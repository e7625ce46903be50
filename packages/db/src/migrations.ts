import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The top-level `migrations/` folder, written by drizzle-kit and committed. */
export const migrationsFolder = fileURLToPath(new URL('../../../migrations', import.meta.url));

/** How many migrations this build of the code expects to find applied. */
export function migrationCount(): number {
  const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as {
    entries: unknown[];
  };
  return journal.entries.length;
}
