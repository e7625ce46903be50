import cliProgress from 'cli-progress';

/*
 * Progress for a person: on a terminal, one bar with the rate and the time left; elsewhere (a
 * log file, CI, `docker logs`), the same figures as a line every few seconds, plus the notes a
 * command adds (a kind finished) and a last line at the end.
 */

export type ProgressOptions = {
  /** What is counted, plural: `records`, `items`. */
  unit?: string;
  /** Where it goes (stderr, so stdout stays clean for the summary). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /**
   * Draw a bar (default: when both stdout and the stream are terminals; output piped or
   * redirected anywhere, into a log or CI, gets lines).
   */
  tty?: boolean;
  /** Off a terminal: at most one line per this many ms (default 5 s). */
  intervalMs?: number;
  now?: () => number;
};

export type Progress = {
  /** `done` of `total` so far, and what is being worked on (`orders scan 40/250`). */
  update(done: number, total: number, detail?: string): void;
  /** A line of its own off a terminal (a kind finished); on a terminal the bar shows the detail instead. */
  note(text: string): void;
  /** Ends the bar, or writes the last line. Idempotent. */
  stop(): void;
};

/** The rate over the last half minute, for a rate and a time left that follow changes in pace. */
const windowMs = 30_000;

/** `1m 05s`, `12s`, `2h 03m`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const formatRate = (perSecond: number) => (perSecond >= 100 ? String(Math.round(perSecond)) : perSecond.toFixed(1));

/** A progress bar on a terminal, periodic lines elsewhere. */
export function createProgress(label: string, options: ProgressOptions = {}): Progress {
  const unit = options.unit ?? 'records';
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? (stream.isTTY === true && process.stdout.isTTY === true);
  const intervalMs = options.intervalMs ?? 5000;
  const now = options.now ?? Date.now;

  const samples: { at: number; done: number }[] = [];
  let startedAt: number | undefined;
  let startDone = 0;
  let last: { done: number; total: number; detail: string } | undefined;
  let printedAt: number | undefined;
  let printed: string | undefined;
  let stopped = false;
  const bar = tty
    ? new cliProgress.SingleBar(
        { format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {speed} | {left} | {detail}`, hideCursor: true, stream },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let barStarted = false;

  /**
   * Per second over the window, or undefined before there is a second's worth of it. The oldest
   * sample kept is the last one at or before the window's start, so after a stall longer than the
   * window (a rate limit) the rate spans the stall instead of having nothing to go on.
   */
  const rate = (at: number, done: number): number | undefined => {
    while (samples.length > 1 && at - samples[1]!.at >= windowMs) samples.shift();
    const first = samples[0];
    if (!first || at - first.at < 1000) return undefined;
    return ((done - first.done) * 1000) / (at - first.at);
  };

  const figures = (at: number, done: number, total: number) => {
    const perSecond = rate(at, done);
    const speed = perSecond === undefined ? `… ${unit}/s` : `${formatRate(perSecond)} ${unit}/s`;
    const left =
      done >= total
        ? 'done'
        : perSecond === undefined || perSecond <= 0
          ? 'time left unknown'
          : `about ${formatDuration(((total - done) / perSecond) * 1000)} left`;
    return { speed, left };
  };

  const line = (at: number, done: number, total: number, detail: string) => {
    const { speed, left } = figures(at, done, total);
    const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
    return `${label}: ${done}/${total} ${unit} (${percent}%), ${speed}, ${left}${detail ? ` | ${detail}` : ''}`;
  };

  const write = (text: string) => {
    stream.write(`${text}\n`);
    printed = text;
  };

  // Off a terminal a line comes every interval also while nothing moves (Ecwid's rate limit, a
  // slow page): silence in a log reads as a hang.
  let timer: ReturnType<typeof setInterval> | undefined;
  const tick = () => {
    if (stopped || !last) return;
    const at = now();
    if (printedAt !== undefined && at - printedAt < intervalMs) return;
    printedAt = at;
    write(line(at, last.done, last.total, last.detail));
  };

  return {
    update(done, total, detail = '') {
      if (stopped) return;
      const at = now();
      // Never shown above its total, and never going back.
      const shownTotal = Math.max(total, last?.total ?? 0, 1);
      const shownDone = Math.min(Math.max(done, last?.done ?? 0), shownTotal);
      if (startedAt === undefined) {
        startedAt = at;
        startDone = shownDone;
      }
      samples.push({ at, done: shownDone });
      last = { done: shownDone, total: shownTotal, detail };
      if (bar) {
        const payload = { detail, ...figures(at, shownDone, shownTotal) };
        if (!barStarted) {
          bar.start(shownTotal, shownDone, payload);
          barStarted = true;
        }
        bar.setTotal(shownTotal);
        bar.update(shownDone, payload);
        return;
      }
      if (printedAt === undefined || at - printedAt >= intervalMs) {
        printedAt = at;
        write(line(at, shownDone, shownTotal, detail));
      }
      if (!timer) {
        timer = setInterval(tick, intervalMs);
        // Never what keeps the process alive.
        timer.unref();
      }
    },
    note(text) {
      if (stopped || bar) return;
      write(`${label}: ${text}`);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (bar) {
        if (barStarted) bar.stop();
        return;
      }
      if (!last || startedAt === undefined) return;
      const at = now();
      const tookMs = at - startedAt;
      const final = `${label}: ${last.done}/${last.total} ${unit} (${last.total > 0 ? Math.floor((last.done / last.total) * 100) : 100}%) in ${formatDuration(tookMs)}${
        tookMs >= 1000 && last.done > startDone ? `, ${formatRate(((last.done - startDone) * 1000) / tookMs)} ${unit}/s` : ''
      }`;
      if (final !== printed) write(final);
    },
  };
}
