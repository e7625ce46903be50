import { createSilentLogger } from '@mirror/core';
import { enrichmentAttemptsTable, enrichmentStateTable, eventLogTable, ordersTable, parkedEventsTable, productsTable } from '@mirror/db';
import { concurrencySkipReason } from '@mirror/db/testing';
import { and, eq, inArray } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectBatch } from '../projection/project-batch.ts';
import { readStoreToken, registerStoreToken, saveSealedToken } from '../stores/store-tokens.ts';
import { createClientFactory } from './create-client-factory.ts';
import { enrichStore } from './enrich-store.ts';
import { readStatus } from './read-status.ts';
import { retryParked } from './retry-parked.ts';
import { createKit, storeA, tokenA, type Kit } from '../../testing/enrichment-kit.ts';

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
    // Where its appends end: what the projection is told, so it wakes only if not yet past it.
    expect(result.appendedUpTo).toBe(record?.position);
  });

  it('fetches the current state whatever order the webhooks came in', async () => {
    const store = kit.sim.store(storeA);
    const order = store.orders.values()[0]!;
    store.update('orders', order.internalId, (doc) => {
      doc.paymentStatus = 'REFUNDED';
    });
    const updated = await kit.send({
      eventType: 'order.updated',
      entityId: order.internalId,
      data: { orderId: order.id },
      eventCreated: 1_800_000_100,
    });
    const created = await kit.send({
      eventType: 'order.created',
      entityId: order.internalId,
      data: { orderId: order.id },
      eventCreated: 1_800_000_000,
    });
    await kit.pass();
    const records = await kit.records();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ entityKind: 'order', entityId: order.id, causedBy: [updated, created] });
    expect((records[0]!.payload as { paymentStatus: string }).paymentStatus).toBe('REFUNDED');
  });

  it('answers a delete with a tombstone once Ecwid confirms it, and a late update of the deleted entity with a not_found tombstone', async () => {
    const store = kit.sim.store(storeA);
    const product = store.products.values()[3]!;
    store.remove('products', product.id);
    await kit.send({ eventType: 'product.deleted', entityId: product.id });
    kit.sim.stats.reset();
    await kit.pass();
    // A webhook is a hint: the product is asked for, and Ecwid's 404 confirms the delete.
    expect(kit.sim.stats.byPath()['GET /products/:productId']).toBe(1);
    await kit.send({ eventType: 'product.updated', entityId: product.id });
    await kit.pass();
    const records = await kit.records();
    expect(records.map((r) => [r.kind, r.entityId, (r.payload as { reason: string }).reason])).toEqual([
      ['tombstone', String(product.id), 'deleted'],
      ['tombstone', String(product.id), 'not_found'],
    ]);
  });

  it('keeps an entity Ecwid still serves when a delete webhook says otherwise, noting the claim', async () => {
    const store = kit.sim.store(storeA);
    const [product, order] = [store.products.values()[4]!, store.orders.values()[5]!];
    // A replayed (or forged) delete: both are alive in Ecwid.
    await kit.send({ eventType: 'product.deleted', entityId: product.id });
    await kit.send({ eventType: 'order.deleted', entityId: order.internalId, data: { orderId: order.id } });
    const notes: [string, string][] = [];
    await kit.pass(storeA, { onNote: (kind, note) => notes.push([kind, note]) });
    const records = await kit.records();
    expect(records.map((r) => [r.kind, r.entityKind, r.entityId, r.note])).toEqual([
      ['snapshot', 'product', String(product.id), 'unconfirmed_delete'],
      ['snapshot', 'order', order.id, 'unconfirmed_delete'],
    ]);
    expect(records[0]!.payload).toMatchObject({ id: product.id, updateTimestamp: product.updateTimestamp });
    expect(notes).toEqual([
      ['product', 'unconfirmed_delete'],
      ['order', 'unconfirmed_delete'],
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

  it("does not let a forged delete's tombstone take a live order's later webhooks", async () => {
    const store = kit.sim.store(storeA);
    const order = store.orders.values()[0]!;
    await kit.send({ eventType: 'order.updated', entityId: order.internalId, data: { orderId: order.id } });
    await kit.pass();
    // Forged: the real order's internal id with a public id that never existed. Ecwid's 404 for
    // that id makes a tombstone that names the internal id, and a deleted row that holds it.
    await kit.send({ eventType: 'order.deleted', entityId: order.internalId, data: { orderId: 'NOPE1' } });
    await kit.pass();
    await projectBatch(kit.db);
    // A later webhook of the real order, in the shape without data.orderId.
    store.update('orders', order.internalId, (doc) => {
      doc.paymentStatus = 'REFUNDED';
    });
    await kit.send({ eventType: 'order.updated', entityId: order.internalId });
    await kit.pass();
    const records = await kit.records();
    // (An order's delete ends its invoices too.)
    expect(records.map((r) => [r.kind, r.entityKind, r.entityId])).toEqual([
      ['snapshot', 'order', order.id],
      ['tombstone', 'order', 'NOPE1'],
      ['tombstone', 'invoice', 'NOPE1'],
      ['snapshot', 'order', order.id],
    ]);
    expect(records[3]!.payload).toMatchObject({ id: order.id, paymentStatus: 'REFUNDED' });
  });

  it('tombstones a promotion only when the complete listing no longer has it', async () => {
    await kit.send({ eventType: 'promotion.updated', entityId: 999_999, data: { version: 2 } });
    // A listing that holds fewer items than its total proves nothing about the others.
    const partial = kit.faultyClient(storeA, (url) =>
      url.pathname.endsWith('/promotions') ? Response.json({ total: 5, count: 0, offset: 0, limit: 100, items: [] }) : undefined,
    );
    expect(await kit.pass(storeA, { client: partial })).toMatchObject({ status: 'idle', position: 0 });
    expect(await kit.records()).toEqual([]);
    expect((await stateOf())?.lastError).toMatch(/partial listing/);

    await kit.pass();
    const [record] = await kit.records();
    expect(record).toMatchObject({ kind: 'tombstone', entityKind: 'promotion', entityId: '999999', payload: { reason: 'not_found' } });
  });

  it('reads an order or product a bulk search left out by id before calling it gone', async () => {
    const store = kit.sim.store(storeA);
    const order = store.orders.values()[0]!;
    const [product, removed] = store.products.values().slice(0, 2);
    store.remove('products', removed!.id);
    // The search answers without them (a lagging index): only a 404 on the id is a deletion.
    const client = kit.faultyClient(storeA, (url) =>
      (url.pathname.endsWith('/orders') && url.searchParams.has('ids')) ||
      (url.pathname.endsWith('/products') && url.searchParams.has('productId'))
        ? Response.json({ total: 0, count: 0, offset: 0, limit: 100, items: [] })
        : undefined,
    );
    await kit.send({ eventType: 'order.updated', entityId: order.internalId, data: { orderId: order.id } });
    await kit.send({ eventType: 'order.updated', entityId: order.internalId });
    await kit.send({ eventType: 'product.updated', entityId: product!.id });
    await kit.send({ eventType: 'product.updated', entityId: removed!.id });
    await kit.pass(storeA, { client });
    const records = await kit.records();
    expect(records.map((r) => [r.kind, r.entityKind, r.entityId])).toEqual([
      ['snapshot', 'order', order.id],
      ['snapshot', 'order', order.id],
      ['snapshot', 'product', String(product!.id)],
      ['tombstone', 'product', String(removed!.id)],
    ]);
    expect(records[3]!.payload).toEqual({ reason: 'not_found' });
  });

  it('keeps fetching when an uninstall is delivered after the reinstall that followed it', async () => {
    const product = kit.sim.store(storeA).products.values()[0]!;
    const t = Math.floor(Date.now() / 1000);
    await kit.send({ eventType: 'application.installed', entityId: storeA, eventCreated: t });
    await kit.pass();
    // Uninstalled a minute before the reinstall; Ecwid redelivers that webhook 15 minutes later.
    // The token works (the store is installed), so the uninstall is not believed.
    await kit.send({ eventType: 'application.uninstalled', entityId: storeA, eventCreated: t - 60 });
    await kit.pass();
    await kit.send({ eventType: 'product.updated', entityId: product.id, eventCreated: t + 900 });
    await kit.pass();
    expect(await stateOf()).toMatchObject({ status: 'active', lifecycleAt: new Date(t * 1000) });
    const records = await kit.records();
    expect(records.at(-1)).toMatchObject({ kind: 'snapshot', entityKind: 'product', entityId: String(product.id) });
    expect(records.filter((r) => r.entityKind === 'store').map((r) => r.payload)).toEqual([
      { status: 'active', at: new Date(t * 1000).toISOString() },
    ]);
    expect(records.filter((r) => r.note === 'unconfirmed_uninstall').map((r) => r.entityKind)).toEqual(['store_profile']);

    // A newer uninstall that Ecwid confirms (the token is refused) stops it, also within one batch:
    // what comes after it waits for a new token instead of being skipped.
    const store = kit.sim.store(storeA);
    store.uninstall();
    await kit.send({ eventType: 'application.uninstalled', entityId: storeA, eventCreated: t + 1000 });
    await kit.send({ eventType: 'application.installed', entityId: storeA, eventCreated: t - 30 });
    const held = await kit.send({ eventType: 'product.updated', entityId: product.id, eventCreated: t + 1100 });
    await kit.pass();
    expect((await kit.pass()).position).toBe(held! - 1);
    kit.sim.stats.reset();
    expect((await kit.pass()).status).toBe('uninstalled');
    expect(kit.sim.stats.requests()).toBe(0);
    expect(await stateOf()).toMatchObject({ status: 'uninstalled', lifecycleAt: new Date((t + 1000) * 1000), position: held! - 1 });
    expect((await kit.records()).filter((r) => r.entityKind === 'store').map((r) => (r.payload as { status: string }).status)).toEqual([
      'active',
      'uninstalled',
      'active',
    ]);
  });

  it('treats a feature switched off (403 *_FEATURE_NOT_AVAILABLE) as that entity failing, not the store', async () => {
    const store = kit.sim.store(storeA);
    const review = store.reviews.values()[0]!;
    const product = store.products.values()[0]!;
    const client = kit.faultyClient(storeA, (url) =>
      url.pathname.includes('/reviews')
        ? Response.json({ errorMessage: 'Reviews are not available', errorCode: 'PRODUCT_REVIEWS_FEATURE_NOT_AVAILABLE' }, { status: 403 })
        : undefined,
    );
    const reviewed = await kit.send({ eventType: 'review.updated', entityId: review.id });
    const changed = await kit.send({ eventType: 'product.updated', entityId: product.id });
    expect(await kit.pass(storeA, { client, maxAttempts: 2 })).toMatchObject({ status: 'idle', position: 0 });
    expect(await kit.pass(storeA, { client, maxAttempts: 2 })).toMatchObject({ status: 'progressed', parked: 1, position: changed });
    expect(await stateOf()).toMatchObject({ status: 'active' });
    expect((await kit.records()).map((r) => r.entityKind)).toEqual(['product']);
    const [parked] = await kit.db.select().from(parkedEventsTable);
    expect(parked).toMatchObject({ position: reviewed, entityKind: 'review', attempts: 2 });
    expect(parked!.error).toMatch(/FEATURE/);
  });

  it('pauses the store through an Ecwid outage without parking anything, then catches up', async () => {
    const product = kit.sim.store(storeA).products.values()[0]!;
    kit.sim.setFaults({ errorRate: 1 });
    const position = await kit.send({ eventType: 'product.updated', entityId: product.id });
    for (let i = 0; i < 8; i++) expect(await kit.pass(storeA, { maxAttempts: 3 })).toMatchObject({ status: 'paused', position: 0 });
    expect(await kit.db.select().from(parkedEventsTable)).toEqual([]);
    expect(await stateOf()).toMatchObject({ status: 'paused', position: 0, attempts: 8 });
    const [shown] = (await readStatus(kit.db)).stores;
    expect(shown).toMatchObject({ storeId: storeA, status: 'paused', lagRecords: 1 });
    expect(shown!.lastError).toMatch(/EcwidUnavailableError/);
    expect(shown!.retryAt).toBeInstanceOf(Date);

    kit.sim.setFaults({ errorRate: 0 });
    expect(await kit.pass(storeA, { maxAttempts: 3 })).toMatchObject({ status: 'progressed', position });
    expect(await stateOf()).toMatchObject({ status: 'active', attempts: 0, lastError: null, retryAt: null });
    expect((await kit.records()).map((r) => r.entityKind)).toEqual(['product']);
  });

  it("frees a throttled store's slot: a 429 asking for a long wait pauses the store that long instead of holding the pass", async () => {
    const product = kit.sim.store(storeA).products.values()[0]!;
    const client = kit.faultyClient(
      storeA,
      () =>
        Response.json({ errorMessage: 'Too many requests', errorCode: 'RATE_LIMITED' }, { status: 429, headers: { 'retry-after': '120' } }),
      { maxRateLimitWaitMs: 10_000 },
    );
    await kit.send({ eventType: 'product.updated', entityId: product.id });
    const started = Date.now();
    const result = await kit.pass(storeA, { client, maxAttempts: 3 });
    // The limiter's pause is real time here: waiting it out would take two minutes.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result).toMatchObject({ status: 'paused', position: 0 });
    expect(result.retryAt!.getTime()).toBeGreaterThanOrEqual(started + 120_000);
    const state = await stateOf();
    expect(state).toMatchObject({ status: 'paused', position: 0 });
    expect(state!.lastError).toMatch(/rate_limited/);
    expect(await kit.db.select().from(parkedEventsTable)).toEqual([]);
  });

  it("answers a 404 on an order's invoices with an empty list, not a tombstone", async () => {
    await kit.send({ eventType: 'invoice.created', entityId: 777, data: { orderId: 'NO-SUCH-ORDER' } });
    await kit.pass();
    const [record] = await kit.records();
    expect(record).toMatchObject({ kind: 'snapshot', entityKind: 'invoice', entityId: 'NO-SUCH-ORDER', payload: { invoices: [] } });
  });

  it('names the internal id in an order tombstone also when the webhook has the public id', async () => {
    const order = kit.sim.store(storeA).orders.values()[0]!;
    kit.sim.store(storeA).remove('orders', order.internalId);
    await kit.send({ eventType: 'order.deleted', entityId: order.internalId, data: { orderId: order.id } });
    await kit.pass();
    const [record] = await kit.records();
    expect(record).toMatchObject({
      kind: 'tombstone',
      entityId: order.id,
      payload: { reason: 'deleted', eventType: 'order.deleted', internalId: order.internalId },
    });
  });

  it('reads each id on its own when one id or one document fails the bulk search, so only that entity fails', async () => {
    const store = kit.sim.store(storeA);
    const [good, bad, other] = store.products.values();
    const orders = store.orders.values();
    const [order, brokenOrder] = [orders[0]!, orders[1]!];
    // Ecwid refuses a search holding the bad product's id, and one order's document does not
    // parse (as a search holding it, and its own read, then answer).
    const client = kit.faultyClient(storeA, async (url) => {
      if (url.pathname.endsWith('/products') && url.searchParams.get('productId')?.split(',').includes(String(bad!.id)))
        return Response.json({ errorMessage: `Wrong parameter productId: '${bad!.id}'`, errorCode: 'WRONG_PARAMETER' }, { status: 400 });
      if (url.pathname.endsWith(`/products/${bad!.id}`))
        return Response.json({ errorMessage: 'Wrong parameter', errorCode: 'WRONG_PARAMETER' }, { status: 400 });
      const search = url.pathname.endsWith('/orders') && url.searchParams.get('ids')?.split(',').includes(brokenOrder.id);
      if (!search && !url.pathname.endsWith(`/orders/${brokenOrder.id}`)) return undefined;
      type Order = { id: string; total: unknown };
      const answer = (await (await fetch(url, { headers: { Authorization: `Bearer ${tokenA}` } })).json()) as Order & { items: Order[] };
      for (const o of search ? answer.items : [answer]) if (o.id === brokenOrder.id) o.total = 'not a number';
      return Response.json(answer);
    });
    for (const p of [good!, bad!, other!]) await kit.send({ eventType: 'product.updated', entityId: p.id });
    for (const o of [order, brokenOrder]) await kit.send({ eventType: 'order.updated', entityId: o.internalId, data: { orderId: o.id } });
    // One attempt each: what fails is parked at once, and the pass commits the rest.
    await kit.pass(storeA, { client, maxAttempts: 1 });
    const records = (await kit.records()).map((r) => [r.kind, r.entityKind, r.entityId]);
    expect(records).toEqual([
      ['snapshot', 'product', String(good!.id)],
      ['snapshot', 'product', String(other!.id)],
      ['snapshot', 'order', order.id],
    ]);
    // Only the two that fail on their own are parked, not those that came in the same search.
    const parked = await kit.db.select().from(parkedEventsTable);
    expect(parked.map((p) => `${p.entityKind}:${p.entityId}`).sort()).toEqual([`order:${brokenOrder.id}`, `product:${bad!.id}`].sort());
  });

  it('retries a fetch that fails on its own across passes, then parks it and moves on; parked retry resolves it', async () => {
    const product = kit.sim.store(storeA).products.values()[0]!;
    const category = kit.sim.store(storeA).categories.values()[0]!;
    // A 400 concerns this request only (an outage pauses the store instead: see below).
    const client = kit.faultyClient(storeA, (url) =>
      url.pathname.includes('/products')
        ? Response.json({ errorMessage: 'Bad request', errorCode: 'BAD_REQUEST' }, { status: 400 })
        : undefined,
    );
    const failing = (await kit.send({ eventType: 'product.updated', entityId: product.id }))!;
    const first = await kit.pass(storeA, { maxAttempts: 3, client });
    expect(first).toMatchObject({ status: 'idle', position: 0 });
    expect((await stateOf())?.lastError).toMatch(/EcwidHttpError/);
    expect((await kit.pass(storeA, { maxAttempts: 3, client })).position).toBe(0);
    const third = await kit.pass(storeA, { maxAttempts: 3, client });
    expect(third).toMatchObject({ status: 'progressed', parked: 1, position: failing });
    const [parked] = await kit.db.select().from(parkedEventsTable);
    expect(parked).toMatchObject({
      storeId: storeA,
      position: failing,
      entityKind: 'product',
      entityId: String(product.id),
      attempts: 3,
      resolvedAt: null,
    });
    expect(parked!.error).not.toMatch(/secret_/);
    expect(await kit.records()).toHaveLength(0);

    // The store is not stuck: later webhooks go through.
    await kit.send({ eventType: 'category.updated', entityId: category.id });
    expect((await kit.pass()).appended).toBe(1);

    const results = await retryParked({ db: kit.db, clientFor: kit.clientFor, box: kit.box, log: createSilentLogger() });
    expect(results).toEqual([{ id: parked!.id, storeId: storeA, position: failing, outcome: 'resolved' }]);
    const records = await kit.records();
    expect(records.find((r) => r.entityKind === 'product')).toMatchObject({ kind: 'snapshot', causedBy: [failing] });
    const [after] = await kit.db.select().from(parkedEventsTable);
    expect(after?.resolvedAt).toBeInstanceOf(Date);
    expect(await retryParked({ db: kit.db, clientFor: kit.clientFor, box: kit.box, log: createSilentLogger() })).toEqual([]);
  });

  it('counts failed fetches in the database: a restarted worker goes on counting, and a fetch that succeeds clears the count', async () => {
    const product = kit.sim.store(storeA).products.values()[0]!;
    const order = kit.sim.store(storeA).orders.values()[0]!;
    // 400s concern their request only: products always fail, orders until they are let through.
    let failOrders = true;
    const client = kit.faultyClient(storeA, (url) =>
      url.pathname.includes('/products') || (failOrders && url.pathname.includes('/orders'))
        ? Response.json({ errorMessage: 'Bad request', errorCode: 'BAD_REQUEST' }, { status: 400 })
        : undefined,
    );
    const failing = (await kit.send({ eventType: 'product.updated', entityId: product.id }))!;
    await kit.send({ eventType: 'order.updated', entityId: order.internalId, data: { orderId: order.id } });
    expect((await kit.pass(storeA, { maxAttempts: 3, client })).position).toBe(0);
    expect((await kit.pass(storeA, { maxAttempts: 3, client })).position).toBe(0);
    const counted = await kit.db.select().from(enrichmentAttemptsTable);
    expect(counted.map((row) => [row.storeId, row.attempts])).toEqual([
      [storeA, 2],
      [storeA, 2],
    ]);
    for (const row of counted) expect(row.lastError).toMatch(/EcwidHttpError/);
    expect(JSON.stringify(counted)).not.toMatch(/secret_/);

    // A new worker (nothing carried over in memory): the product's third failure is its third
    // attempt, so it parks; the order now fetches.
    failOrders = false;
    const third = await enrichStore({ db: kit.db, log: createSilentLogger(), client, maxAttempts: 3, retryBaseMs: 0 }, storeA);
    // Appended: the order, and the store profile its store's first order brings along (0009).
    expect(third).toMatchObject({ status: 'progressed', parked: 1, appended: 2 });
    expect(third.appendedUpTo).toBe((await kit.records()).at(-1)?.position);
    const [parked] = await kit.db.select().from(parkedEventsTable);
    expect(parked).toMatchObject({ position: failing, entityId: String(product.id), attempts: 3 });
    // Parked or fetched: neither count is kept.
    expect(await kit.db.select().from(enrichmentAttemptsTable)).toEqual([]);
  });

  it('parked retry re-fetches the entity that failed, also when one webhook concerns several', async () => {
    // application.installed asks for the profile and the subscription; only /application fails
    // (a 400: an entity's own failure, which parks; a 5xx would pause the whole store).
    let failApplication = true;
    const flaky = createClientFactory({
      baseUrl: kit.server.url,
      maxAttempts: 1,
      sleep: () => Promise.resolve(),
      fetch: async (input, init) => {
        const url = input instanceof Request ? input.url : String(input);
        if (failApplication && new URL(url).pathname.endsWith('/application')) {
          return Response.json({ errorMessage: 'Bad request', errorCode: 'BAD_REQUEST' }, { status: 400 });
        }
        return fetch(input, init);
      },
    });
    const installed = (await kit.send({ eventType: 'application.installed', entityId: storeA }))!;
    const result = await kit.pass(storeA, { maxAttempts: 1, client: flaky(storeA, kit.sim.store(storeA).token!) });
    expect(result).toMatchObject({ status: 'progressed', parked: 1, position: installed });
    const [parked] = await kit.db.select().from(parkedEventsTable);
    expect(parked).toMatchObject({ position: installed, entityKind: 'app_subscription' });
    expect((await kit.records()).map((r) => r.entityKind)).toEqual(['store', 'store_profile']);

    failApplication = false;
    const results = await retryParked({ db: kit.db, clientFor: flaky, box: kit.box, log: createSilentLogger() });
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
    await saveSealedToken(kit.db, kit.box, { storeId: storeA, token: kit.sim.store(storeA).token!, source: 'cli' });
    expect((await kit.pass()).status).toBe('progressed');
    expect(await stateOf()).toMatchObject({ status: 'active', lastError: null });
    expect(await kit.records()).toHaveLength(1);
  });

  it('holds the webhooks after an application.uninstalled Ecwid confirms, and fetches them once a new token comes', async () => {
    const store = kit.sim.store(storeA);
    const product = store.products.values()[0]!;
    store.uninstall();
    await kit.send({ eventType: 'application.uninstalled', entityId: storeA });
    const first = await kit.send({ eventType: 'product.updated', entityId: product.id });
    // The first pass asks Ecwid about the uninstall (the token is refused) and stops there.
    await kit.pass();
    kit.sim.stats.reset();
    expect((await kit.pass()).status).toBe('uninstalled');
    const second = await kit.send({ eventType: 'product.updated', entityId: product.id });
    expect((await kit.pass()).status).toBe('uninstalled');
    expect(kit.sim.stats.requests()).toBe(0);
    expect(await stateOf()).toMatchObject({ status: 'uninstalled', position: first! - 1 });
    // The refused token is destroyed; the subscription ends with Ecwid's refusal.
    expect(await readStoreToken(kit.db, kit.box, storeA)).toBeUndefined();
    expect((await kit.records()).map((r) => [r.kind, r.entityKind])).toEqual([
      ['snapshot', 'store'],
      ['tombstone', 'app_subscription'],
    ]);

    // Reinstalled with a new token: the webhooks logged meanwhile are fetched, none skipped.
    store.install('secret_reinstalled_token');
    await registerStoreToken(kit.db, kit.box, { storeId: storeA, token: 'secret_reinstalled_token', source: 'oauth' });
    expect((await kit.pass()).status).toBe('progressed');
    expect(await stateOf()).toMatchObject({ status: 'active', position: second });
    const records = await kit.records();
    expect(records.map((r) => [r.entityKind, (r.payload as { status?: string }).status ?? null])).toEqual([
      ['store', 'uninstalled'],
      ['app_subscription', null],
      ['store', 'active'],
      ['product', null],
    ]);
    expect(records.at(-1)?.causedBy).toEqual([first, second]);
  });

  it('lets an application.installed newer than the uninstall release the webhooks held before it', async () => {
    const store = kit.sim.store(storeA);
    const product = store.products.values()[0]!;
    const t = Math.floor(Date.now() / 1000);
    store.uninstall();
    await kit.send({ eventType: 'application.uninstalled', entityId: storeA, eventCreated: t });
    const held = await kit.send({ eventType: 'product.updated', entityId: product.id, eventCreated: t + 1 });
    await kit.pass();
    expect((await kit.pass()).status).toBe('uninstalled');
    await kit.send({ eventType: 'application.installed', entityId: storeA, eventCreated: t + 2 });
    // Installed again, but the mirror has no token yet: nothing confirms the install, so the store
    // stays uninstalled and its webhooks wait for a token, none skipped.
    expect((await kit.pass()).status).toBe('uninstalled');
    expect(await stateOf()).toMatchObject({
      status: 'uninstalled',
      position: held! - 1,
      lastError: 'application.installed not confirmed: no access token in store_tokens',
    });
    store.install('secret_token_after_install');
    await saveSealedToken(kit.db, kit.box, { storeId: storeA, token: 'secret_token_after_install', source: 'cli' });
    expect((await kit.pass()).status).toBe('progressed');
    const fetched = (await kit.records()).find((r) => r.entityKind === 'product');
    expect(fetched?.causedBy).toEqual([held]);
    expect(await stateOf()).toMatchObject({ status: 'active', lifecycleAt: new Date((t + 2) * 1000) });
  });

  it('does not believe an application.installed that Ecwid refuses the token of: the store stays uninstalled, nothing skipped', async () => {
    const store = kit.sim.store(storeA);
    const product = store.products.values()[0]!;
    const t = Math.floor(Date.now() / 1000);
    const refused = store.token!;
    store.uninstall();
    await kit.send({ eventType: 'application.uninstalled', entityId: storeA, eventCreated: t });
    const held = await kit.send({ eventType: 'product.updated', entityId: product.id, eventCreated: t + 1 });
    await kit.pass();
    expect(await stateOf()).toMatchObject({ status: 'uninstalled', position: held! - 1 });
    // A token Ecwid no longer honours is in store_tokens (saved by hand), and an install newer
    // than the uninstall arrives that Ecwid never sent (a replayed signature, decision 0004).
    await saveSealedToken(kit.db, kit.box, { storeId: storeA, token: refused, source: 'cli' });
    await kit.send({ eventType: 'application.installed', entityId: storeA, eventCreated: t + 2 });
    const before = (await kit.records()).length;
    expect((await kit.pass()).status).toBe('uninstalled');
    const state = await stateOf();
    expect(state).toMatchObject({ status: 'uninstalled', position: held! - 1 });
    expect(state?.lastError).toMatch(/^application\.installed not confirmed: /);
    expect(await kit.records()).toHaveLength(before);

    // The app really is installed again, with a token Ecwid honours: the held webhook is fetched.
    store.install('secret_token_really_installed');
    await saveSealedToken(kit.db, kit.box, { storeId: storeA, token: 'secret_token_really_installed', source: 'cli' });
    expect((await kit.pass()).status).toBe('progressed');
    expect((await kit.records()).find((r) => r.entityKind === 'product')?.causedBy).toEqual([held]);
    expect(await stateOf()).toMatchObject({ status: 'active', lastError: null, lifecycleAt: new Date((t + 2) * 1000) });
  });

  it('keeps fetching after an application.uninstalled while Ecwid still honours the token, noting the claim', async () => {
    const product = kit.sim.store(storeA).products.values()[0]!;
    const uninstall = await kit.send({ eventType: 'application.uninstalled', entityId: storeA });
    await kit.send({ eventType: 'product.updated', entityId: product.id });
    await kit.pass();
    await kit.pass();
    expect(await stateOf()).toMatchObject({ status: 'active' });
    const records = await kit.records();
    expect(records.map((r) => [r.entityKind, r.note, r.causedBy])).toEqual([
      ['store_profile', 'unconfirmed_uninstall', [uninstall]],
      ['product', null, [uninstall! + 1]],
    ]);
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
        results.push(await enrichStore({ db: kit.db, log, client: kit.clientFor(storeA, kit.sim.store(storeA).token!) }, storeA));
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

describe('pipelined passes (decision 0015)', () => {
  beforeEach(async () => {
    kit = await createKit();
  });

  it('lets the next pass fetch while the one before commits, and commits after it, in log order', async () => {
    const [p1, p2] = kit.sim.store(storeA).products.values();
    const first = (await kit.send({ eventType: 'product.updated', entityId: p1!.id }))!;
    const second = (await kit.send({ eventType: 'product.updated', entityId: p2!.id }))!;
    let releasePrevious: () => void = () => {};
    const previous = new Promise<void>((resolve) => (releasePrevious = resolve));
    let fetched = false;
    const follower = kit.pass(storeA, { follow: { after: first, previous }, onFetchDone: () => (fetched = true) });
    await expect.poll(() => fetched, { timeout: 5_000 }).toBe(true);
    // Fetched, but it waits: nothing is appended before the pass ahead of it commits.
    expect(await kit.records()).toEqual([]);
    expect(await kit.pass(storeA, { batchSize: 1 })).toMatchObject({ status: 'progressed', position: first });
    releasePrevious();
    expect(await follower).toMatchObject({ status: 'progressed', position: second, appended: 1 });
    const records = await kit.records();
    expect(records.map((r) => [r.entityId, r.causedBy])).toEqual([
      [String(p1!.id), [first]],
      [String(p2!.id), [second]],
    ]);
    expect(await stateOf()).toMatchObject({ position: second, status: 'active' });
  });

  it('gives up when the pass ahead of it did not reach the end of its read, and a normal pass does it all', async () => {
    const [p1, p2] = kit.sim.store(storeA).products.values();
    const first = (await kit.send({ eventType: 'product.updated', entityId: p1!.id }))!;
    const second = (await kit.send({ eventType: 'product.updated', entityId: p2!.id }))!;
    // The pass ahead stopped before `first` (here: it never ran), so the checkpoint is still 0.
    const result = await kit.pass(storeA, { follow: { after: first, previous: Promise.resolve() } });
    expect(result).toMatchObject({ status: 'superseded', appended: 0 });
    expect(await kit.records()).toEqual([]);
    expect(await stateOf()).toMatchObject({ position: 0 });
    expect(await kit.pass()).toMatchObject({ status: 'progressed', position: second, appended: 2 });
  });

  it('fetches while the pass ahead still fetches, but an entity that pass fetches only once its fetches returned', async () => {
    const [p1, p2] = kit.sim.store(storeA).products.values();
    const first = (await kit.send({ eventType: 'product.updated', entityId: p1!.id }))!;
    await kit.send({ eventType: 'product.updated', entityId: p2!.id });
    const ahead = (id: number) => {
      let returned: () => void = () => {};
      const done = new Promise<void>((resolve) => (returned = resolve));
      return { fetching: { keys: new Set([`product\u0000${id}`]), done }, returned };
    };

    // The pass ahead fetches another product: this one's fetch goes out at once.
    const other = ahead(p1!.id);
    let fetched = false;
    kit.sim.stats.reset();
    const follower = kit.pass(storeA, {
      follow: { after: first, previous: kit.pass(storeA, { batchSize: 1 }), fetching: other.fetching },
      onFetchDone: () => (fetched = true),
    });
    await expect.poll(() => fetched, { timeout: 5_000 }).toBe(true);
    other.returned();
    expect(await follower).toMatchObject({ status: 'progressed', appended: 1 });

    // The pass ahead fetches the same product: this one's fetch waits for it.
    const p3 = kit.sim.store(storeA).products.values()[2]!;
    const third = (await kit.send({ eventType: 'product.updated', entityId: p3.id }))!;
    await kit.send({ eventType: 'product.updated', entityId: p3.id });
    const same = ahead(p3.id);
    kit.sim.stats.reset();
    const waiting = kit.pass(storeA, {
      follow: { after: third, previous: kit.pass(storeA, { batchSize: 1 }), fetching: same.fetching },
    });
    // The pass ahead has committed (one request); this one has sent nothing yet.
    await expect.poll(async () => (await stateOf())?.position, { timeout: 5_000 }).toBe(third);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(kit.sim.stats.requests()).toBe(1);
    same.returned();
    expect(await waiting).toMatchObject({ status: 'progressed', appended: 1 });
    expect(kit.sim.stats.requests()).toBe(2);
  });

  it('takes an order known only by its internal id for any order the pass ahead fetches', async () => {
    const [first, second] = kit.sim.store(storeA).orders.values();
    const product = kit.sim.store(storeA).products.values()[0]!;
    const ahead = (await kit.send({ eventType: 'product.updated', entityId: product.id }))!;
    // No data.orderId, and the mirror has no such order yet: its key is the internal id.
    await kit.send({ eventType: 'order.updated', entityId: second!.internalId });
    let returned: () => void = () => {};
    const done = new Promise<void>((resolve) => (returned = resolve));
    kit.sim.stats.reset();
    const waiting = kit.pass(storeA, {
      follow: {
        after: ahead,
        previous: kit.pass(storeA, { batchSize: 1 }),
        // The pass ahead fetches another order, by its public id.
        fetching: { keys: new Set([`order\u0000${first!.id}`]), done },
      },
    });
    await expect.poll(async () => (await stateOf())?.position, { timeout: 5_000 }).toBe(ahead);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(kit.sim.stats.requests()).toBe(1);
    returned();
    expect(await waiting).toMatchObject({ status: 'progressed', appended: 1 });
    expect((await kit.records()).at(-1)).toMatchObject({ entityKind: 'order', entityId: second!.id });
  });

  /**
   * Runs the loop (polling every 20 ms) with a 1 s Ecwid latency while one `product.updated` per
   * product is sent, 150 ms apart; resolves once every one of them is answered, with the
   * positions sent and the records as `[entityId, causedBy]`, in log order.
   */
  async function burst(products: readonly { id: number }[]) {
    kit.sim.setFaults({ latencyMs: 1_000 });
    kit.sim.stats.reset();
    const loop = kit.loop();
    try {
      const sent: number[] = [];
      for (const p of products) {
        sent.push((await kit.send({ eventType: 'product.updated', entityId: p.id }))!);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      await expect.poll(async () => (await stateOf())?.position, { timeout: 10_000 }).toBe(sent.at(-1));
      const records = (await kit.records()).map((r) => [r.entityId, r.causedBy]);
      return { sent, records };
    } finally {
      await loop.stop();
    }
  }

  it("fetches a burst of a store's webhooks at once: a third pass follows the second while the first still fetches", async () => {
    const [p1, p2, p3] = kit.sim.store(storeA).products.values();
    const { sent, records } = await burst([p1!, p2!, p3!]);
    // All three requests reached Ecwid within 700 ms, while the first was still unanswered (1 s):
    // with one follower at most, the third is sent only once the first has returned.
    expect(kit.sim.stats.maxInAnyWindow(tokenA, 700)).toBe(3);
    // Committed in log order, each answering its own webhook.
    expect(records).toEqual([
      [String(p1!.id), [sent[0]]],
      [String(p2!.id), [sent[1]]],
      [String(p3!.id), [sent[2]]],
    ]);
  });

  it('a pass two behind fetches an entity the first pass fetches only once that fetch returned', async () => {
    const [p1, p2] = kit.sim.store(storeA).products.values();
    // The third webhook is for the first's product; the second pass, between them, fetches another.
    const { sent, records } = await burst([p1!, p2!, p1!]);
    expect(kit.sim.stats.maxInAnyWindow(tokenA, 700)).toBe(2);
    expect(kit.sim.stats.requests(tokenA)).toBe(3);
    expect(records).toEqual([
      [String(p1!.id), [sent[0]]],
      [String(p2!.id), [sent[1]]],
      [String(p1!.id), [sent[2]]],
    ]);
  });

  it('never follows a store that waits to retry something', async () => {
    const product = kit.sim.store(storeA).products.values()[0]!;
    const first = (await kit.send({ eventType: 'product.updated', entityId: product.id }))!;
    await kit.send({ eventType: 'product.updated', entityId: product.id });
    await kit.db.insert(enrichmentStateTable).values({ storeId: storeA, lastError: 'earlier failure' });
    kit.sim.stats.reset();
    const result = await kit.pass(storeA, { follow: { after: first, previous: Promise.resolve() } });
    expect(result.status).toBe('superseded');
    expect(kit.sim.stats.requests()).toBe(0);
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
    await saveSealedToken(kit.db, kit.box, { storeId: storeB, token: 'secret_revoked_token', source: 'cli' });
    const productA = kit.sim.store(storeA).products.values()[0]!;
    const productB = kit.sim.store(storeB).products.values()[0]!;
    await kit.send({ eventType: 'product.updated', entityId: productB.id, storeId: storeB });
    await kit.send({ eventType: 'product.updated', entityId: productA.id });

    const passes: string[] = [];
    const loop = kit.loop({ retryBaseMs: 60_000, onPass: (storeId, r) => passes.push(`${storeId}:${r.status}`) });
    await expect.poll(async () => (await kit.records(storeA)).length, { timeout: 5_000 }).toBe(1);
    await expect.poll(() => stateOf(storeB), { timeout: 5_000 }).toMatchObject({ status: 'blocked', position: 0 });
    const later = await kit.send({ eventType: 'product.updated', entityId: productA.id });
    await expect.poll(async () => (await stateOf(storeA))?.position, { timeout: 5_000 }).toBe(later);
    await loop.stop();

    const blocked = await stateOf(storeB);
    expect(blocked!.lastError).toMatch(/TOKEN|403/);
    expect(blocked!.lastError).not.toMatch(/secret_/);
    expect(blocked!.retryAt!.getTime()).toBeGreaterThan(Date.now() + 30_000);
    // Blocked until retry_at: one attempt, not one per poll.
    expect(passes.filter((p) => p === `${storeB}:blocked`)).toHaveLength(1);
    expect(await kit.records(storeB)).toHaveLength(0);
  });
});

describe('runEnrichment with an outage at one store', () => {
  it('lets a healthy store progress at concurrency 1 while another store answers 5xx', async () => {
    kit = await createKit({
      stores: [
        { storeId: storeA, token: 'secret_store_a_token', seed: 1, size: { orders: 20 } },
        { storeId: storeB, token: tokenB, seed: 2, size: { orders: 20 } },
      ],
    });
    // Store A (scanned first) answers slow 503s; the simulator's faults would hit both stores.
    const down = kit.faultyClient(storeA, async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return Response.json({ errorMessage: 'Service unavailable' }, { status: 503 });
    });
    const clientFor = (storeId: number, token: string) => (storeId === storeA ? down : kit.clientFor(storeId, token));
    const productA = kit.sim.store(storeA).products.values()[0]!;
    const productB = kit.sim.store(storeB).products.values()[0]!;
    await kit.send({ eventType: 'product.updated', entityId: productA.id });
    await kit.send({ eventType: 'product.updated', entityId: productB.id, storeId: storeB });

    const passes: string[] = [];
    const loop = kit.loop({
      clientFor,
      concurrency: 1,
      maxAttempts: 2,
      retryBaseMs: 60_000,
      onPass: (storeId, r) => passes.push(`${storeId}:${r.status}`),
    });
    await expect.poll(async () => (await kit.records(storeB)).length, { timeout: 5_000 }).toBe(1);
    const later = await kit.send({ eventType: 'product.updated', entityId: productB.id, storeId: storeB });
    await expect.poll(async () => (await stateOf(storeB))?.position, { timeout: 5_000 }).toBe(later);
    await loop.stop();

    // The paused store gave its slot back and waits for retry_at: one pass, nothing parked.
    expect(passes.filter((p) => p.startsWith(`${storeA}:`))).toEqual([`${storeA}:paused`]);
    expect(await stateOf(storeA)).toMatchObject({ status: 'paused', position: 0 });
    expect(await kit.db.select().from(parkedEventsTable)).toEqual([]);
  });
});

describe('enrichment checkpoint', () => {
  it('does not answer the same webhooks again on the next pass', async () => {
    kit = await createKit();
    const product = kit.sim.store(storeA).products.values()[0]!;
    for (let i = 0; i < 3; i++) await kit.send({ eventType: 'product.updated', entityId: product.id });
    await kit.pass();
    await kit.pass();
    const rows = await kit.db
      .select()
      .from(eventLogTable)
      .where(and(eq(eventLogTable.storeId, storeA), eq(eventLogTable.kind, 'snapshot')));
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
    const rows = await kit.db
      .select()
      .from(productsTable)
      .where(inArray(productsTable.productId, [product!.id, gone!.id]));
    const byId = new Map(rows.map((r) => [r.productId, r]));
    expect(byId.get(product!.id)).toMatchObject({ sku: 'SKU-CHANGED', deletedAt: null });
    expect(byId.get(gone!.id)?.deletedAt).toBeInstanceOf(Date);
  });

  it("brings the store profile with a store's first orders, so they have its currency and time zone", async () => {
    kit = await createKit({ profileWithOrders: true });
    const store = kit.sim.store(storeA);
    const [first, second] = store.orders.values();
    await kit.send({ eventType: 'order.updated', entityId: first!.internalId, data: { orderId: first!.id } });
    await kit.pass();
    await kit.send({ eventType: 'order.updated', entityId: second!.internalId, data: { orderId: second!.id } });
    await kit.pass();
    await projectBatch(kit.db);
    // Once: the second pass finds the profile in the log.
    const snapshots = (await kit.records()).filter((r) => r.kind === 'snapshot').map((r) => r.entityKind);
    expect(snapshots).toEqual(['store_profile', 'order', 'order']);
    const rows = await kit.db.select({ currency: ordersTable.currency, timezone: ordersTable.timezone }).from(ordersTable);
    const { currency, timezone } = store.profile.formatsAndUnits;
    expect(rows).toEqual([
      { currency, timezone },
      { currency, timezone },
    ]);
  });
});
