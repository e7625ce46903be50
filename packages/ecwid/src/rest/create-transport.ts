import type { Logger } from '@mirror/core';
import { fullJitterDelayMs, parseRetryAfterMs } from './backoff.ts';
import { readErrorText } from './error-body.ts';
import {
  EcwidHttpError,
  EcwidStoreError,
  EcwidUnavailableError,
  EcwidValidationError,
  type EcwidRetryReason,
} from './errors.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { storeErrorCodeFor } from './store-error-code.ts';

/** Everything one store's requests need; the client fills in defaults. */
export type TransportOptions = {
  baseUrl: string;
  storeId: number;
  token: string;
  limiter: RateLimiter;
  fetch: typeof globalThis.fetch;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  random: () => number;
  timeoutMs: number;
  maxAttempts: number;
  log: Pick<Logger, 'warn'> | undefined;
};

/** A request relative to the store: `path` has no query, `query` starts with `?` or is empty. */
export type TransportRequest = {
  method: 'GET' | 'POST';
  path: string;
  query?: string;
  body?: unknown;
};

/** A 2xx body, or Ecwid's 404 for an entity (a store-level 404 is an error instead). */
export type TransportAnswer =
  | { status: 'ok'; body: unknown }
  | { status: 'not_found'; errorCode: string | undefined; errorMessage: string | undefined };

type Attempt =
  | { kind: 'response'; response: Response; text: string }
  | { kind: 'timeout' }
  | { kind: 'network'; cause: unknown };

/** Sends requests for one store: rate limit, timeout, retries, and Ecwid's status codes. */
export type Transport = { send(request: TransportRequest): Promise<TransportAnswer> };

/**
 * Every Ecwid call goes through here, so the retry rules live in one place: 429 pauses the
 * token's shared limiter for `Retry-After` and retries; 5xx, timeouts and network failures
 * back off with full jitter; everything is bounded by `maxAttempts`. Other answers are final.
 */
export function createTransport(options: TransportOptions): Transport {
  const { storeId, token, limiter, fetch, sleep, now, random, timeoutMs, maxAttempts, log } = options;
  const storeUrl = `${options.baseUrl.replace(/\/+$/, '')}/${storeId}`;

  async function attemptOnce(request: TransportRequest): Promise<Attempt> {
    const controller = new AbortController();
    // One deadline for connect, headers and body: a stalled gzip stream is a timeout too.
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const hasBody = request.body !== undefined;
      const response = await fetch(storeUrl + request.path + (request.query ?? ''), {
        method: request.method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          'accept-encoding': 'gzip',
          ...(hasBody && { 'content-type': 'application/json' }),
        },
        ...(hasBody && { body: JSON.stringify(request.body) }),
        signal: controller.signal,
      });
      const text = await response.text();
      return { kind: 'response', response, text };
    } catch (cause) {
      if (controller.signal.aborted) return { kind: 'timeout' };
      return { kind: 'network', cause };
    } finally {
      clearTimeout(timer);
    }
  }

  async function send(request: TransportRequest): Promise<TransportAnswer> {
    const context = { method: request.method, path: request.path };
    let failure: { reason: EcwidRetryReason; status?: number; cause?: unknown } = { reason: 'network' };

    for (let attempt = 1; ; attempt++) {
      await limiter.acquire();
      const result = await attemptOnce(request);

      let retryDelayMs: number;
      if (result.kind === 'response') {
        const { response, text } = result;
        const status = response.status;
        if (status >= 200 && status < 300) return { status: 'ok', body: parseJson(text, context) };
        if (status === 429) {
          const pauseMs = parseRetryAfterMs(response.headers.get('retry-after'), now());
          // The pause holds every caller of this token, not just this one: Ecwid blocks the token.
          limiter.pause(pauseMs);
          failure = { reason: 'rate_limited', status };
          retryDelayMs = 0;
        } else if (status >= 500) {
          failure = { reason: 'server_error', status };
          retryDelayMs = fullJitterDelayMs(attempt, { random });
        } else {
          const { errorCode, errorMessage } = readErrorText(text);
          const storeCode = storeErrorCodeFor(status, errorCode);
          if (storeCode) throw new EcwidStoreError(storeCode, { ...context, status, errorCode }, errorMessage);
          if (status === 404) return { status: 'not_found', errorCode, errorMessage };
          throw new EcwidHttpError({ ...context, status }, { errorCode, errorMessage });
        }
      } else {
        failure = result.kind === 'timeout' ? { reason: 'timeout' } : { reason: 'network', cause: result.cause };
        retryDelayMs = fullJitterDelayMs(attempt, { random });
      }

      if (attempt >= maxAttempts) {
        throw new EcwidUnavailableError(
          { ...context, status: failure.status },
          { reason: failure.reason, attempts: attempt },
          { cause: failure.cause },
        );
      }
      log?.warn(
        { storeId, method: request.method, path: request.path, attempt, reason: failure.reason, status: failure.status, retryDelayMs },
        'ecwid request retried',
      );
      if (retryDelayMs > 0) await sleep(retryDelayMs);
    }
  }

  return { send };
}

function parseJson(text: string, context: { method: string; path: string }): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new EcwidValidationError(context, [{ path: '', message: 'body is not JSON' }], { cause });
  }
}
