import type { LoadRequest, RequestFactory } from './lib/run-load.ts';

export type ApiRequestOptions = {
  kind: 'get-by-id' | 'list';
  storeId: number;
  key: string;
  /** Orders are O1 … O<orders>, created 90 s apart from firstCreatedMs. */
  orders: number;
  firstCreatedMs: number;
  seed?: number;
};

/**
 * Query-API requests for the load generator: get-by-id of a random order, or the first page of
 * 100 PAID orders, newest first, before a random time (as deep in the table as a cursor would be,
 * without needing the server's cursor secret).
 */
export function createApiRequests(options: ApiRequestOptions): RequestFactory {
  let state = (options.seed ?? 42) >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const headers = { authorization: `Bearer ${options.key}` };
  const base = `/v1/stores/${options.storeId}/orders`;
  return (): LoadRequest => {
    const n = 1 + Math.floor(random() * options.orders);
    const path =
      options.kind === 'get-by-id'
        ? `${base}/O${n}`
        : `${base}?paymentStatus=PAID&sort=-createdAt&limit=100&createdTo=${new Date(options.firstCreatedMs + n * 90_000).toISOString()}`;
    return { method: 'GET', path, headers, body: '', id: String(n) };
  };
}
