import type { SimStore } from '../store/sim-store.ts';

/** Hono env of the store-scoped routes: the store is resolved (and authorised) upstream. */
export type SimEnv = { Variables: { store: SimStore } };
