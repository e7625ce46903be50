import { sleep } from './concurrency.ts';

export type GroupCommitOptions<I, O> = {
  /** Commits a batch; resolves with one outcome per item, in order, once durable. */
  flush: (items: I[]) => Promise<O[]>;
  /** Largest batch one flush takes. */
  maxBatch?: number;
  /** How long a lone item may wait for company before it is flushed (0: never waits). */
  windowMs?: number;
  /** Flushes allowed in flight at once; items arriving meanwhile form the next batch. */
  maxInFlight?: number;
  /**
   * While a flush is in flight, the next one starts only once this many items wait. When
   * commits serialise anyway (the log's commit-order lock), a second flush with one or two
   * items just waits on the lock; letting it fill makes fewer, fuller commits.
   */
  parallelMinBatch?: number;
  /**
   * Makes what earlier flushes committed durable. When given, `flush` may resolve once its batch
   * is committed but not yet durable: its slot is freed at once, so the next batch commits while
   * this one waits for the disk, and the batch's items resolve only after a `durable()` call
   * begun after their flush resolved. If it fails, the batch's items are rejected. Calls do not
   * overlap: batches that flush while one runs share the next, which begins when it ends.
   */
  durable?: () => Promise<void>;
  /**
   * When `durable()` calls run back to back (busy), how long after one ends the next may begin,
   * given how long the last one took (ms). Batches committing meanwhile share it, so one disk
   * flush covers more of them; if a flush is still committing when the gap ends, the next call
   * waits for it too (up to the same gap again). Never applies when no call ran just before:
   * a lone batch never waits for company. Default: no gap.
   */
  durableGapMs?: (lastDurableMs: number) => number;
  /** Called after every flush (and its `durable()`), for metrics. */
  onFlush?: (info: FlushInfo) => void;
};

/** One flush, as `onFlush` reports it. */
export type FlushInfo = {
  size: number;
  /** From the flush's start until its items settled (its `durable()` included). */
  durationMs: number;
  failed: boolean;
  /** How long the batch's oldest item waited for the flush to start. */
  queuedMs: number;
  /** How long `flush` itself took (with `durable`: the commit, before the wait for the disk). */
  commitMs: number;
};

export type GroupCommitter<I, O> = {
  /** Resolves with the item's outcome after the flush holding it commits; rejects if it fails. */
  submit(item: I): Promise<O>;
  /** Resolves once everything submitted so far has been flushed. */
  drain(): Promise<void>;
};

const noop = () => {};

type Pending<I, O> = { item: I; resolve: (o: O) => void; reject: (e: unknown) => void; at: number };

/**
 * Group commit: concurrent submitters share one flush (one transaction) instead of paying a
 * commit each. A flush starts as soon as a slot is free (after `windowMs`, if set); while
 * flushes are in flight new items queue up, so batches grow with load and latency stays low
 * when idle. A failed flush rejects exactly the items it held.
 */
export function createGroupCommitter<I, O>(options: GroupCommitOptions<I, O>): GroupCommitter<I, O> {
  const { flush, durable, durableGapMs, maxBatch = 200, windowMs = 0, maxInFlight = 2, parallelMinBatch = 1, onFlush } = options;
  const queue: Pending<I, O>[] = [];
  /** Flushes holding a slot. */
  let inFlight = 0;
  /** Batches not yet settled: in flush, or waiting for `durable()`. */
  let unsettled = 0;
  let timer: NodeJS.Timeout | undefined;
  let durableRunning: Promise<void> | undefined;
  let durableNext: Promise<void> | undefined;
  let lastDurableMs = 0;
  /** Flushes committing now, and who waits for them all to have joined a durable() call. */
  let committing = 0;
  let committedWaiters: (() => void)[] = [];
  let idleWaiters: (() => void)[] = [];

  function schedule(): void {
    if (queue.length === 0 || inFlight >= maxInFlight) return;
    if (inFlight > 0 && queue.length < parallelMinBatch) return;
    if (queue.length >= maxBatch || windowMs === 0) {
      start();
    } else {
      timer ??= setTimeout(start, windowMs);
    }
  }

  function start(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (queue.length === 0 || inFlight >= maxInFlight) return;
    const batch = queue.splice(0, maxBatch);
    inFlight += 1;
    unsettled += 1;
    const startedAt = performance.now();
    const queuedMs = startedAt - batch[0]!.at;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inFlight -= 1;
      if (queue.length > 0) schedule();
    };
    void run(batch, release).then(({ failed, commitMs }) => {
      release();
      unsettled -= 1;
      onFlush?.({ size: batch.length, durationMs: performance.now() - startedAt, failed, queuedMs, commitMs });
      if (queue.length === 0 && unsettled === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const wake of waiters) wake();
      }
    });
    // Another slot may be free for what is still queued.
    if (queue.length > 0) schedule();
  }

  function startDurable(run: () => Promise<void>): Promise<void> {
    const startedAt = performance.now();
    const running: Promise<void> = run().finally(() => {
      lastDurableMs = performance.now() - startedAt;
      if (durableRunning === running) durableRunning = undefined;
    });
    durableRunning = running;
    return running;
  }

  /**
   * A durable() call that begins now or later. One already running may have begun before the
   * caller's batch committed, so it proves nothing for it: the caller shares the next one. Each
   * call costs the database a transaction and often an fsync of its own, and the disk flushes
   * everything committed before it anyway, so one call serves every batch that waited for it.
   */
  function durableFromNow(run: () => Promise<void>): Promise<void> {
    // One queued and not yet begun (it may be pausing to gather) begins after this batch committed.
    if (durableNext) return durableNext;
    if (!durableRunning) return startDurable(run);
    durableNext = durableRunning
      .then(noop, noop)
      .then(gather)
      .then(() => {
        durableNext = undefined;
        return startDurable(run);
      });
    return durableNext;
  }

  /**
   * The pause between back-to-back durable() calls. Under load the callers answered by the one
   * that just ended send their next items at once; a call begun immediately would start before
   * those commit and cover only what trickled in during the last one, so every caller would wait
   * about two disk flushes. A short pause lets them commit first and ride the next flush.
   */
  async function gather(): Promise<void> {
    const gap = durableGapMs?.(lastDurableMs) ?? 0;
    if (!(gap > 0)) return;
    await sleep(gap);
    if (committing === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      committedWaiters.push(resolve);
      timer = setTimeout(resolve, gap);
    });
    clearTimeout(timer);
  }

  /** A flush has committed and joined its durable() call, or failed. */
  function committed(): void {
    committing -= 1;
    if (committing > 0) return;
    const waiters = committedWaiters;
    committedWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Settles every item of the batch; resolves with whether it failed, never rejects. */
  async function run(batch: Pending<I, O>[], release: () => void): Promise<{ failed: boolean; commitMs: number }> {
    const startedAt = performance.now();
    let commitMs = 0;
    committing += 1;
    let joined = false;
    try {
      const outcomes = await flush(batch.map((p) => p.item));
      commitMs = performance.now() - startedAt;
      if (outcomes.length !== batch.length) {
        throw new Error(`flush returned ${outcomes.length} outcomes for ${batch.length} items`);
      }
      if (durable) {
        // Committed: the next batch may commit now, while this one waits for the disk.
        release();
        const done = durableFromNow(durable);
        joined = true;
        committed();
        await done;
      }
      batch.forEach((p, i) => p.resolve(outcomes[i] as O));
      return { failed: false, commitMs };
    } catch (err) {
      for (const p of batch) p.reject(err);
      return { failed: true, commitMs: commitMs || performance.now() - startedAt };
    } finally {
      if (!joined) committed();
    }
  }

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject, at: performance.now() });
        schedule();
      });
    },
    drain() {
      if (queue.length === 0 && unsettled === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}
