import { createSilentLogger } from '@mirror/core';
import { enrichmentStateTable, eventLogTable, parkedEventsTable, productsTable } from '@mirror/db';
import { concurrencySkipReason } from '@mirror/db/testing';
import { and, eq, inArray } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectBatch } from '../projection/project-batch.ts';
import { addStoreToken } from '../stores/store-tokens.ts';
import { createClientFactory } from './create-client-factory.ts';
import { enrichStore } from './enrich-store.ts';
import { retryParked } from './retry-parked.ts';
import { runEnrichment } from './run-enrichment.ts';
import { createKit, storeA, type Kit } from './testing/enrichment-kit.ts';

const storeB = 2004;
const tokenB = 'secret_store_b_token';

let kit: Kit;
afterEach(() => kit?.close());

const stateOf = async (storeId = storeA) =>
  (await kit.db.select().from(enrichmentStateTable).where(eq(enrichmentStateTable.storeId, storeId)))[0];
const requests = (route: string) => kit.sim.stats.byPath()[route] ?? 0;

describe('enrichment', () => {
  beforeEach(async () => {
    kit = await createKit();
  });

  it('stores a redelivered webhook once and answers it with one snapshot', async () => {
    const product = kit.sim.store(storeA).products.values()[0]!;
    const eventId = 'redelivered-1';
    const first = await kit.send({ eventType: 'product.updated', entityId: product.id, eventId });
    const again = await kit.send({ eventType: 'product.updated', entityId: product.id, eventId });
    expect(first).toBeGreaterThan(0);
    expect(again).toBeUndefined();
    await kit.pass();
    const records = await kit.records();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ kind: 'snapshot', entityKind: 'product', entityId: String(product.id), causedBy: [first] });
  });

  it('coalesces a burst of 100 updates of one product into one fetch', async () => {
    const product = kit.sim.store(storeA).products.values()[0]!;
    const positions: number[] = [];
    for (let i = 0; i < 100; i++) positions.push((await kit.send({ eventType: 'product.updated', entityId: product.id }))!);
    kit.sim.stats.reset();
    const result = await kit.pass();
    expect(result).toMatchObject({ status: 'progressed', appended: 1, position: positions.at(-1) });
    expect(kit.sim.stats.requests()).toBe(1);
    expect(requests('GET /products')).toBe(1);
    const [record] = await kit.records();
    expect(record?.causedBy).toEqual(positions);
  });

  it('fetches the current state whatever order the webhooks came in', async () => {
    const store = kit.sim.store(storeA);
    const order = store.orders.values()[0]!;
    store.update('orders', order.internalId, (doc) => {
      doc.paymentStatus = 'REFUNDED';
    });
    const updated = await kit.send({ eventType: 'order.updated', entityId: order.internalId, data: { orderId: order.id }, eventCreated: 1_800_000_100 });
    const created = await kit.send({ eventType: 'order.created', entityId: order.internalId, data: { orderId: order.id }, eventCreated: 1_800_000_000 });
    await kit.pass();
    const records = await kit.records();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ entityKind: 'order', entityId: order.id, causedBy: [updated, created] });
    expect((records[0]!.payload as { paymentStatus: string }).paymentStatus).toBe('REFUNDED');
  });

  it('answers a delete with a tombstone, and a late update of the deleted entity with a not_found tombstone', async () => {
    const store = kit.sim.store(storeA);
    const product = store.products.values()[3]!;
    store.remove('products', product.id);
    await kit.send({ eventType: 'product.deleted', entityId: product.id });
    kit.sim.stats.reset();
    await kit.pass();
    expect(kit.sim.stats.requests()).toBe(0);
    await kit.send({ eventType: 'product.updated', entityId: product.id });
    await kit.pass();
    const records = await kit.records();
    expect(records.map((r) => [r.kind, r.entityId, (r.payload as { reason: string }).reason])).toEqual([
      ['tombstone', String(product.id), 'deleted'],
      ['tombstone', String(product.id), 'not_found'],
    ]);
  });

  it('finds an order by its internal id when the webhook has no data.orderId', async () => {
    const store = kit.sim.store(storeA);
    const [order, deleted] = store.orders.values().slice(0, 2);
    store.remove('orders', deleted!.internalId);
    await kit.send({ eventType: 'order.updated', entityId: order!.internalId });
    await kit.send({ eventType: 'order.deleted', entityId: deleted!.internalId });
    await kit.pass();
    const records = await kit.records();
    expect(records.map((r) => [r.kind, r.entityId])).toEqual([
      ['snapshot', order!.id],
      ['tombstone', `internal:${deleted!.internalId}`],
    ]);
    expect(records[1]!.payload).toMatchObject({ reason: 'deleted', internalId: deleted!.internalId });
  });

  it('tombstones a promotion the listing no longer has', async () => {
    await kit.send({ eventType: 'promotion.updated', entityId: 999_999, data: { version: 2 } });
    await kit.pass();
    const [record] = await kit.records();
    expect(record).toMatchObject({ kind: 'tombstone', entityKind: 'promotion', entityId: '999999', payload: { reason: 'not_found' } });
  });

  it('retries a failing fetch across passes, then parks it and moves on; parked retry resolves it', async () => {
    const product = kit.sim.store(storeA).products.values()[0]!;
    const category = kit.sim.store(storeA).categories.values()[0]!;
    kit.sim.setFaults({ errorRate: 1 });
    const failing = (await kit.send({ eventType: 'product.updated', entityId: product.id }))!;
    const first = await kit.pass(storeA, { maxAttempts: 3 });
    expect(first).toMatchObject({ status: 'idle', position: 0 });
    expect((await stateOf())?.lastError).toMatch(/EcwidUnavailableError/);
    expect((await kit.pass(storeA, { maxAttempts: 3 })).position).toBe(0);
    const third = await kit.pass(storeA, { maxAttempts: 3 });
    expect(third).toMatchObject({ status: 'progressed', parked: 1, position: failing });
    const [parked] = await kit.db.select().from(parkedEventsTable);
    expect(parked).toMatchObject({ storeId: storeA, position: failing, entityKind: 'product', entityId: String(product.id), attempts: 3, resolvedAt: null });
    expect(parked!.error).not.toMatch(/secret_/);
    expect(await kit.records()).toHaveLength(0);

    // The store is not stuck: later webhooks go through.
    kit.sim.setFaults({ errorRate: 0 });
    await kit.send({ eventType: 'category.updated', entityId: category.id });
    expect((await kit.pass()).appended).toBe(1);

    const results = await retryParked({ db: kit.db, clientFor: kit.clientFor, log: createSilentLogger() });
    expect(results).toEqual([{ id: parked!.id, storeId: storeA, position: failing, outcome: 'resolved' }]);
    const records = await kit.records();
    expect(records.find((r) => r.entityKind === 'product')).toMatchObject({ kind: 'snapshot', causedBy: [failing] });
    const [after] = await kit.db.select().from(parkedEventsTable);
    expect(after?.resolvedAt).toBeInstanceOf(Date);
    expect(await retryParked({ db: kit.db, clientFor: kit.clientFor, log: createSilentLogger() })).toEqual([]);
  });

  it('parked retry re-fetches the entity that failed, also when one webhook concerns several', async () => {
    // application.installed asks for the profile and the subscription; only /application fails.
    let failApplication = true;
    const flaky = createClientFactory({
      baseUrl: kit.server.url,
      maxAttempts: 1,
      sleep: () => Promise.resolve(),
      fetch: async (input, init) => {
        const url = input instanceof Request ? input.url : String(input);
        if (failApplication && new URL(url).pathname.endsWith('/application')) {
          return Response.json({ errorMessage: 'Internal error', errorCode: 'INTERNAL_ERROR' }, { status: 500 });
        }
        return fetch(input, init);
      },
    });
    const installed = (await kit.send({ eventType: 'application.installed', entityId: storeA }))!;
    const result = await kit.pass(storeA, { maxAttempts: 1, client: flaky(storeA, kit.sim.store(storeA).token) });
    expect(result).toMatchObject({ status: 'progressed', parked: 1, position: installed });
    const [parked] = await kit.db.select().from(parkedEventsTable);
    expect(parked).toMatchObject({ position: installed, entityKind: 'app_subscription' });
    expect((await kit.records()).map((r) => r.entityKind)).toEqual(['store', 'store_profile']);

    failApplication = false;
    const results = await retryParked({ db: kit.db, clientFor: flaky, log: createSilentLogger() });
    expect(results).toEqual([{ id: parked!.id, storeId: storeA, position: installed, outcome: 'resolved' }]);
    const retried = (await kit.records()).slice(2);
    expect(retried.map((r) => r.entityKind)).toContain('app_subscription');
    // The derived store record is not appended again (it could undo a later uninstall).
    expect(retried.map((r) => r.entityKind)).not.toContain('store');
    expect(retried.find((r) => r.entityKind === 'app_subscription')).toMatchObject({ kind: 'snapshot', causedBy: [installed] });
  });

  it('keeps a store waiting for its token, then catches up once it is added', async () => {
    const product = kit.sim.store(storeA).products.values()[0]!;
    await kit.db.delete((await import('@mirror/db')).storeTokensTable);
    await kit.send({ eventType: 'product.updated', entityId: product.id });
    expect((await kit.pass()).status).toBe('waiting_for_token');
    expect(await stateOf()).toMatchObject({ status: 'waiting_for_token', position: 0 });
    await addStoreToken(kit.db, storeA, kit.sim.store(storeA).token);
    expect((await kit.pass()).status).toBe('progressed');
    expect(await stateOf()).toMatchObject({ status: 'active', lastError: null });
    expect(await kit.records()).toHaveLength(1);
  });

  it('stops fetching after application.uninstalled until application.installed', async () => {
    const product = kit.sim.store(storeA).products.values()[0]!;
    await kit.send({ eventType: 'application.uninstalled', entityId: storeA });
    await kit.send({ eventType: 'product.updated', entityId: product.id });
    kit.sim.stats.reset();
    await kit.pass();
    const skipped = await kit.send({ eventType: 'product.updated', entityId: product.id });
    expect((await kit.pass()).position).toBe(skipped);
    expect(kit.sim.stats.requests()).toBe(0);
    expect(await stateOf()).toMatchObject({ status: 'uninstalled' });
    expect((await kit.records()).map((r) => [r.entityKind, (r.payload as { status?: string }).status])).toEqual([['store', 'uninstalled']]);

    await kit.send({ eventType: 'application.installed', entityId: storeA });
    await kit.send({ eventType: 'product.updated', entityId: product.id });
    await kit.pass();
    expect(await stateOf()).toMatchObject({ status: 'active' });
    expect((await kit.records()).map((r) => r.entityKind)).toEqual(['store', 'store', 'store_profile', 'app_subscription', 'product']);
  });

  it('never appends twice when two workers run the same store at once', async (ctx) => {
    const skip = concurrencySkipReason('two workers at once');
    if (skip) return ctx.skip(skip);
    kit.sim.setFaults({ latencyMs: 50 });
    const products = kit.sim.store(storeA).products.values().slice(0, 5);
    const positions: number[] = [];
    for (const p of products) positions.push((await kit.send({ eventType: 'product.updated', entityId: p.id }))!);
    const log = createSilentLogger();
    const worker = async () => {
      const results = [];
      for (let i = 0; i < 3; i++) {
        results.push(
          await enrichStore({ db: kit.db, log, attempts: new Map(), client: kit.clientFor(storeA, kit.sim.store(storeA).token) }, storeA),
        );
      }
      return results;
    };
    const [a, b] = await Promise.all([worker(), worker()]);
    const statuses = [...a, ...b].map((r) => r.status);
    expect(statuses.filter((s) => s === 'progressed')).toHaveLength(1);
    expect(statuses).toContain('conflict');
    const records = await kit.records();
    expect(records).toHaveLength(5);
    expect(records.flatMap((r) => r.causedBy).sort()).toEqual(positions.sort());
  });
});

describe('runEnrichment', () => {
  it('keeps a healthy store going while another store is blocked by 403', async () => {
    kit = await createKit({
      stores: [
        { storeId: storeA, token: 'secret_store_a_token', seed: 1, size: { orders: 20 } },
        { storeId: storeB, token: tokenB, seed: 2, size: { orders: 20 } },
      ],
    });
    // Store B's token in the mirror is not the one Ecwid (the simulator) accepts: 403.
    await addStoreToken(kit.db, storeB, 'secret_revoked_token');
    const productA = kit.sim.store(storeA).products.values()[0]!;
    const productB = kit.sim.store(storeB).products.values()[0]!;
    await kit.send({ eventType: 'product.updated', entityId: productB.id, storeId: storeB });
    await kit.send({ eventType: 'product.updated', entityId: productA.id });

    const controller = new AbortController();
    const passes: string[] = [];
    const running = runEnrichment({
      db: kit.db,
      log: createSilentLogger(),
      clientFor: kit.clientFor,
      signal: controller.signal,
      pollIntervalMs: 20,
      retryBaseMs: 60_000,
      onPass: (storeId, r) => passes.push(`${storeId}:${r.status}`),
    });
    await expect.poll(async () => (await kit.records(storeA)).length, { timeout: 5_000 }).toBe(1);
    await expect.poll(() => stateOf(storeB), { timeout: 5_000 }).toMatchObject({ status: 'blocked', position: 0 });
    const later = await kit.send({ eventType: 'product.updated', entityId: productA.id });
    await expect.poll(async () => (await stateOf(storeA))?.position, { timeout: 5_000 }).toBe(later);
    controller.abort();
    await running;

    const blocked = await stateOf(storeB);
    expect(blocked!.lastError).toMatch(/TOKEN|403/);
    expect(blocked!.lastError).not.toMatch(/secret_/);
    expect(blocked!.retryAt!.getTime()).toBeGreaterThan(Date.now() + 30_000);
    // Blocked until retry_at: one attempt, not one per poll.
    expect(passes.filter((p) => p === `${storeB}:blocked`)).toHaveLength(1);
    expect(await kit.records(storeB)).toHaveLength(0);
  });
});

describe('enrichment checkpoint', () => {
  it('does not answer the same webhooks again on the next pass', async () => {
    kit = await createKit();
    const product = kit.sim.store(storeA).products.values()[0]!;
    for (let i = 0; i < 3; i++) await kit.send({ eventType: 'product.updated', entityId: product.id });
    await kit.pass();
    await kit.pass();
    const rows = await kit.db.select().from(eventLogTable).where(and(eq(eventLogTable.storeId, storeA), eq(eventLogTable.kind, 'snapshot')));
    expect(rows).toHaveLength(1);
  });
});

describe('webhook to row', () => {
  it('turns webhooks into rows: an update into the current document, a delete into deleted_at', async () => {
    kit = await createKit();
    const store = kit.sim.store(storeA);
    const [product, gone] = store.products.values().slice(0, 2);
    store.update('products', product!.id, (doc) => {
      doc.sku = 'SKU-CHANGED';
    });
    store.remove('products', gone!.id);
    await kit.send({ eventType: 'product.updated', entityId: product!.id });
    await kit.send({ eventType: 'product.deleted', entityId: gone!.id });
    await kit.pass();
    await projectBatch(kit.db);
    const rows = await kit.db.select().from(productsTable).where(inArray(productsTable.productId, [product!.id, gone!.id]));
    const byId = new Map(rows.map((r) => [r.productId, r]));
    expect(byId.get(product!.id)).toMatchObject({ sku: 'SKU-CHANGED', deletedAt: null });
    expect(byId.get(gone!.id)?.deletedAt).toBeInstanceOf(Date);
  });
});
