import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeMarkingInvalid, findBadText } from './json-body.ts';

// The body decoder against the platform's own UTF-8 decoder: the same text where the bytes are
// UTF-8, and a lone surrogate (the mark findBadText reports) exactly where they are not.
describe('decodeMarkingInvalid', () => {
  const strict = new TextDecoder('utf-8', { fatal: true });
  const lenient = new TextDecoder('utf-8');
  /** Bytes near UTF-8's edges: leads, continuations, and the bytes that are never UTF-8. */
  const edgyBytes = fc.array(
    fc.oneof(
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(0x22, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff),
    ),
    { maxLength: 24 },
  );

  test('agrees with TextDecoder on every byte string', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          edgyBytes,
          fc.string({ unit: 'binary' }).map((s) => [...Buffer.from(s, 'utf8')]),
        ),
        (list) => {
          const bytes = Uint8Array.from(list);
          const text = decodeMarkingInvalid(bytes);
          let expected: string | undefined;
          try {
            expected = strict.decode(bytes);
          } catch {
            expected = undefined;
          }
          if (expected !== undefined) {
            expect(text).toBe(expected);
          } else {
            expect(text.isWellFormed()).toBe(false);
            // Only the invalid bytes differ: marked one for one, where TextDecoder writes U+FFFD per maximal subpart.
            const runsOfFffd = (s: string) => s.replaceAll(/\uFFFD+/g, '\uFFFD');
            expect(runsOfFffd(text.toWellFormed())).toBe(runsOfFffd(lenient.decode(bytes)));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('drops a leading BOM only', () => {
    const bom = [0xef, 0xbb, 0xbf];
    expect(decodeMarkingInvalid(Uint8Array.from([...bom, 0x31]))).toBe('1');
    expect(decodeMarkingInvalid(Uint8Array.from([...bom, 0xff, ...bom, 0x31]))).toBe('\udcff\ufeff1');
  });
});

describe('findBadText', () => {
  test('names the first bad string in document order, names included, and passes well-formed text', () => {
    expect(findBadText({ a: 'é😀\ufffd', b: ['x', { c: 'ok' }] })).toBeUndefined();
    expect(findBadText({ a: 'ok', b: ['x', { c: 'a\0' }], d: '\ud800' })).toEqual({
      path: ['b', '1', 'c'],
      problem: expect.stringContaining('NUL'),
    });
    expect(findBadText({ a: 1, 'x\ud800': 'ok' })).toEqual({ path: ['x\\ud800'], problem: expect.stringContaining('UTF-8') });
    expect(findBadText('\udc00')).toEqual({ path: [], problem: expect.stringContaining('UTF-8') });
  });

  test('walks deep nesting without overflowing the stack', () => {
    expect(findBadText(JSON.parse(`${'['.repeat(8000)}"\\u0000"${']'.repeat(8000)}`))?.path).toHaveLength(8000);
  });
});
