/**
 * A benchmark's run and its cleanup: steps registered with `onCleanup` (servers, the bench
 * database) run in reverse order once, whether the benchmark ends, fails, or is stopped with
 * Ctrl-C / SIGTERM (exit 130). `signal` aborts the load when it is stopped.
 */
export function benchLifecycle(name: string) {
  const aborter = new AbortController();
  const steps: (() => Promise<unknown>)[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanUp = () => {
    aborter.abort();
    return (cleaning ??= (async () => {
      for (const step of steps.reverse()) await step().catch((err: unknown) => console.error('cleanup failed:', err));
    })());
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping, dropping the bench database`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  return {
    signal: aborter.signal,
    onCleanup(step: () => Promise<unknown>): void {
      steps.push(step);
    },
    /** Runs `main` (its result is the exit code; 1 if it throws), cleans up, and exits. */
    async run(main: () => Promise<number>): Promise<never> {
      let exitCode = 1;
      try {
        exitCode = await main();
      } catch (err) {
        if (!aborter.signal.aborted) console.error(`${name} failed:`, err);
      } finally {
        await cleanUp();
      }
      process.exit(exitCode);
    },
  };
}

/** The Postgres benchmarks create their databases on. */
export const benchAdminUrl = process.env['BENCH_DATABASE_URL'] ?? process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
