/**
 * Which stores the mirror mirrors, as ingest asks it for every webhook: from memory, reloaded
 * from the database when the set is older than `maxAgeMs` (a store removed stops being
 * accepted) and on a miss at most once per `missReloadMs` (a store just added is accepted within
 * that much, and a flood of webhooks for unknown stores costs one query per interval, not one
 * each).
 */
export function createMirroredStoreCache(options: {
  load: () => Promise<Set<number>>;
  maxAgeMs?: number;
  missReloadMs?: number;
  now?: () => number;
}): (storeId: number) => Promise<boolean> {
  const { load, maxAgeMs = 10_000, missReloadMs = 1000, now = Date.now } = options;
  let stores = new Set<number>();
  let loadedAt = -Infinity;
  let loading: Promise<void> | undefined;

  const reload = () =>
    (loading ??= load()
      .then((next) => {
        stores = next;
        loadedAt = now();
      })
      .finally(() => {
        loading = undefined;
      }));

  return async (storeId) => {
    if (now() - loadedAt > maxAgeMs) await reload();
    if (stores.has(storeId)) return true;
    if (now() - loadedAt > missReloadMs) await reload();
    return stores.has(storeId);
  };
}
