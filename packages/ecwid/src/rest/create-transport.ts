import type { Logger } from '@mirror/core';
import { fullJitterDelayMs, parseRetryAfterMs } from './backoff.ts';
import { readErrorText } from './error-body.ts';
import { EcwidHttpError, EcwidStoreError, EcwidUnavailableError, type EcwidRetryReason } from './errors.ts';
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
  /** A 429 asking to wait longer than this fails at once instead of holding the caller (see EcwidClientOptions). */
  maxRateLimitWaitMs: number;
  log: Pick<Logger, 'warn'> | undefined;
  /** Called after every attempt with its HTTP status, `timeout` or `network_error` (metrics). */
  onAttempt: ((outcome: string) => void) | undefined;
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
  { status: 'ok'; body: unknown } | { status: 'not_found'; errorCode: string | undefined; errorMessage: string | undefined };

type Failure = { reason: EcwidRetryReason; status?: number; cause?: unknown };
type Decision = { answer: TransportAnswer } | { retry: Failure; delayMs: number };

type Attempt = { kind: 'response'; response: Response; text: string } | { kind: 'timeout' } | { kind: 'network'; cause: unknown };

/** Sends requests for one store: rate limit, timeout, retries, and Ecwid's status codes. */
export type Transport = { send(request: TransportRequest): Promise<TransportAnswer> };

/**
 * Every Ecwid call goes through here, so the retry rules live in one place: 429 pauses the
 * token's shared limiter for `Retry-After` and retries; 5xx, timeouts (ours and Ecwid's 408), network failures and
 * 2xx bodies cut short back off with full jitter; all of it bounded by `maxAttempts`. Every
 * other answer is final.
 */
export function createTransport(options: TransportOptions): Transport {
  const { storeId, token, limiter, fetch, sleep, now, random, timeoutMs, maxAttempts, maxRateLimitWaitMs, log, onAttempt } = options;
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

  /** What to do with one attempt's outcome: answer, retry after a delay, or throw. */
  function decide(request: TransportRequest, result: Attempt, attempt: number): Decision {
    const backoff = () => fullJitterDelayMs(attempt, { random });
    if (result.kind === 'timeout') return { retry: { reason: 'timeout' }, delayMs: backoff() };
    if (result.kind === 'network') return { retry: { reason: 'network', cause: result.cause }, delayMs: backoff() };

    const { response, text } = result;
    const status = response.status;
    if (status >= 200 && status < 300) {
      const body = parseJson(text);
      if (body.ok) return { answer: { status: 'ok', body: body.value } };
      // A 2xx whose JSON is cut short is a failed transfer, not a new document shape.
      return { retry: { reason: 'malformed_body', status, cause: body.cause }, delayMs: backoff() };
    }
    if (status === 429) {
      // Ecwid blocks the token, so the pause holds every caller of the token, not just this
      // one; the retry then waits in the limiter's queue rather than sleeping here.
      const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'), now());
      limiter.pause(retryAfterMs);
      if (retryAfterMs > maxRateLimitWaitMs) {
        throw new EcwidUnavailableError(
          { method: request.method, path: request.path, status },
          { reason: 'rate_limited', attempts: attempt, retryAfterMs },
        );
      }
      return { retry: { reason: 'rate_limited', status }, delayMs: 0 };
    }
    if (status >= 500) return { retry: { reason: 'server_error', status }, delayMs: backoff() };
    // Ecwid's own 408 TIMEOUT (docs/ecwid.md §4.3) is its side running out of time: the same
    // request may well succeed again, as after our own timeout.
    if (status === 408) return { retry: { reason: 'timeout', status }, delayMs: backoff() };

    const context = { method: request.method, path: request.path, status };
    const { errorCode, errorMessage } = readErrorText(text);
    const storeCode = storeErrorCodeFor(status, errorCode);
    if (storeCode) throw new EcwidStoreError(storeCode, { ...context, errorCode }, errorMessage);
    if (status === 404) return { answer: { status: 'not_found', errorCode, errorMessage } };
    throw new EcwidHttpError(context, { errorCode, errorMessage });
  }

  async function send(request: TransportRequest): Promise<TransportAnswer> {
    for (let attempt = 1; ; attempt++) {
      const permit = await limiter.acquire();
      let result: Attempt;
      try {
        result = await attemptOnce(request);
      } finally {
        permit.release();
      }
      onAttempt?.(result.kind === 'response' ? String(result.response.status) : result.kind === 'timeout' ? 'timeout' : 'network_error');
      const decision = decide(request, result, attempt);
      if ('answer' in decision) return decision.answer;

      const { retry, delayMs } = decision;
      if (attempt >= maxAttempts) {
        throw new EcwidUnavailableError(
          { method: request.method, path: request.path, status: retry.status },
          { reason: retry.reason, attempts: attempt },
          { cause: retry.cause },
        );
      }
      log?.warn(
        {
          storeId,
          method: request.method,
          path: request.path,
          attempt,
          reason: retry.reason,
          status: retry.status,
          delayMs,
        },
        'ecwid request retried',
      );
      if (delayMs > 0) await sleep(delayMs);
    }
  }

  return { send };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; cause: unknown } {
  if (text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (cause) {
    return { ok: false, cause };
  }
}
