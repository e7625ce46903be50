import { randomBytes } from 'node:crypto';
import {
  categoriesTable,
  enrichmentStateTable,
  eventLogTable,
  execRows,
  promotionsTable,
  reconcileRunsTable,
  storeTokensTable,
  type Db,
} from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { createSecretBox, createSilentLogger } from '@mirror/core';
import { createEcwidClient, createRateLimiter, createRateLimiterRegistry } from '@mirror/ecwid';
import { createSimulator, type SimServer, type Simulator } from '@mirror/ecwid-sim';
import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backfill } from '../backfill/backfill.ts';
import { appendRecords } from '../enrichment/append-records.ts';
import { createClientFactory } from '../enrichment/create-client-factory.ts';
import { projectBatch } from '../projection/project-batch.ts';
import { reconcile, type KindReport } from './reconcile.ts';
import { runReconcileSchedule, type ReconcileScheduleOptions } from './run-reconcile-schedule.ts';

const storeId = 1007;
const token = 'secret_reconcile_token';

let database: TestDatabase;
let db: Db;
let sim: Simulator;
let server: SimServer;

beforeEach(async () => {
  database = await createTestDatabase();
  db = database.db;
  sim = createSimulator({
    stores: [
      {
        storeId,
        token,
        seed: 21,
        size: { orders: 120, products: 60, customers: 40, carts: 20, reviews: 20, categories: 12, coupons: 10, promotions: 6 },
      },
    ],
  });
  server = await sim.listen(0);
});
afterEach(async () => {
  await server.close();
  await database.close();
});

/** A client that counts its requests, as the CLI's does. */
function countingClient() {
  let requests = 0;
  const client = createEcwidClient({
    baseUrl: server.url,
    storeId,
    token,
    limiter: createRateLimiter({ perMinute: 100_000 }),
    onAttempt: () => void requests++,
  });
  return { client, requestCount: () => requests };
}

async function projectAll() {
  while ((await projectBatch(db, { limit: 5000 })) > 0);
}

const verify = async (kinds?: Parameters<typeof reconcile>[0]['kinds']) =>
  reconcile({ db, storeId, ...countingClient(), mode: 'full', dryRun: true, ...(kinds && { kinds }) });

const totals = (reports: readonly KindReport[]) =>
  Object.fromEntries(
    reports
      .filter((r) => r.missing + r.stale + r.missedDeletes + r.healedTombstones > 0)
      .map((r) => [r.kind, { missing: r.missing, stale: r.stale, missedDeletes: r.missedDeletes, healedTombstones: r.healedTombstones }]),
  );

describe('verify and reconcile', () => {
  it('on a store the mirror has never seen, a full reconcile brings everything, and verify then finds nothing', async () => {
    const before = await verify(['product', 'category', 'order', 'invoice']);
    expect(before.find((r) => r.kind === 'product')).toMatchObject({ missing: sim.store(storeId).products.size, stale: 0 });

    const reports = await reconcile({ db, storeId, ...countingClient(), mode: 'incremental' });
    // Without a watermark an incremental run of a kind with update times is a full one.
    expect(reports.filter((r) => r.mode === 'full').map((r) => r.kind)).toEqual([
      'product',
      'customer',
      'discount_coupon',
      'order',
      'abandoned_cart',
      'review',
      'invoice',
    ]);
    await projectAll();
    expect(totals(await verify())).toEqual({});
    const runs = await db.select().from(reconcileRunsTable).orderBy(asc(reconcileRunsTable.id));
    expect(runs.every((r) => r.status === 'done' && r.trigger === 'cli')).toBe(true);
    expect(runs.find((r) => r.kind === 'product')).toMatchObject({
      missing: sim.store(storeId).products.size,
      appended: sim.store(storeId).products.size,
    });
  });

  it('finds what changed without a webhook, kind by kind, repairs it by appending to the log, and verify then finds nothing', async () => {
    await backfill({ db, storeId, client: createClientFactory({ baseUrl: server.url })(storeId, token) });
    await projectAll();
    expect(totals(await verify())).toEqual({});

    // Changes no webhook tells the mirror about.
    const store = sim.store(storeId);
    const [p1, p2] = store.products.values();
    store.update('products', p1!.id, (doc) => void (doc.name = 'Renamed silently'));
    const removedProduct = store.remove('products', p2!.id)!;
    const removedCategory = store.categories.values().at(-1)!;
    store.remove('categories', removedCategory.id);
    const promotion = store.promotions.values()[0]!;
    store.remove('promotions', promotion.id);
    const group = store.customerGroups.values().at(-1)!;
    store.update('customerGroups', group.id, (doc) => void (doc.name = 'Renamed group'));
    const customer = store.customers.values()[0]!;
    store.remove('customers', customer.id);
    const cart = store.carts.values()[0]!;
    store.remove('carts', cart.cartId);
    const [firstKey, secondKey] = [...store.storage.keys()];
    store.setStorage(firstKey!, 'changed silently');
    store.deleteStorage(secondKey!);
    store.setStorage('new-key', 'added silently');

    const found = totals(await verify());
    expect(found).toEqual({
      product: { missing: 0, stale: 1, missedDeletes: 1, healedTombstones: 0 },
      // Removing a product also changes its categories' product counts, which Ecwid derives
      // without a webhook: that is a refresh, not a miss (only the category deletion counts).
      category: { missing: 0, stale: 0, missedDeletes: 1, healedTombstones: 0 },
      promotion: { missing: 0, stale: 0, missedDeletes: 1, healedTombstones: 0 },
      customer_group: { missing: 0, stale: 1, missedDeletes: 0, healedTombstones: 0 },
      customer: { missing: 0, stale: 0, missedDeletes: 1, healedTombstones: 0 },
      abandoned_cart: { missing: 0, stale: 0, missedDeletes: 1, healedTombstones: 0 },
      // App storage is compared key by key.
      app_storage: { missing: 1, stale: 1, missedDeletes: 1, healedTombstones: 0 },
    });

    // Incremental: the deleted-items listings find the product and the customer; the small kinds
    // are compared whole. Carts have no deleted-items listing: compared whole while they are few
    // (here: never, the limit is 0), else a full run finds the deleted one.
    const incremental = await reconcile({ db, storeId, ...countingClient(), mode: 'incremental', wholeSetLimit: 0 });
    expect(incremental.filter((r) => r.status !== 'done')).toEqual([]);
    await projectAll();
    expect(totals(await verify())).toEqual({ abandoned_cart: { missing: 0, stale: 0, missedDeletes: 1, healedTombstones: 0 } });
    expect(incremental.find((r) => r.kind === 'product')).toMatchObject({ mode: 'incremental', stale: 1, missedDeletes: 1 });
    await reconcile({ db, storeId, ...countingClient(), mode: 'full', kinds: ['abandoned_cart'] });
    await projectAll();
    expect(totals(await verify())).toEqual({});

    // Deletes are confirmed, recorded as tombstones: by Ecwid's deleted-items listing where the
    // kind has one, else by a 404 on a read; the tables follow through projection.
    const tombstones = await db
      .select({
        entityKind: eventLogTable.entityKind,
        entityId: eventLogTable.entityId,
        reason: sql<string>`${eventLogTable.payload}->>'reason'`,
      })
      .from(eventLogTable)
      .where(and(eq(eventLogTable.storeId, storeId), eq(eventLogTable.kind, 'tombstone')))
      .orderBy(asc(eventLogTable.position));
    expect(tombstones).toEqual(
      expect.arrayContaining([
        { entityKind: 'product', entityId: String(removedProduct.id), reason: 'deleted' },
        { entityKind: 'category', entityId: String(removedCategory.id), reason: 'not_found' },
        { entityKind: 'promotion', entityId: String(promotion.id), reason: 'not_found' },
        { entityKind: 'customer', entityId: String(customer.id), reason: 'deleted' },
        { entityKind: 'abandoned_cart', entityId: cart.cartId, reason: 'not_found' },
      ]),
    );
    const [category] = await db.select().from(categoriesTable).where(eq(categoriesTable.categoryId, removedCategory.id));
    expect(category?.deletedAt).toBeInstanceOf(Date);
    const livePromotions = await db
      .select()
      .from(promotionsTable)
      .where(and(eq(promotionsTable.storeId, storeId), isNull(promotionsTable.deletedAt)));
    expect(livePromotions).toHaveLength(store.promotions.size);
  });

  it('a read by id that fails fails the run, which the next run resumes: a delete it had to confirm is not passed over', async () => {
    await backfill({ db, storeId, client: createClientFactory({ baseUrl: server.url })(storeId, token) });
    await projectAll();
    const customer = sim.store(storeId).customers.values()[2]!;
    sim.store(storeId).remove('customers', customer.id);
    // Ecwid lists, but every read by id fails (a 503 burst, a 429 with a long Retry-After).
    const { client, requestCount } = countingClient();
    const unavailable = async () => {
      throw new Error('Ecwid answered 503');
    };
    const failing = { ...client, getCustomer: unavailable, fetchByBatch: unavailable } as typeof client;
    const [first] = await reconcile({ db, storeId, client: failing, requestCount, mode: 'full', kinds: ['customer'] });
    expect(first).toMatchObject({ status: 'failed', missedDeletes: 0 });
    expect(first!.status === 'failed' && first!.reason).toMatch(/1 of 1 reads of customers by id failed \(Ecwid answered 503\)/);
    const [run] = await db.select().from(reconcileRunsTable).where(eq(reconcileRunsTable.id, first!.runId!));
    expect(run).toMatchObject({ status: 'running', watermark: null });

    // Ecwid answers again: the next run takes the open one over and confirms the delete.
    const [second] = await reconcile({ db, storeId, ...countingClient(), mode: 'full', kinds: ['customer'] });
    expect(second).toMatchObject({ status: 'done', runId: first!.runId, missedDeletes: 1 });
  });

  it('verify compares whole documents: a row that differs at the same update time is stale', async () => {
    await backfill({ db, storeId, client: createClientFactory({ baseUrl: server.url })(storeId, token) });
    await projectAll();
    expect(totals(await verify(['product']))).toEqual({});
    const product = sim.store(storeId).products.values()[3]!;
    // The document differs, its update time does not (a change within the same second, a hand edit).
    await db.execute(
      sql`update products set doc = jsonb_set(doc, '{name}', '"Not what Ecwid says"') where store_id = ${storeId} and product_id = ${product.id}`,
    );
    const [report] = await verify(['product']);
    expect(report).toMatchObject({ status: 'done', stale: 1, missing: 0 });
    expect(report!.samples.stale).toEqual([String(product.id)]);
  });

  it('a listing that answers no items while its total says there are more fails the run', async () => {
    await backfill({ db, storeId, client: createClientFactory({ baseUrl: server.url })(storeId, token) });
    await projectAll();
    const { client, requestCount } = countingClient();
    // An offset Ecwid will not serve, or a search index behind: an empty page, a total of more.
    const truncated = {
      ...client,
      searchCustomers: async (params: Parameters<typeof client.searchCustomers>[0]) => {
        const page = await client.searchCustomers(params);
        return (params?.offset ?? 0) > 0 ? { ...page, items: [] } : { ...page, items: page.items.slice(0, 5), total: page.total + 5 };
      },
    } as typeof client;
    const [report] = await reconcile({ db, storeId, client: truncated, requestCount, mode: 'full', kinds: ['customer'] });
    expect(report).toMatchObject({ status: 'failed', missedDeletes: 0 });
    expect(report!.status === 'failed' && report!.reason).toMatch(/the customers listing answered nothing past \d+ of \d+/);
    expect(totals(await verify(['customer']))).toEqual({});
  });

  it('never tombstones what a listing left out but Ecwid still serves', async () => {
    await backfill({ db, storeId, client: createClientFactory({ baseUrl: server.url })(storeId, token) });
    await projectAll();
    const product = sim.store(storeId).products.values()[5]!;
    // A listing that skips one product (an index that lags, a page that shifted).
    const { client, requestCount } = countingClient();
    const skipping = {
      ...client,
      listFields: client.listFields,
      searchProducts: async (params: Parameters<typeof client.searchProducts>[0]) => {
        const page = await client.searchProducts(params);
        // The total agrees (an index that lags counts what it serves): only the read by id can tell.
        return { ...page, items: page.items.filter((p) => p.id !== product.id), total: page.total - 1 };
      },
    } as typeof client;
    const reports = await reconcile({ db, storeId, client: skipping, requestCount, mode: 'full', kinds: ['product'] });
    expect(reports[0]).toMatchObject({ status: 'done', missedDeletes: 0 });
    const tombstones = await db
      .select()
      .from(eventLogTable)
      .where(and(eq(eventLogTable.kind, 'tombstone'), eq(eventLogTable.entityKind, 'product')));
    expect(tombstones).toEqual([]);
  });

  it('does not skip what a listing moves back past the offset while it is walked', async () => {
    await backfill({ db, storeId, client: createClientFactory({ baseUrl: server.url })(storeId, token) });
    await projectAll();
    const { client, requestCount } = countingClient();
    const listed = (await client.searchProducts({ sortBy: 'UPDATED_TIME_ASC' })).items.map((p) => p.id);
    expect(listed.length).toBeGreaterThan(40);
    // The mirror lost a product that stands just after the first page (a drift nothing told it of).
    const lost = listed[22]!;
    await db.execute(sql`delete from products where store_id = ${storeId} and product_id = ${lost}`);
    // Pages of 20; before the second page, 15 products of the first change, and move to the end of
    // a listing sorted by update time: what stood at 20-34 now stands at 5-19, past the overlap.
    const store = sim.store(storeId);
    let pages = 0;
    const shifting = {
      ...client,
      searchProducts: async (params: Parameters<typeof client.searchProducts>[0]) => {
        if (++pages === 2) for (const id of listed.slice(0, 15)) store.update('products', id, (doc) => void (doc.sku = `moved-${id}`));
        const page = await client.searchProducts(params);
        return { ...page, items: page.items.slice(0, 20) };
      },
    } as typeof client;
    const [report] = await reconcile({ db, storeId, client: shifting, requestCount, mode: 'full', kinds: ['product'] });
    expect(report).toMatchObject({ status: 'done', missing: 1, missedDeletes: 0 });
    expect(report!.samples.missing).toEqual([String(lost)]);
    await projectAll();
    // What is left is what changed after the run saw it (no webhook told of it): the next run's.
    expect(totals(await verify(['product']))).toEqual({ product: { missing: 0, stale: 15, missedDeletes: 0, healedTombstones: 0 } });
  });

  it('does not fail a busy store whose listing puts new items first: the total keeps growing while it is walked', async () => {
    await backfill({ db, storeId, client: createClientFactory({ baseUrl: server.url })(storeId, token) });
    await projectAll();
    const { client, requestCount } = countingClient();
    const store = sim.store(storeId);
    const model = store.products.values()[0]!;
    let pages = 0;
    // Newest first (Ecwid does not document the order of some listings), pages of 20, and a new
    // product before every page but the first: the walk never sees as many ids as the total.
    const busy = {
      ...client,
      searchProducts: async (params: Parameters<typeof client.searchProducts>[0]) => {
        if (++pages > 1) store.insert('products', { ...structuredClone(model), id: 9_000_000 + pages });
        const page = await client.searchProducts({ ...params, sortBy: 'ADDED_TIME_DESC' });
        return { ...page, items: page.items.slice(0, 20) };
      },
    } as typeof client;
    const [report] = await reconcile({ db, storeId, client: busy, requestCount, mode: 'full', kinds: ['product'] });
    expect(report).toMatchObject({ status: 'done', missedDeletes: 0, stale: 0 });
    // Every product there was at the start was compared, and the new ones it met are missing.
    expect(report!.checked).toBeGreaterThanOrEqual(60);
    expect(report!.missing).toBeGreaterThan(0);
  });

  it('a run taken over after a stop lists again from the start: what moved meanwhile is not skipped', async () => {
    await backfill({ db, storeId, client: createClientFactory({ baseUrl: server.url })(storeId, token) });
    await projectAll();
    const { client, requestCount } = countingClient();
    const listed = (await client.searchProducts({ sortBy: 'UPDATED_TIME_ASC' })).items.map((p) => p.id);
    const lost = listed[45]!;
    await db.execute(sql`delete from products where store_id = ${storeId} and product_id = ${lost}`);
    const paged = {
      ...client,
      searchProducts: async (params: Parameters<typeof client.searchProducts>[0]) => {
        const page = await client.searchProducts(params);
        return { ...page, items: page.items.slice(0, 20) };
      },
    } as typeof client;
    const controller = new AbortController();
    const first = await reconcile({
      db,
      storeId,
      client: paged,
      requestCount,
      mode: 'full',
      kinds: ['product'],
      signal: controller.signal,
      onProgress: (p) => {
        if (p.checked >= 40) controller.abort();
      },
    });
    expect(first[0]).toMatchObject({ status: 'failed', reason: expect.stringContaining('aborted') });
    // While it was stopped, 30 products it had seen changed and moved to the end: the lost one
    // now stands before the saved offset.
    const store = sim.store(storeId);
    for (const id of listed.slice(0, 30)) store.update('products', id, (doc) => void (doc.sku = `later-${id}`));
    const [resumed] = await reconcile({ db, storeId, client: paged, requestCount, mode: 'full', kinds: ['product'], leaseMs: 0 });
    expect(resumed).toMatchObject({ status: 'done', runId: first[0]!.runId, missing: 1 });
    expect(resumed!.samples.missing).toEqual([String(lost)]);
  });

  it("ends no invoice on the orders listing's word alone: an order the listing left out is read first", async () => {
    await backfill({ db, storeId, client: createClientFactory({ baseUrl: server.url })(storeId, token) });
    await projectAll();
    const order = sim
      .store(storeId)
      .orders.values()
      .find((o) => (o.invoices?.length ?? 0) > 0);
    expect(order).toBeDefined();
    const { client, requestCount } = countingClient();
    // A listing that leaves one order out (a page that shifted, an index that lags).
    const skipping = {
      ...client,
      listFields: (async (listing, fields, params) => {
        const page = await client.listFields(listing, fields, params);
        if (listing !== 'orders') return page;
        return { ...page, items: page.items.filter((o) => (o as { id?: unknown }).id !== order!.id), total: page.total - 1 };
      }) as typeof client.listFields,
    } as typeof client;
    // The first reads of the orders' invoices fail (Ecwid unavailable for a moment): the run
    // fails, and the next one resumes at those reads, not past them.
    let failing = true;
    const flaky = {
      ...skipping,
      getOrderInvoices: (async (id) => {
        if (failing) throw new Error('Ecwid unavailable for a moment');
        return client.getOrderInvoices(id);
      }) as typeof client.getOrderInvoices,
    } as typeof client;
    // Another order is really gone from Ecwid: its invoices end, as deleted rows.
    const gone = sim
      .store(storeId)
      .orders.values()
      .find((o) => o.id !== order!.id && (o.invoices?.length ?? 0) > 0)!;
    sim.store(storeId).remove('orders', gone.internalId);
    const [{ before } = { before: 0 }] = await execRows<{ before: number }>(
      db,
      sql`select coalesce(max(position), 0)::int as before from event_log`,
    );
    const [failed] = await reconcile({ db, storeId, client: flaky, requestCount, mode: 'full', kinds: ['invoice'] });
    expect(failed).toMatchObject({ status: 'failed', reason: expect.stringContaining('Ecwid unavailable for a moment') });
    failing = false;
    const [report] = await reconcile({ db, storeId, client: flaky, requestCount, mode: 'full', kinds: ['invoice'], leaseMs: 0 });
    expect(report).toMatchObject({ status: 'done', runId: failed!.runId, appended: 1 });
    expect(report!.missedDeletes).toBe(gone.invoices!.length);
    // The one record appended: the gone order's tombstone. Nothing for the order the listing skipped.
    const appended = await db
      .select()
      .from(eventLogTable)
      .where(and(eq(eventLogTable.entityKind, 'invoice'), gt(eventLogTable.position, before)));
    expect(appended.map((r) => [r.kind, r.entityId])).toEqual([['tombstone', gone.id]]);
    await projectAll();
    const [row] = await execRows<{ live: number; deleted: number }>(
      db,
      sql`select count(*) filter (where deleted_at is null)::int as live, count(*) filter (where deleted_at is not null)::int as deleted
          from invoices where store_id = ${storeId} and order_id = ${gone.id}`,
    );
    expect(row).toEqual({ live: 0, deleted: gone.invoices!.length });
    expect(totals(await verify(['invoice']))).toEqual({});
  });

  it('compares the store profile with its table, not with a log record not projected yet', async () => {
    await backfill({ db, storeId, client: createClientFactory({ baseUrl: server.url })(storeId, token) });
    await projectAll();
    const store = sim.store(storeId);
    store.touchProfile((profile) => void (profile.generalInfo.storeUrl = 'https://moved.example.com'));
    // Enrichment has logged the new profile; projection has not reached it yet.
    await appendRecords(db, [
      {
        kind: 'snapshot',
        storeId,
        entityKind: 'store_profile',
        entityId: String(storeId),
        payload: await countingClient().client.getProfile(),
        causedBy: [],
        fetchedAt: new Date(),
      },
    ]);
    expect(totals(await verify(['store_profile']))).toEqual({
      store_profile: { missing: 0, stale: 1, missedDeletes: 0, healedTombstones: 0 },
    });
    await projectAll();
    expect(totals(await verify(['store_profile']))).toEqual({});
  });

  it('finds an abandoned cart deleted without a webhook in an incremental run while carts are few', async () => {
    await backfill({ db, storeId, client: createClientFactory({ baseUrl: server.url })(storeId, token) });
    await projectAll();
    const store = sim.store(storeId);
    const [gone, changed] = store.carts.values();
    store.remove('carts', gone!.cartId);
    store.update('carts', changed!.cartId, (doc) => void (doc.email = 'changed.silently@example.com'));
    const [carts] = await reconcile({ db, storeId, ...countingClient(), mode: 'incremental', kinds: ['abandoned_cart'] });
    expect(carts).toMatchObject({ mode: 'incremental', status: 'done', missedDeletes: 1, stale: 1, missing: 0 });
    expect(carts!.samples.missedDeletes).toEqual([gone!.cartId]);
    await projectAll();
    expect(totals(await verify(['abandoned_cart']))).toEqual({});
  });

  it('a run stopped midway is resumed where it stopped, and a live run is not run twice', async () => {
    await backfill({ db, storeId, client: createClientFactory({ baseUrl: server.url })(storeId, token), entities: ['store_profile'] });
    const controller = new AbortController();
    const first = await reconcile({
      db,
      storeId,
      ...countingClient(),
      mode: 'full',
      kinds: ['order', 'product'],
      signal: controller.signal,
      onProgress: (p) => {
        if (p.checked >= 100) controller.abort();
      },
    });
    expect(first[0]).toMatchObject({ status: 'failed', reason: expect.stringContaining('aborted') });
    // A kind it never reached is reported, failed: a stopped verify does not read as a clean one.
    expect(first[1]).toMatchObject({ kind: 'product', status: 'failed', reason: 'stopped before this kind was compared', checked: 0 });
    const [open] = await db.select().from(reconcileRunsTable);
    expect(open).toMatchObject({ status: 'running', progress: { phase: 'list' } });
    // A worker that holds a run (its heartbeat fresh) is left alone by a second one…
    await db.update(reconcileRunsTable).set({ heartbeatAt: new Date() });
    const busy = await reconcile({ db, storeId, ...countingClient(), mode: 'full', kinds: ['order'] });
    expect(busy[0]).toMatchObject({ status: 'skipped' });
    // …until its lease runs out (a crash); then it is taken over from where it stopped.
    const resumed = await reconcile({ db, storeId, ...countingClient(), mode: 'full', kinds: ['order'], leaseMs: 0 });
    expect(resumed[0]).toMatchObject({ status: 'done', runId: first[0]!.runId, missing: sim.store(storeId).orders.size });
    await projectAll();
    expect(totals(await verify(['order']))).toEqual({});
  });

  /** The sweep as `mirror project` runs it, on the simulator, with these intervals. */
  const schedule = (signal: AbortSignal, timing: Pick<ReconcileScheduleOptions, 'intervalMs' | 'pollMs' | 'onReport'>) =>
    runReconcileSchedule({
      db,
      // The token the tests write in clear, as before tokens were sealed: still read.
      box: createSecretBox(randomBytes(32)),
      log: createSilentLogger(),
      signal,
      baseUrl: server.url,
      limiter: createRateLimiterRegistry({ perMinute: 100_000 }),
      ratePerMinute: 100_000,
      maxShare: 0.2,
      fullIntervalMs: 24 * 3_600_000,
      ...timing,
    });

  it('runs by itself: each store every interval, a paused store once it recovers', async () => {
    await db.insert(storeTokensTable).values({ storeId, token });
    await backfill({ db, storeId, client: createClientFactory({ baseUrl: server.url })(storeId, token) });
    await projectAll();
    const product = sim.store(storeId).products.values()[2]!;
    sim.store(storeId).update('products', product.id, (doc) => void (doc.sku = 'changed-silently'));
    await db.insert(enrichmentStateTable).values({ storeId, status: 'paused' });

    const controller = new AbortController();
    const reports: KindReport[] = [];
    const loop = schedule(controller.signal, { intervalMs: 50, pollMs: 20, onReport: (_, report) => reports.push(report) });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(reports).toEqual([]);
      await db.update(enrichmentStateTable).set({ status: 'active' });
      await expect.poll(() => reports.find((r) => r.kind === 'product')?.stale, { timeout: 10_000 }).toBe(1);
    } finally {
      controller.abort();
      await loop;
    }
    // The backfill counts as the last full run: the schedule's first run is incremental.
    const runs = await db.select().from(reconcileRunsTable).where(eq(reconcileRunsTable.kind, 'product'));
    expect(runs[0]).toMatchObject({ mode: 'incremental', trigger: 'schedule', status: 'done', stale: 1 });
  });

  it('keeps an interval shorter than its poll: it wakes when the next store is due', async () => {
    await db.insert(storeTokensTable).values({ storeId, token });
    await backfill({ db, storeId, client: createClientFactory({ baseUrl: server.url })(storeId, token) });
    const controller = new AbortController();
    const runs: number[] = [];
    const started = Date.now();
    const loop = schedule(controller.signal, {
      intervalMs: 1500,
      // The default: a look for new stores once a minute.
      pollMs: 60_000,
      onReport: (_, report) => void (report.kind === 'product' && runs.push(Date.now() - started)),
    });
    try {
      // The backfill was the last run: incremental ones follow 1.5 s after it and after each other.
      await expect.poll(() => runs.length, { timeout: 15_000, interval: 100 }).toBeGreaterThanOrEqual(3);
    } finally {
      controller.abort();
      await loop;
    }
    expect(runs[2]!).toBeLessThan(15_000);
  }, 30_000);
});
