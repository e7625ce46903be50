import { readFileSync } from 'node:fs';
import { backfillStateTable, eventLogTable, migrationsFolder, type Db } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { createSimulator, type SimServer, type Simulator } from '@mirror/ecwid-sim';
import { and, asc, eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClientFactory } from '../enrichment/create-client-factory.ts';
import { backfill } from './backfill.ts';

const storeId = 1003;
const token = 'secret_backfill_token';

let database: TestDatabase;
let db: Db;
let sim: Simulator;
let server: SimServer;

beforeEach(async () => {
  database = await createTestDatabase();
  db = database.db;
  sim = createSimulator({
    stores: [{ storeId, token, seed: 11, size: { orders: 250, products: 120, customers: 60, carts: 30, reviews: 40 } }],
  });
  server = await sim.listen(0);
});
afterEach(async () => {
  await server.close();
  await database.close();
});

const client = () => createClientFactory({ baseUrl: server.url })(storeId, token);
const records = async (entityKind: string, kind: 'snapshot' | 'tombstone' = 'snapshot') =>
  db
    .select()
    .from(eventLogTable)
    .where(and(eq(eventLogTable.storeId, storeId), eq(eventLogTable.entityKind, entityKind), eq(eventLogTable.kind, kind)))
    .orderBy(asc(eventLogTable.position));

describe('backfill', () => {
  it('appends a snapshot of every entity, hidden ones included', async () => {
    const summary = await backfill({ db, storeId, client: client() });
    const store = sim.store(storeId);
    const expected = {
      order: store.orders.size,
      product: store.products.size,
      category: store.categories.size,
      customer: store.customers.size,
      customer_group: store.customerGroups.size,
      discount_coupon: store.coupons.size,
      promotion: store.promotions.size,
      product_type: store.productTypes.size,
      review: store.reviews.size,
      abandoned_cart: store.carts.size,
      store_profile: 1,
      app_subscription: 1,
      app_storage: 1,
      // Every order with invoices gives its invoice list, from the orders' listing.
      invoice: store.orders.values().filter((o) => o.invoices.length > 0).length,
    };
    expect(expected.invoice).toBeGreaterThan(0);
    for (const [kind, count] of Object.entries(expected)) {
      const rows = await records(kind);
      expect(rows, kind).toHaveLength(count);
      expect(new Set(rows.map((r) => r.entityId)).size, kind).toBe(count);
      expect(rows.every((r) => r.causedBy?.length === 0 && r.fetchedAt instanceof Date)).toBe(true);
    }
    expect(store.categories.values().some((c) => !c.enabled)).toBe(true);
    expect(summary).toHaveLength(14);
    const invoices = await records('invoice');
    const order = store.orders.values().find((o) => o.invoices.length > 0)!;
    expect(invoices.find((r) => r.entityId === order.id)?.payload).toEqual({ invoices: order.invoices });
    const states = await db.select().from(backfillStateTable);
    expect(states.every((s) => s.completedAt !== null)).toBe(true);
  });

  it('misses no item when others move within the listing during the walk (updated, or deleted)', async () => {
    const store = sim.store(storeId);
    // Products are listed by update time: after the first page, its first item is updated and
    // moves to the end, its second is deleted, so every later one shifts back two places.
    const [moved, deleted] = store.products.byUpdate();
    let pages = 0;
    await backfill({
      db,
      storeId,
      client: client(),
      entities: ['product'],
      onProgress: (p) => {
        if (p.phase !== 'scan' || ++pages !== 1) return;
        store.update('products', moved!.id, (doc) => void (doc.price += 1));
        store.remove('products', deleted!.id);
      },
    });
    const seen = new Set((await records('product')).map((r) => r.entityId));
    for (const product of store.products.values()) expect(seen.has(String(product.id)), `product ${product.id}`).toBe(true);
    // The overlap re-reads a few items, but each item is appended once (the deleted one was
    // read on the first page).
    expect((await records('product')).length).toBe(store.products.size + 1);
  });

  it('with plan, knows the whole run before it starts: overall never shrinks, and a resumed run counts what was done', async () => {
    const store = sim.store(storeId);
    const kinds = ['product', 'order'] as const;
    const reports: { entity: string; phase: string; overall?: { done: number; total: number } }[] = [];
    let pages = 0;
    await expect(
      backfill({
        db,
        storeId,
        client: client(),
        entities: kinds,
        plan: true,
        onProgress: (p) => {
          reports.push(p);
          if (p.entity === 'order' && p.phase === 'scan' && ++pages === 2) throw new Error('crash');
        },
      }),
    ).rejects.toThrow('crash');
    const whole = store.products.size + store.orders.size;
    // The first report comes before any page is read, with every kind's total.
    expect(reports[0]).toMatchObject({ entity: 'product', overall: { done: 0, total: whole } });
    expect(reports.every((r) => r.overall?.total === whole)).toBe(true);
    const done = reports.map((r) => r.overall!.done);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    // Products whole, then the orders' second page reached 190 (pages overlap by 10).
    expect(reports.at(-1)?.overall).toEqual({ done: store.products.size + 190, total: whole });

    const resumed: { done: number; total: number }[] = [];
    await backfill({ db, storeId, client: client(), entities: kinds, plan: true, onProgress: (p) => void resumed.push(p.overall!) });
    // A new run of products (what changed since the last run's watermark, which starts 5 minutes
    // before that run for clock skew: a few at most) and the rest of the orders, from 190.
    const first = resumed[0]!;
    expect(first.done).toBe(190);
    const relisted = first.total - store.orders.size;
    expect(relisted).toBeGreaterThanOrEqual(0);
    expect(relisted).toBeLessThan(store.products.size);
    expect(new Set(resumed.map((r) => r.total))).toEqual(new Set([first.total]));
    expect(resumed.at(-1)).toEqual({ done: first.total, total: first.total });
  });

  it('resumes after an interruption at the page it stopped on', async () => {
    let pages = 0;
    await expect(
      backfill({
        db,
        storeId,
        client: client(),
        entities: ['order'],
        onProgress: (p) => {
          if (p.phase === 'scan' && ++pages === 2) throw new Error('crash');
        },
      }),
    ).rejects.toThrow('crash');
    // Two pages: 0–99, then 90–189 (pages overlap by 10), each item appended once.
    expect(await records('order')).toHaveLength(190);
    // The run in progress says how far it is, and out of how many (the API's and console's progress).
    const [interrupted] = await db.select().from(backfillStateTable).where(eq(backfillStateTable.entity, 'order'));
    expect(interrupted).toMatchObject({ offset: 190, completedAt: null, details: expect.objectContaining({ phase: 'scan', total: 250 }) });
    sim.stats.reset();
    await backfill({ db, storeId, client: client(), entities: ['order'] });
    // Only the last page (from 180, overlapping) is asked for again; after a restart the
    // overlap's 10 items are appended a second time (the same documents: harmless).
    expect(sim.stats.byPath()['GET /orders']).toBe(1);
    const rows = await records('order');
    expect(rows).toHaveLength(260);
    expect(new Set(rows.map((r) => r.entityId)).size).toBe(250);
  });

  it('on the next run picks up a change made during a run to an item already scanned', async () => {
    const store = sim.store(storeId);
    const t = Math.floor(Date.now() / 1000);
    // An item stamped later than the change below (Ecwid's clock ahead, or just a later edit).
    const ahead = { ...structuredClone(store.products.values()[0]!), id: 9_000_001, updateTimestamp: t + 3600 };
    store.insert('products', ahead, t + 3600);
    const early = store.products.values()[1]!;
    let changed = false;
    await backfill({
      db,
      storeId,
      client: client(),
      entities: ['product'],
      onProgress: (p) => {
        // The scan is past every item; the run has not completed yet.
        if (p.phase === 'scan' && p.done >= p.total && !changed) {
          changed = true;
          store.update('products', early.id, (doc) => void (doc.sku = 'changed-during-run'));
        }
      },
    });
    expect(changed).toBe(true);
    const [state] = await db
      .select()
      .from(backfillStateTable)
      .where(and(eq(backfillStateTable.storeId, storeId), eq(backfillStateTable.entity, 'product')));
    expect(state!.watermark!.getTime()).toBeLessThanOrEqual(state!.startedAt!.getTime() - 5 * 60_000);

    await backfill({ db, storeId, client: client(), entities: ['product'] });
    const latest = (await records('product')).filter((r) => r.entityId === String(early.id)).at(-1);
    expect((latest!.payload as { sku: string }).sku).toBe('changed-during-run');
  });

  it('on a re-run asks only for what changed since the last run, and tombstones deletions', async () => {
    await backfill({ db, storeId, client: client(), entities: ['product', 'category'] });
    const [state] = await db
      .select()
      .from(backfillStateTable)
      .where(and(eq(backfillStateTable.storeId, storeId), eq(backfillStateTable.entity, 'product')));
    const watermark = Math.floor(state!.watermark!.getTime() / 1000);
    const store = sim.store(storeId);
    const changed = store.products.values().slice(0, 3);
    for (const p of changed) store.update('products', p.id, (doc) => void (doc.sku = `${doc.sku}-x`));
    const removed = store.products.values()[10]!;
    store.remove('products', removed.id);

    const before = (await records('product')).length;
    sim.stats.reset();
    const summary = await backfill({ db, storeId, client: client(), entities: ['product', 'category'] });
    const expectedProducts = store.products.values().filter((p) => p.updateTimestamp >= watermark).length;
    expect(expectedProducts).toBeLessThan(10);
    expect(summary.find((s) => s.entity === 'product')).toMatchObject({ snapshots: expectedProducts, tombstones: 1, incremental: true });
    expect((await records('product')).length - before).toBe(expectedProducts);
    const fresh = (await records('product')).slice(-expectedProducts).map((r) => r.entityId);
    for (const p of changed) expect(fresh).toContain(String(p.id));
    expect((await records('product', 'tombstone')).map((r) => r.entityId)).toEqual([String(removed.id)]);
    // Categories have no updatedFrom (docs/ecwid.md §4.4): re-scanned in full.
    expect(summary.find((s) => s.entity === 'category')).toMatchObject({ snapshots: store.categories.size, incremental: false });
    expect(sim.stats.byPath()['GET /products']).toBe(1);
  });

  it('resumes incrementally from progress recorded under the CLI names of before the entity catalogue (migration 0009)', async () => {
    await backfill({ db, storeId, client: client(), entities: ['product'] });
    // As the code before migration 0009 kept it: by the short CLI name.
    await db.update(backfillStateTable).set({ entity: 'products' }).where(eq(backfillStateTable.entity, 'product'));
    await db.insert(backfillStateTable).values({ storeId, entity: 'coupons', offset: 3 });
    await db.execute(sql.raw(readFileSync(`${migrationsFolder}/0009_backfill_state_kinds.sql`, 'utf8')));
    const states = await db.select({ entity: backfillStateTable.entity }).from(backfillStateTable).orderBy(backfillStateTable.entity);
    expect(states.map((s) => s.entity)).toEqual(['discount_coupon', 'product']);

    sim.stats.reset();
    const [summary] = await backfill({ db, storeId, client: client(), entities: ['product'] });
    expect(summary).toMatchObject({ entity: 'product', incremental: true });
    expect(summary!.snapshots).toBeLessThan(10);
  });
});
