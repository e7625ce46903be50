import { expect, it } from 'vitest';
import { example, get, readJson, request, storeId, testSimulator } from '../test-helpers.ts';

const sim = testSimulator({ batchDelayMs: 50 });

function post(body: unknown) {
  return request(sim, '/batch', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

it('runs a batch after a queued phase and returns each sub-response', async () => {
  const order = (await get(sim, '/orders?limit=1')).body.items[0];
  const res = await post([
    { id: 'a', path: `/orders/${order.id}`, method: 'GET' },
    { id: 'b', path: '/orders?limit=1&offset=1', method: 'GET' },
    { path: '/profile', method: 'GET' },
  ]);
  const created = await readJson(res);
  expect(Object.keys(created)).toEqual(Object.keys(example('batch-create-response.json')));
  const ticket = created.ticket as string;

  const first = await get(sim, `/batch?ticket=${ticket}`);
  expect(first.body).toMatchObject({ status: 'QUEUED', totalRequests: 3, completedRequests: 0 });
  let status = first.body;
  while (status.status !== 'COMPLETED') {
    await new Promise((resolve) => setTimeout(resolve, 20));
    status = (await get(sim, `/batch?ticket=${ticket}`)).body;
  }
  expect(status).toMatchObject(example('batch-status-response.json'));
  expect(status.responses[0]).toMatchObject({
    id: 'a',
    status: 'COMPLETED',
    httpStatusCode: 200,
    httpStatusLine: 'HTTP/1.1 200 OK',
  });
  expect(status.responses[0].httpBody.id).toBe(order.id);
  expect(status.responses[1].httpBody.offset).toBe(1);

  const escaped = (await get(sim, `/batch?ticket=${ticket}&escapedJson=true`)).body;
  expect(JSON.parse(escaped.responses[2].escapedHttpBody).generalInfo.storeId).toBe(storeId);
  expect(escaped.responses[2].httpBody).toBeUndefined();
});

it('stops at the first failed sub-request by default', async () => {
  const { ticket } = await readJson(
    await post([
      { id: '1', path: '/orders/NOPE1', method: 'GET' },
      { id: '2', path: '/profile', method: 'GET' },
    ]),
  );
  await new Promise((resolve) => setTimeout(resolve, 150));
  const { body } = await get(sim, `/batch?ticket=${ticket}`);
  expect(body.responses.map((response: { status: string }) => response.status)).toEqual(['FAILED', 'NOT_EXECUTED']);
  expect(body.responses[0].httpBody.errorCode).toBe('ORDER_NOT_FOUND');
});

it('refuses more than 500 requests, an invalid body and an unknown ticket', async () => {
  const tooMany = await post(Array.from({ length: 501 }, () => ({ path: '/profile', method: 'GET' })));
  expect(tooMany.status).toBe(400);
  expect(await readJson(tooMany)).toMatchObject({ errorCode: 'WRONG_PARAMETER' });
  expect((await post({ path: '/profile' })).status).toBe(400);
  expect((await get(sim, '/batch?ticket=unknown')).status).toBe(404);
});

// Last: its batches queue ahead of any later test's (a store's batches run one after another).
it('answers a create repeated with the same deduplicationKey with the first ticket, and starts nothing more', async () => {
  const body = JSON.stringify([{ path: '/profile', method: 'GET' }]);
  const create = (key?: string) =>
    request(sim, `/batch${key ? `?deduplicationKey=${key}` : ''}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
    });
  const key = '11111111-1111-1111-1111-111111111111';
  const first = (await readJson(await create(key))).ticket as string;
  expect((await readJson(await create(key))).ticket).toBe(first);
  // Another key, or none, is another batch.
  const other = (await readJson(await create('22222222-2222-2222-2222-222222222222'))).ticket as string;
  const keyless = [(await readJson(await create())).ticket, (await readJson(await create())).ticket];
  expect(new Set([first, other, ...keyless]).size).toBe(4);
});
