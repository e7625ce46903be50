import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/**
 * Records a V8 CPU profile of this process while `run` runs, and writes it to `file` (open it in
 * Chrome DevTools, or summarise it with `tsx bench/lib/profile-summary.ts <file>`). Without a
 * file, just runs. Used by the benchmarks' `--cpu-prof <file>` to profile the measured run
 * only, not the warm-up or the baseline.
 */
export async function withCpuProfile<T>(file: string | undefined, run: () => Promise<T>): Promise<T> {
  if (file === undefined) return run();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  // 1 ms sampling (the default) misses most of a 50 µs request; 100 µs sees it.
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  try {
    return await run();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}
