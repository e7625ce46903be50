export type RequestStats = {
  /** Requests seen, for one token or in total; every answer counts, 429s and 403s too. */
  requests(token?: string): number;
  /** Peak number of requests by this token inside any sliding window (default 60 s). */
  maxInAnyWindow(token: string, windowMs?: number): number;
  /** Counts per `METHOD /route/pattern`, relative to the store, e.g. `GET /orders/:orderId`. */
  byPath(): Record<string, number>;
  reset(): void;
};

export function createRequestStats(): RequestStats & {
  record(token: string, path: string, at: number): void;
} {
  let timesByToken = new Map<string, number[]>();
  let paths = new Map<string, number>();
  let total = 0;
  return {
    record(token, path, at) {
      total++;
      const times = timesByToken.get(token) ?? [];
      times.push(at);
      timesByToken.set(token, times);
      paths.set(path, (paths.get(path) ?? 0) + 1);
    },
    requests: (token) => (token === undefined ? total : (timesByToken.get(token)?.length ?? 0)),
    maxInAnyWindow(token, windowMs = 60_000) {
      const times = timesByToken.get(token) ?? [];
      let peak = 0;
      for (let start = 0, end = 0; end < times.length; end++) {
        while (times[end]! - times[start]! >= windowMs) start++;
        peak = Math.max(peak, end - start + 1);
      }
      return peak;
    },
    byPath: () => Object.fromEntries(paths),
    reset() {
      timesByToken = new Map();
      paths = new Map();
      total = 0;
    },
  };
}
