import { readFileSync } from 'node:fs';

/** A fresh parse of a documented Ecwid body from `../fixtures` (never shared between tests). */
export function loadFixture(name: string): unknown {
  return JSON.parse(
    readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'),
  ) as unknown;
}
