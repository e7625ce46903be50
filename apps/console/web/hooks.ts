import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export type Loaded<T> = { data: T | undefined; error: string | undefined; reload: () => void };

/** Loads `load()` now and every `everyMs` (0: once), again when `deps` change; keeps the last good data on an error. */
export function usePoll<T>(load: () => Promise<T>, everyMs: number | ((latest: T | undefined) => number), deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  // Read after each load: a function decides from what came back whether to ask again (0: not
  // until `reload`), so a poll can stop without one more request.
  const everyRef = useRef(everyMs);
  everyRef.current = everyMs;
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      let value: T | undefined;
      try {
        value = await loadRef.current();
        if (!live) return;
        setData(value);
        setError(undefined);
      } catch (err) {
        if (live) setError(err instanceof Error ? err.message : String(err));
      }
      const every = everyRef.current;
      const wait = typeof every === 'function' ? every(value) : every;
      if (live && wait > 0) timer = setTimeout(() => void run(), wait);
    };
    void run();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload };
}
