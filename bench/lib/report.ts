import { availableParallelism, cpus } from 'node:os';

/** Formats rows as aligned columns: text left-aligned, numbers (and `…%`) right-aligned. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => i > 0 && rows.every((r) => /^[-\d.,%/ ]*$|^n\/a$/.test(r[i] ?? '')));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export const formatInt = (n: number) => Math.round(n).toLocaleString('en-US');
export const formatMs = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
export const formatPercent = (fraction: number) => `${Math.round(fraction * 100)}%`;
export const mark = (ok: boolean) => (ok ? '✓' : '✗');

/** `Node v20.x, 2 cores (Model name)`: what a reader needs to compare runs across machines. */
export function describeMachine(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `Node ${process.version}, ${availableParallelism()} cores (${model})`;
}
