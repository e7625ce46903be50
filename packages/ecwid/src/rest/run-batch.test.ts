import { describe, expect, it } from 'vitest';
import { createEcwidClient } from './create-ecwid-client.ts';
import { EcwidHttpError } from './errors.ts';
import { createFakeClock, createFakeFetch, json } from './testing/fake-fetch.ts';
import { createFakeStore } from './testing/fake-store.ts';
import { loadFixture } from './testing/fixtures.ts';

function setup(data: Parameters<typeof createFakeStore>[0]) {
  const store = createFakeStore(data);
  const fake = createFakeFetch(store.handle);
  const clock = createFakeClock();
  const client = createEcwidClient({
    baseUrl: 'https://ecwid.test/api/v3',
    storeId: 1,
    token: 't',
    fetch: fake.fetch,
    sleep: clock.sleep,
    now: clock.now,
  });
  return { client, calls: fake.calls, clock };
}

describe('batches', () => {
  it('reads entities without an id filter through batches of at most 500', async () => {
    const customers = Array.from({ length: 600 }, (_, i) => ({
      ...(loadFixture('customer.json') as object),
      id: i + 1,
    }));
    const { client, calls } = setup({ customers });
    const ids = [...Array.from({ length: 600 }, (_, i) => i + 1), 9_999];
    const result = await client.fetchByBatch('customer', ids);

    expect(result.found.map((f) => f.id)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    expect(result.found[0]!.value).toMatchObject({ id: 1, email: 'ec.apps@lightspeedhq.com' });
    expect(result.missing).toEqual([9_999]);
    expect(result.failed).toEqual([]);
    const creates = calls.filter((c) => c.method === 'POST');
    expect(creates.map((c) => (c.body as unknown[]).length)).toEqual([500, 101]);
    expect(creates[0]!.url.searchParams.get('stopOnFirstFailure')).toBe('false');
    expect(creates[0]!.url.searchParams.get('deduplicationKey')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('polls a batch until COMPLETED and parses escapedHttpBody', async () => {
    const { client, clock } = setup({
      customers: [{ ...(loadFixture('customer.json') as object) }],
    });
    const status = await client.runBatch([{ id: 'a', path: '/customers/177737165' }]);
    expect(status.status).toBe('COMPLETED');
    expect(status.responses[0]).toMatchObject({
      id: 'a',
      httpStatusCode: 200,
      body: { id: 177737165 },
    });
    expect(clock.sleeps).toEqual([200, 400]);
  });

  it('gives up on a batch that never completes', async () => {
    const clock = createFakeClock();
    const fake = createFakeFetch((request) =>
      request.method === 'POST' ? json({ ticket: 'slow' }) : json({ status: 'IN_PROGRESS', totalRequests: 1, completedRequests: 0 }),
    );
    const client = createEcwidClient({
      storeId: 1,
      token: 't',
      fetch: fake.fetch,
      sleep: clock.sleep,
      now: clock.now,
    });
    await expect(client.runBatch([{ path: '/profile' }], { timeoutMs: 30_000 })).rejects.toMatchObject({
      name: 'EcwidBatchTimeoutError',
      ticket: 'slow',
      lastStatus: 'IN_PROGRESS',
    });
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeLessThan(40_000);
  });

  it('posts the documented batch request body as given', async () => {
    const fake = createFakeFetch(() => json(loadFixture('batch-create-response.json')));
    const client = createEcwidClient({ storeId: 1003, token: 't', fetch: fake.fetch });
    const requests = loadFixture('batch-create-request.json') as { path: string }[];

    const ticket = await client.createBatch(requests, { allowParallelMode: true });

    expect(ticket).toBe('11kl140a2-966f-1a9f-b4e6-fc451bc78570');
    expect(fake.calls[0]!.method).toBe('POST');
    expect(fake.calls[0]!.url.pathname).toBe('/api/v3/1003/batch');
    expect(fake.calls[0]!.headers.get('content-type')).toBe('application/json');
    expect(fake.calls[0]!.body).toEqual(loadFixture('batch-create-request.json'));
    expect(fake.calls[0]!.url.searchParams.get('allowParallelMode')).toBe('true');
  });

  it('rejects an empty or oversized batch before sending it', async () => {
    const { client, calls } = setup({});
    await expect(client.createBatch([])).rejects.toThrow(RangeError);
    await expect(client.createBatch(Array.from({ length: 501 }, () => ({ path: '/profile' })))).rejects.toThrow(RangeError);
    expect(calls).toHaveLength(0);
  });

  it("surfaces a batch create error with Ecwid's message", async () => {
    const fake = createFakeFetch(() => json(loadFixture('batch-create-error-legacy.json'), 400));
    const client = createEcwidClient({ storeId: 1, token: 't', fetch: fake.fetch });
    const error = await client.createBatch([{ path: '/profile' }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EcwidHttpError);
    expect((error as EcwidHttpError).errorMessage).toMatch(/Can't create batch/);
  });
});
