import type { Logger } from '@mirror/core';
import {
  createEcwidClient,
  createRateLimiterRegistry,
  tokenKey,
  type EcwidClient,
  type EcwidClientOptions,
  type RateLimiterRegistry,
} from '@mirror/ecwid';

/** Makes (and caches) a client per store and token. */
export type ClientFactory = (storeId: number, token: string) => EcwidClient;

export type ClientFactoryOptions = {
  baseUrl?: string;
  /** One per process, shared by every client, so each token stays under its limit (docs/ecwid.md §4.2). */
  limiter?: RateLimiterRegistry;
  /** Ecwid's limit per token, for the registry made here when none is given. */
  ratePerMinute?: number;
  log?: Logger;
} & Pick<EcwidClientOptions, 'fetch' | 'timeoutMs' | 'maxAttempts' | 'maxRateLimitWaitMs' | 'sleep' | 'onAttempt'>;

/**
 * The longest 429 `Retry-After` the enrichment worker's requests wait out. A longer one fails
 * the request, and the store pauses at least that long (its status says so) while its slot goes
 * to the other stores: a throttled store must not hold back the rest.
 */
export const workerRateLimitWaitMs = 10_000;

/**
 * A client factory over one shared rate-limiter registry. A replaced token gets a new client;
 * clients are keyed by a hash of the token, never the token itself.
 */
export function createClientFactory(options: ClientFactoryOptions = {}): ClientFactory & { limiter: RateLimiterRegistry } {
  const {
    limiter = createRateLimiterRegistry({ ...(options.ratePerMinute && { perMinute: options.ratePerMinute }) }),
    log,
    ...rest
  } = options;
  const clients = new Map<string, EcwidClient>();
  const factory = (storeId: number, token: string) => {
    const key = `${storeId}:${tokenKey(token)}`;
    let client = clients.get(key);
    if (!client) {
      client = createEcwidClient({ ...rest, storeId, token, limiter, ...(log && { log }) });
      clients.set(key, client);
    }
    return client;
  };
  return Object.assign(factory, { limiter });
}
