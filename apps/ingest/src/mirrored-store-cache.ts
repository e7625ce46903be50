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
}): (storeId: number) => boolean | Promise<boolean> {
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

  // Answered at once (no promise) from a fresh set that holds the store: the path of nearly
  // every webhook, which then needs no timer around it.
  const lookUp = async (storeId: number): Promise<boolean> => {
    if (now() - loadedAt > maxAgeMs) {
      // A store the last set holds is answered from it while the set reloads: a reload the
      // database holds up does not hold up webhooks of stores that were mirrored a moment ago
      // (their append then meets the database on its own, with its own time limit). A failed
      // reload is tried again at the next webhook.
      if (loadedAt > -Infinity && stores.has(storeId)) {
        reload().catch(() => {});
        return true;
      }
      await reload();
    }
    if (stores.has(storeId)) return true;
    if (now() - loadedAt > missReloadMs) await reload();
    return stores.has(storeId);
  };
  return (storeId) => (now() - loadedAt <= maxAgeMs && stores.has(storeId) ? true : lookUp(storeId));
}
