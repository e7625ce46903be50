import { describe, expect, test, vi } from 'vitest';
import { createProgress, formatDuration } from './progress.ts';

/** A stream that is not a terminal, and a clock the test moves. */
function offTerminal() {
  const lines: string[] = [];
  let t = 1_000_000;
  const stream = Object.assign(
    {
      write(chunk: string) {
        lines.push(...chunk.split('\n').filter(Boolean));
        return true;
      },
    },
    { isTTY: false },
  ) as unknown as NodeJS.WritableStream & { isTTY?: boolean };
  return { lines, stream, now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('progress off a terminal', () => {
  test('writes a line at once, then at most one per interval, with the rate and the time left', () => {
    const out = offTerminal();
    const progress = createProgress('backfill', { unit: 'items', stream: out.stream, intervalMs: 5000, now: out.now });
    progress.update(0, 1000, 'orders scan 0/600');
    for (let i = 1; i <= 10; i++) {
      out.advance(1000);
      progress.update(i * 50, 1000, `orders scan ${i * 50}/600`);
    }
    // t = 0 s, 5 s and 10 s; the rate is 50 items/s over the last seconds, so 500 left take 10 s.
    expect(out.lines).toEqual([
      'backfill: 0/1000 items (0%), … items/s, time left unknown | orders scan 0/600',
      'backfill: 250/1000 items (25%), 50.0 items/s, about 15s left | orders scan 250/600',
      'backfill: 500/1000 items (50%), 50.0 items/s, about 10s left | orders scan 500/600',
    ]);
  });

  test('keeps writing a line every interval while nothing moves, and the rate after a long stall spans it', () => {
    vi.useFakeTimers();
    try {
      const out = offTerminal();
      const progress = createProgress('backfill', { unit: 'items', stream: out.stream, intervalMs: 5000, now: () => Date.now() });
      progress.update(0, 569, 'customer-groups scan 0/3');
      // A minute held back by Ecwid's rate limit: a line every 5 s all the same.
      vi.advanceTimersByTime(61_000);
      expect(out.lines).toHaveLength(13);
      expect(out.lines.at(-1)).toBe('backfill: 0/569 items (0%), 0.0 items/s, time left unknown | customer-groups scan 0/3');
      // 71 items at 61 s; the next line, at 65 s, has the rate since the start (71 / 65 s =
      // 1.09/s), not nothing: 498 left at that rate take 455.9 s.
      progress.update(71, 569, 'customers scan 68/60');
      vi.advanceTimersByTime(5_000);
      expect(out.lines.at(-1)).toBe('backfill: 71/569 items (12%), 1.1 items/s, about 7m 36s left | customers scan 68/60');
      progress.stop();
      const written = out.lines.length;
      vi.advanceTimersByTime(20_000);
      expect(out.lines).toHaveLength(written);
    } finally {
      vi.useRealTimers();
    }
  });

  test('notes get a line of their own; stop writes the last figures and the average rate', () => {
    const out = offTerminal();
    const progress = createProgress('backfill', { unit: 'items', stream: out.stream, intervalMs: 5000, now: out.now });
    progress.update(0, 400);
    out.advance(2000);
    progress.update(400, 400, 'orders done');
    progress.note('orders done (400 listed)');
    out.advance(2000);
    progress.stop();
    progress.stop();
    expect(out.lines).toEqual([
      'backfill: 0/400 items (0%), … items/s, time left unknown',
      'backfill: orders done (400 listed)',
      'backfill: 400/400 items (100%) in 4s, 100 items/s',
    ]);
  });

  test('never shows a total that shrinks or a count above its total', () => {
    const out = offTerminal();
    const progress = createProgress('rebuild', { stream: out.stream, intervalMs: 0, now: out.now });
    progress.update(10, 100);
    out.advance(1000);
    progress.update(60, 90);
    out.advance(1000);
    progress.update(130, 120);
    const figures = out.lines.map((l) => /: (\d+)\/(\d+) /.exec(l)!.slice(1).map(Number));
    expect(figures).toEqual([
      [10, 100],
      [60, 100],
      [120, 120],
    ]);
  });
});

test('durations read as a person says them', () => {
  expect([0, 999, 59_400, 65_000, 3_599_000, 7_380_000].map(formatDuration)).toEqual(['0s', '1s', '59s', '1m 05s', '59m 59s', '2h 03m']);
});
