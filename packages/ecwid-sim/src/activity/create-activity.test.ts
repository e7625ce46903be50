import { isValidSignature } from '@mirror/ecwid';
import { afterEach, describe, expect, it } from 'vitest';
import { example, get, startReceiver, storeId, testSimulator } from '../test-helpers.ts';
import { createActivity, type SimChange } from './create-activity.ts';

const fast = {
  delayMs: [0, 5] as [number, number],
  reorderWindowMs: 20,
  retryDelaysMs: [10, 10],
  duplicateRate: 0,
  timeoutMs: 1_000,
};
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function receiver(answer?: Parameters<typeof startReceiver>[0]) {
  const started = await startReceiver(answer);
  closers.push(started.close);
  return started;
}

describe('webhook delivery', () => {
  it('delivers signed webhooks and retries the same body after a 500', async () => {
    const sim = testSimulator();
    const target = await receiver((_body, attempt) => (attempt === 1 ? 500 : 200));
    const activity = createActivity(sim, { storeId, target: target.url, delivery: fast });
    const changes: SimChange[] = [];
    for (let i = 0; i < 10; i++) changes.push(...(await activity.step()));
    await activity.flush();

    expect(changes.length).toBeGreaterThanOrEqual(10);
    expect(activity.stats()).toEqual({
      sent: changes.length * 2,
      delivered: changes.length,
      failed: 0,
      retried: changes.length,
      duplicates: 0,
    });
    for (const change of changes) {
      const copies = target.received.filter((webhook) => JSON.parse(webhook.body).eventId === change.eventId);
      expect(copies).toHaveLength(2);
      expect(copies[0]!.body).toBe(copies[1]!.body);
      expect(JSON.parse(copies[0]!.body)).toEqual(change);
      expect(copies[0]!.eventtype).toBe(change.eventType);
      expect(copies[0]!.headers['content-type']).toBe('application/json; charset=UTF-8');
      const signature = copies[0]!.headers['x-ecwid-webhook-signature'];
      expect(isValidSignature(signature, change.eventCreated, change.eventId, sim.clientSecret)).toBe(true);
    }
  });

  it('sends duplicates with the same eventId', async () => {
    const sim = testSimulator();
    const target = await receiver();
    const activity = createActivity(sim, {
      storeId,
      target: target.url,
      delivery: { ...fast, duplicateRate: 1 },
    });
    const changes = [...(await activity.step()), ...(await activity.step())];
    await activity.flush();
    expect(activity.stats()).toMatchObject({
      duplicates: changes.length,
      delivered: changes.length * 2,
    });
    expect(new Set(target.received.map((webhook) => JSON.parse(webhook.body).eventId)).size).toBe(changes.length);
  });

  it('gives up after the last retry', async () => {
    const sim = testSimulator();
    const target = await receiver(() => 503);
    const activity = createActivity(sim, { storeId, target: target.url, delivery: fast });
    const changes = await activity.step();
    await activity.flush();
    expect(activity.stats()).toEqual({
      sent: changes.length * 3,
      delivered: 0,
      failed: changes.length,
      retried: changes.length * 2,
      duplicates: 0,
    });
  });

  it('treats a slow answer as a failed attempt', async () => {
    const sim = testSimulator();
    let slow = true;
    const target = await receiver(() => 200);
    const activity = createActivity(sim, {
      storeId,
      target: target.url,
      delivery: { ...fast, timeoutMs: 50 },
      fetch: async (url, init) => {
        if (slow) {
          slow = false;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        return fetch(url, init);
      },
    });
    await activity.step();
    await activity.flush();
    expect(activity.stats().retried).toBeGreaterThanOrEqual(1);
    expect(activity.stats().failed).toBe(0);
  });
});

describe('store changes', () => {
  const ok = async () => new Response(null, { status: 200 });

  it('changes the store the way its webhooks say', async () => {
    const sim = testSimulator();
    const activity = createActivity(sim, {
      storeId,
      target: 'http://127.0.0.1:9/hooks',
      fetch: ok,
      delivery: fast,
    });
    const changes: SimChange[] = [];
    for (let i = 0; i < 400; i++) changes.push(...(await activity.step()));
    await activity.flush();

    const types = new Set(changes.map((change) => change.eventType));
    for (const type of [
      'order.created',
      'order.updated',
      'product.updated',
      'customer.created',
      'unfinished_order.created',
      'review.created',
      'invoice.created',
      'discount_coupon.updated',
      'promotion.created',
      'category.updated',
      'application.storageChanged',
      'order.deleted',
    ]) {
      expect(types).toContain(type);
    }
    for (const change of changes) {
      expect(change.eventId).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number.isInteger(change.eventCreated)).toBe(true);
      expect(change.storeId).toBe(storeId);
      expect(typeof change.entityId).toBe(change.eventType.startsWith('application.') ? 'string' : 'number');
    }

    const deleted = new Set(changes.filter((change) => change.eventType === 'order.deleted').map((change) => change.data!.orderId));
    for (const change of changes.filter((candidate) => candidate.eventType === 'order.deleted')) {
      expect((await get(sim, `/orders/${change.data!.orderId}`)).status).toBe(404);
    }
    const created = changes.filter((change) => change.eventType === 'order.created' && !deleted.has(change.data!.orderId));
    for (const change of created) {
      const order = (await get(sim, `/orders/${change.data!.orderId}`)).body;
      expect(order.internalId).toBe(change.entityId);
      // The event is stamped just after the order is made: the same second, or the next one
      // when a second boundary falls in between.
      expect(change.eventCreated - order.createTimestamp).toBeGreaterThanOrEqual(0);
      expect(change.eventCreated - order.createTimestamp).toBeLessThanOrEqual(1);
    }
    const deletedProducts = changes.filter((change) => change.eventType === 'product.deleted');
    for (const change of deletedProducts) expect((await get(sim, `/products/${change.entityId}`)).status).toBe(404);
    expect((await get(sim, '/products/deleted')).body.total).toBe(deletedProducts.length);
  });

  it('bumps the update time of a changed order', async () => {
    let now = Date.UTC(2025, 0, 1);
    const sim = testSimulator({ now: () => now });
    const activity = createActivity(sim, {
      storeId,
      target: 'http://127.0.0.1:9/hooks',
      fetch: ok,
      delivery: fast,
    });
    let update: SimChange | undefined;
    while (!update) {
      now += 1_000;
      update = (await activity.step()).find((change) => change.eventType === 'order.updated');
    }
    const order = (await get(sim, `/orders/${update.data!.orderId}`)).body;
    expect(order.updateTimestamp).toBe(now / 1000);
    expect(order.paymentStatus).toBe(update.data!.newPaymentStatus);
    expect(order.fulfillmentStatus).toBe(update.data!.newFulfillmentStatus);
    await activity.flush();
  });

  it('shapes order and cart webhooks like the examples', async () => {
    const sim = testSimulator();
    const activity = createActivity(sim, {
      storeId,
      target: 'http://127.0.0.1:9/hooks',
      fetch: ok,
      delivery: fast,
    });
    const changes: SimChange[] = [];
    for (let i = 0; i < 100; i++) changes.push(...(await activity.step()));
    await activity.flush();
    for (const [type, file] of [
      ['order.created', 'webhook-order-created.json'],
      ['order.updated', 'webhook-order-updated.json'],
      ['unfinished_order.created', 'webhook-unfinished-order-created.json'],
    ] as const) {
      const change = changes.find((candidate) => candidate.eventType === type)!;
      const expected = example(file) as { data: object };
      expect(Object.keys(change)).toEqual(Object.keys(expected));
      expect(Object.keys(change.data!)).toEqual(Object.keys(expected.data));
    }
  });

  it('makes changes on its own between start and stop', async () => {
    const sim = testSimulator();
    const target = await receiver();
    const activity = createActivity(sim, {
      storeId,
      target: target.url,
      ratePerSecond: 100,
      delivery: fast,
    });
    activity.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await activity.stop();
    const received = target.received.length;
    expect(received).toBeGreaterThan(5);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(target.received.length).toBe(received);
  });
});
