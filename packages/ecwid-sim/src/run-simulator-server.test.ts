import { createSilentLogger } from '@mirror/core';
import { expect, it } from 'vitest';
import { runSimulatorServer } from './run-simulator-server.ts';
import { readJson, startReceiver } from './test-helpers.ts';

it('serves a store over HTTP and sends its webhooks to the target', async () => {
  const receiver = await startReceiver();
  const running = await runSimulatorServer({
    port: 0,
    target: receiver.url,
    ratePerSecond: 50,
    log: createSilentLogger(),
  });
  try {
    expect(running.token).toMatch(/^secret_[0-9a-f]{32}$/);
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v3$/);
    const res = await fetch(`${running.url}/${running.storeId}/profile`, {
      headers: { Authorization: `Bearer ${running.token}` },
    });
    expect((await readJson(res)).generalInfo.storeId).toBe(running.storeId);
    await new Promise((resolve) => setTimeout(resolve, 500));
  } finally {
    await running.close();
    await receiver.close();
  }
  expect(receiver.received.length).toBeGreaterThan(3);
});
