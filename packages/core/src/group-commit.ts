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
  /** Called after every flush, for metrics. */
  onFlush?: (info: FlushInfo) => void;
};

/** One flush, as `onFlush` reports it. */
export type FlushInfo = {
  size: number;
  /** From the flush's start until its items settled. */
  durationMs: number;
  failed: boolean;
  /** How long the batch's oldest item waited for the flush to start. */
  queuedMs: number;
};

export type GroupCommitter<I, O> = {
  /** Resolves with the item's outcome after the flush holding it commits; rejects if it fails. */
  submit(item: I): Promise<O>;
  /** Resolves once everything submitted so far has been flushed. */
  drain(): Promise<void>;
};

type Pending<I, O> = { item: I; resolve: (o: O) => void; reject: (e: unknown) => void; at: number };

/**
 * Group commit: concurrent submitters share one flush (one transaction) instead of paying a
 * commit each. A flush starts as soon as a slot is free (after `windowMs`, if set); while
 * flushes are in flight new items queue up, so batches grow with load and latency stays low
 * when idle. A failed flush rejects exactly the items it held.
 */
export function createGroupCommitter<I, O>(options: GroupCommitOptions<I, O>): GroupCommitter<I, O> {
  const { flush, maxBatch = 200, windowMs = 0, maxInFlight = 2, parallelMinBatch = 1, onFlush } = options;
  const queue: Pending<I, O>[] = [];
  /** Flushes in flight. */
  let inFlight = 0;
  let timer: NodeJS.Timeout | undefined;
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
    const startedAt = performance.now();
    const queuedMs = startedAt - batch[0]!.at;
    void run(batch).then((failed) => {
      inFlight -= 1;
      if (queue.length > 0) schedule();
      onFlush?.({ size: batch.length, durationMs: performance.now() - startedAt, failed, queuedMs });
      if (queue.length === 0 && inFlight === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const wake of waiters) wake();
      }
    });
    // Another slot may be free for what is still queued.
    if (queue.length > 0) schedule();
  }

  /** Settles every item of the batch; resolves with whether it failed, never rejects. */
  async function run(batch: Pending<I, O>[]): Promise<boolean> {
    try {
      const outcomes = await flush(batch.map((p) => p.item));
      if (outcomes.length !== batch.length) {
        throw new Error(`flush returned ${outcomes.length} outcomes for ${batch.length} items`);
      }
      batch.forEach((p, i) => p.resolve(outcomes[i] as O));
      return false;
    } catch (err) {
      for (const p of batch) p.reject(err);
      return true;
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
      if (queue.length === 0 && inFlight === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}
