import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { buildConsole } from '../build.ts';

/*
 * dist/ is committed so that a fresh clone and a production install serve the console without
 * building it. This keeps it honest: a build of the sources must give exactly the committed files.
 */

const scratch = mkdtempSync(join(tmpdir(), 'console-dist-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test('the committed bundle in apps/console/dist is what the sources build to (else run `pnpm build:console`)', async () => {
  await buildConsole(scratch);
  const dist = new URL('../dist/', import.meta.url).pathname;
  const built = readdirSync(scratch).sort();
  expect(readdirSync(dist).sort()).toEqual(built);
  expect(built).toEqual(['console.css', 'console.js']);
  for (const name of built) {
    const fresh = readFileSync(join(scratch, name), 'utf8');
    expect(readFileSync(join(dist, name), 'utf8') === fresh, `${name} differs from a fresh build: run \`pnpm build:console\``).toBe(true);
  }
  // Nothing in the bundle reaches for another origin (fonts, CDNs, analytics).
  const js = readFileSync(join(dist, 'console.js'), 'utf8');
  expect(js.match(/https?:\/\/[^\s"'`)]+/g)?.filter((url) => !/^https?:\/\/(www\.w3\.org|github\.com)\//.test(url)) ?? []).toEqual([]);
});
