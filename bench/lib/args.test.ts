import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs a bench's entry with `args` as `pnpm bench:*` would (tsx), and returns how it ended. */
function runBench(file: string, args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, BENCH_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
  });
  return { status: run.status, stderr: run.stderr.trim() };
}

// The databases the benches would create are on an address nothing answers: had any of these
// runs got past its arguments, it would have failed on the connection instead (exit 1).
describe("a bench's command line", () => {
  test('a number out of range is exit 2 with one line naming the option', () => {
    expect(runBench('bench/rebuild.bench.ts', ['--rounds', '0'])).toEqual({
      status: 2,
      stderr: '--rounds must be a positive integer, got 0',
    });
    expect(runBench('bench/lag.bench.ts', ['--warmup=soon'])).toEqual({
      status: 2,
      stderr: '--warmup must be a number, zero or more, got soon',
    });
  });

  test('an unknown option is exit 2 with one line naming it, not a stack trace', () => {
    const run = runBench('bench/api.bench.ts', ['--orderz', '10']);
    expect(run.status).toBe(2);
    expect(run.stderr.split('\n')).toHaveLength(1);
    expect(run.stderr).toContain("'--orderz'");
  });
});
