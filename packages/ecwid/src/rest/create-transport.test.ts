import { describe, expect, it, vi } from 'vitest';
import { createEcwidClient } from './create-ecwid-client.ts';
import { EcwidHttpError, EcwidStoreError, EcwidUnavailableError, EcwidValidationError } from './errors.ts';
import { createFakeClock, createFakeFetch, hangUntilAborted, json } from './testing/fake-fetch.ts';
import { loadFixture } from './testing/fixtures.ts';

const token = 'secret_do-not-leak-42';

function setup(
  handler: Parameters<typeof createFakeFetch>[0],
  options: { timeoutMs?: number; onAttempt?: (outcome: string) => void; maxRateLimitWaitMs?: number } = {},
) {
  const clock = createFakeClock();
  const fake = createFakeFetch(handler);
  const warn = vi.fn();
  const client = createEcwidClient({
    baseUrl: 'https://ecwid.test/api/v3',
    storeId: 1003,
    token,
    fetch: fake.fetch,
    sleep: clock.sleep,
    now: clock.now,
    random: () => 0.5,
    log: { warn } as never,
    ...options,
  });
  return { client, clock, calls: fake.calls, warn };
}

/** Answers with each response in turn, then the last one forever. */
function sequence(...responses: (() => Response | Promise<Response>)[]) {
  let index = 0;
  return () => responses[Math.min(index++, responses.length - 1)]!();
}

const product = () => json(loadFixture('product.json'));

describe('Ecwid requests', () => {
  it('sends the bearer token, gzip and the store id in the path', async () => {
    const { client, calls } = setup(product);
    await client.getProduct(692730761);
    expect(calls[0]!.url.href).toBe('https://ecwid.test/api/v3/1003/products/692730761');
    expect(calls[0]!.headers.get('authorization')).toBe(`Bearer ${token}`);
    expect(calls[0]!.headers.get('accept-encoding')).toBe('gzip');
    expect(calls[0]!.url.search).not.toContain(token);
  });

  it('honours Retry-After on 429, pausing for exactly that long', async () => {
    const { client, clock, calls } = setup(sequence(() => json({ errorCode: 'RATE_LIMITED' }, 429, { 'retry-after': '7' }), product));
    const result = await client.getProduct(692730761);
    expect(result.status).toBe('ok');
    expect(calls).toHaveLength(2);
    expect(clock.sleeps).toEqual([7_000]);
  });

  it('reports the outcome of every attempt, for metrics', async () => {
    const outcomes: string[] = [];
    const { client } = setup(
      sequence(
        () => json({}, 429),
        () => json({}, 503),
        product,
      ),
      {
        onAttempt: (o) => outcomes.push(o),
      },
    );
    await client.getProduct(692730761);
    expect(outcomes).toEqual(['429', '503', '200']);
  });

  it('with maxRateLimitWaitMs, fails at once on a 429 asking for a longer wait, saying how long', async () => {
    const { client, clock, calls } = setup(
      sequence(() => json({ errorCode: 'RATE_LIMITED' }, 429, { 'retry-after': '30' }), product),
      { maxRateLimitWaitMs: 10_000 },
    );
    const error = await client.getProduct(692730761).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(EcwidUnavailableError);
    expect(error).toMatchObject({ reason: 'rate_limited', attempts: 1, status: 429, retryAfterMs: 30_000 });
    expect(calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
    // The token stays paused for every caller: the next request waits out the rest first.
    await client.getProduct(692730761).catch(() => {});
    expect(clock.sleeps).toEqual([30_000]);
  });

  it('with maxRateLimitWaitMs, still waits out a 429 asking for a shorter wait', async () => {
    const { client, clock, calls } = setup(
      sequence(() => json({ errorCode: 'RATE_LIMITED' }, 429, { 'retry-after': '7' }), product),
      { maxRateLimitWaitMs: 10_000 },
    );
    expect((await client.getProduct(692730761)).status).toBe('ok');
    expect(calls).toHaveLength(2);
    expect(clock.sleeps).toEqual([7_000]);
  });

  it('waits 10 s on a 429 without Retry-After', async () => {
    const { client, clock, calls } = setup(sequence(() => json({}, 429), product));
    await client.getProduct(692730761);
    expect(calls).toHaveLength(2);
    expect(clock.sleeps).toEqual([10_000]);
  });

  it('retries 5xx with capped, jittered backoff, then surfaces EcwidUnavailableError', async () => {
    const { client, clock, calls, warn } = setup(() => json({ errorCode: 'INTERNAL_ERROR' }, 503));
    const error = await client.getProduct(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EcwidUnavailableError);
    expect(error).toMatchObject({
      reason: 'server_error',
      attempts: 5,
      status: 503,
      path: '/products/1',
    });
    expect(calls).toHaveLength(5);
    // random() = 0.5 → half of 500·2^(n-1)
    expect(clock.sleeps).toEqual([250, 500, 1_000, 2_000]);
    expect(warn).toHaveBeenCalledTimes(4);
  });

  it('recovers when a 5xx is followed by a success', async () => {
    const { client, calls } = setup(sequence(() => json({}, 502), product));
    expect((await client.getProduct(692730761)).status).toBe('ok');
    expect(calls).toHaveLength(2);
  });

  it("retries Ecwid's own 408 TIMEOUT as a timeout, and recovers", async () => {
    const { client, calls, clock } = setup(sequence(() => json({ errorCode: 'TIMEOUT', errorMessage: 'Request timeout' }, 408), product));
    expect((await client.getProduct(692730761)).status).toBe('ok');
    expect(calls).toHaveLength(2);
    expect(clock.sleeps).toEqual([250]);
    const { client: stuck } = setup(() => json({ errorCode: 'TIMEOUT' }, 408));
    await expect(stuck.getProduct(1)).rejects.toMatchObject({ name: 'EcwidUnavailableError', reason: 'timeout', status: 408, attempts: 5 });
  });

  it('times out a hung request, retries it, then surfaces a timeout', async () => {
    const { client, calls } = setup(hangUntilAborted, { timeoutMs: 5 });
    const error = await client.getOrder('K8XTQ').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EcwidUnavailableError);
    expect(error).toMatchObject({ reason: 'timeout', attempts: 5 });
    expect(calls).toHaveLength(5);
    expect(calls.every((call) => call.signal?.aborted)).toBe(true);
  });

  it('retries a network error', async () => {
    const { client, calls } = setup(
      sequence(() => Promise.reject(new TypeError('fetch failed', { cause: new Error('ECONNRESET') })), product),
    );
    expect((await client.getProduct(692730761)).status).toBe('ok');
    expect(calls).toHaveLength(2);
  });

  it("types a 404 as gone, keeping Ecwid's errorCode", async () => {
    const { client, calls } = setup(() => json({ errorCode: 'PRODUCT_NOT_FOUND', errorMessage: 'Product not found' }, 404));
    expect(await client.getProduct(5)).toEqual({ status: 'gone', errorCode: 'PRODUCT_NOT_FOUND' });
    expect(calls).toHaveLength(1);
  });

  it.each([
    [403, 'INSUFFICIENT_APP_SCOPE', 'SCOPE'],
    [403, 'INVALID_API_TOKEN', 'TOKEN'],
    [402, 'NOT_AVAILABLE_ON_CURRENT_PLAN', 'PLAN'],
    [402, 'STORE_IS_SUSPENDED', 'SUSPENDED'],
    [404, 'STORE_NOT_FOUND', 'STORE_NOT_FOUND'],
  ])('fails a %i %s at once as a store error %s', async (status, errorCode, code) => {
    const { client, calls } = setup(() => json({ errorCode, errorMessage: 'nope' }, status));
    const error = await client.getOrder('K8XTQ').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EcwidStoreError);
    expect(error).toMatchObject({ code, status, errorCode });
    expect(calls).toHaveLength(1);
  });

  it("fails a 400 at once with Ecwid's errorCode and errorMessage", async () => {
    const { client, calls } = setup(() => json({ errorCode: 'WRONG_PARAMETER', errorMessage: 'bad limit' }, 400));
    const error = await client.searchOrders({ limit: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EcwidHttpError);
    expect(error).toMatchObject({
      status: 400,
      errorCode: 'WRONG_PARAMETER',
      errorMessage: 'bad limit',
    });
    expect(calls).toHaveLength(1);
  });

  it('retries a 2xx whose JSON is cut short', async () => {
    const { client, calls } = setup(sequence(() => new Response('{"id": 692730761, "sk', { status: 200 }), product));
    expect((await client.getProduct(692730761)).status).toBe('ok');
    expect(calls).toHaveLength(2);
  });

  it('reports a body that breaks the schema as a validation error', async () => {
    const { client } = setup(() => json({ ...(loadFixture('product.json') as object), price: 'ten' }));
    await expect(client.getProduct(692730761)).rejects.toThrow(EcwidValidationError);
    await expect(client.getProduct(692730761)).rejects.toThrow(/price/);
  });

  it('never puts the token in an error message or a log line', async () => {
    const { client, warn } = setup(() => json({}, 500));
    const error = (await client.getProduct(1).catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain(token);
    expect(JSON.stringify(warn.mock.calls)).not.toContain(token);
    const forbidden = setup(() => json({ errorCode: 'INVALID_API_TOKEN' }, 403));
    const storeError = (await forbidden.client.getProduct(1).catch((e: unknown) => e)) as Error;
    expect(`${storeError.message} ${JSON.stringify(storeError)}`).not.toContain(token);
  });

  it('keeps the query string (it may hold an email) out of errors', async () => {
    const { client } = setup(() => json({ errorCode: 'WRONG_PARAMETER' }, 400));
    const error = (await client.searchOrders({ email: 'ann@example.com' }).catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain('ann@example.com');
  });
});
