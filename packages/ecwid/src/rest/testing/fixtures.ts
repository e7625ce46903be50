import { readFixture } from '../../testing.ts';

/** A fresh parse of a documented Ecwid body (never shared between tests). */
export function loadFixture(name: string): unknown {
  return readFixture(name);
}
