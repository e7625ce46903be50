/** Latency percentiles in milliseconds, exact (every sample kept, not an HDR histogram). */
export type LatencySummary = {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
};

/**
 * Records every latency sample with sub-millisecond precision (a histogram of whole
 * milliseconds is too coarse for a server answering in 1–3 ms).
 */
export function createLatencyRecorder(initialCapacity = 1 << 16) {
  let samples = new Float64Array(initialCapacity);
  let count = 0;
  return {
    record(ms: number): void {
      if (count === samples.length) {
        const grown = new Float64Array(samples.length * 2);
        grown.set(samples);
        samples = grown;
      }
      samples[count++] = ms;
    },
    summary(): LatencySummary {
      return summarizeLatencies(samples.subarray(0, count));
    },
  };
}

export type LatencyRecorder = ReturnType<typeof createLatencyRecorder>;

/** Nearest-rank percentiles of the given samples (ms). */
export function summarizeLatencies(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const at = (p: number) => (n === 0 ? Number.NaN : sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)]!);
  let total = 0;
  for (const v of sorted) total += v;
  return {
    count: n,
    mean: n === 0 ? Number.NaN : total / n,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max: n === 0 ? Number.NaN : sorted[n - 1]!,
  };
}
