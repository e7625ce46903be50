import type { SimStore } from '../store/sim-store.ts';

/** Hono env of the store-scoped routes: the store is resolved (and authorised) upstream. */
export type SimEnv = {
  Variables: { store: SimStore; /** The access token the request was made with (the rate limit counts per token). */ token: string };
};
