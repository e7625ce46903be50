import type { Reporter, TestModule } from 'vitest/node';

type ConsoleLog = Parameters<NonNullable<Reporter['onUserConsoleLog']>>[0];

/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, for CI to read, and
 * before it every skipped test with why: its own skip note, else the `skipping …: <reason>`
 * lines its file printed (concurrencySkipReason, the browser tests' missing Chromium).
 */
export default class SummaryReporter implements Reporter {
  /** `skipping …` lines by the task (file, suite or test) that printed them. */
  private readonly skipLines = new Map<string, string[]>();

  onUserConsoleLog(log: ConsoleLog): void {
    if (log.taskId === undefined) return;
    for (const line of log.content.split('\n')) {
      if (!line.startsWith('skipping ')) continue;
      const lines = this.skipLines.get(log.taskId) ?? [];
      if (!lines.includes(line)) lines.push(line);
      this.skipLines.set(log.taskId, lines);
    }
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    const skippedLines: string[] = [];
    for (const module of testModules) {
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed += 1;
      // Every reason printed anywhere in the file: a file-level skip prints while it is collected.
      const ids = [module.id, ...[...module.children.allSuites()].map((s) => s.id), ...[...module.children.allTests()].map((t) => t.id)];
      const fileReasons = ids.flatMap((id) => this.skipLines.get(id) ?? []);
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') passed += 1;
        else if (result.state === 'failed') failed += 1;
        else {
          const note = 'note' in result && typeof result.note === 'string' ? result.note : undefined;
          const why = note ?? (fileReasons.length > 0 ? fileReasons.join('; ') : 'no reason printed');
          skippedLines.push(`  ${module.moduleId.replace(`${process.cwd()}/`, '')} > ${test.fullName}: ${why}`);
        }
      }
    }
    if (skippedLines.length > 0) console.log(`\nskipped tests, and why:\n${skippedLines.join('\n')}`);
    console.log(`\ntests: ${passed} passed, ${failed} failed, ${skippedLines.length} skipped`);
  }
}
