import type { CreateBatchOptions, EcwidBatchRequest, EcwidBatchStatus } from './batch-types.ts';
import { EcwidBatchTimeoutError } from './errors.ts';

/** Polling budget of {@link runBatch}. */
export type RunBatchOptions = CreateBatchOptions & {
  /** First wait before polling; doubles up to `maxPollIntervalMs`. */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  /** Give up (EcwidBatchTimeoutError) after this long; the batch keeps running at Ecwid. */
  timeoutMs?: number;
};

/** What {@link runBatch} needs from a client. */
export type BatchApi = {
  createBatch(requests: readonly EcwidBatchRequest[], options?: CreateBatchOptions): Promise<string>;
  getBatch(ticket: string): Promise<EcwidBatchStatus>;
};

/**
 * Creates a batch, then polls until COMPLETED with growing pauses. Ecwid documents no poll
 * interval (docs/ecwid.md §5), and every poll spends a request of the token's budget.
 */
export async function runBatch(
  api: BatchApi,
  requests: readonly EcwidBatchRequest[],
  clock: { sleep: (ms: number) => Promise<void>; now: () => number },
  options: RunBatchOptions = {},
): Promise<EcwidBatchStatus> {
  const { pollIntervalMs = 200, maxPollIntervalMs = 5_000, timeoutMs = 300_000, ...createOptions } = options;
  const ticket = await api.createBatch(requests, createOptions);
  const startedAt = clock.now();
  let interval = pollIntervalMs;
  for (;;) {
    await clock.sleep(interval);
    const status = await api.getBatch(ticket);
    if (status.status === 'COMPLETED') return status;
    const waited = clock.now() - startedAt;
    if (waited >= timeoutMs) throw new EcwidBatchTimeoutError(ticket, status.status, waited);
    interval = Math.min(maxPollIntervalMs, interval * 2);
  }
}
