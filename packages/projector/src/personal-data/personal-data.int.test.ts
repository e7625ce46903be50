import { execFileSync } from 'node:child_process';
import { createSilentLogger } from '@mirror/core';
import { concurrencySkipReason } from '@mirror/db/testing';
import postgres from 'postgres';
import {
  answerRequest,
  createRequest,
  enrichmentStateTable,
  execRows,
  exportReadable,
  getRequest,
  personalDataRequestsTable,
  readExport,
  type Db,
} from '@mirror/db';
import type { SimCustomer, SimOrder } from '@mirror/ecwid-sim';
import { and, eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKit, storeA, tokenA, type Kit } from '../../testing/enrichment-kit.ts';
import { appendRecords, appendSnapshot, fixture } from '../../testing/append-records.ts';
import { entityTables, snapshotTables } from '../../testing/sample-log.ts';
import { backfill } from '../backfill/backfill.ts';
import { projectBatch } from '../projection/project-batch.ts';
import { rebuild } from '../rebuild/rebuild.ts';
import { replay } from '../rebuild/replay.ts';
import { reconcile } from '../reconcile/reconcile.ts';
import { intakeRequests, processRequests, type RequestRow } from './requests.ts';

/*
 * Erasure proves absence, not intent: after erasing a customer, a data-only dump of the whole
 * database (log, tables, views, history) holds none of their identifying strings, in any case;
 * the day's totals are what they were; and that holds after a rebuild, a replay from 0, and
 * after the projector fetches their documents from Ecwid again. An export made before holds
 * every occurrence the erasure removed.
 */

const storeB = 1004;
const tokenB = 'secret_store_b_token';
const log = createSilentLogger();

let kit: Kit;
let db: Db;

beforeEach(async () => {
  kit = await createKit({
    stores: [
      { storeId: storeA, token: tokenA, seed: 7, size: { orders: 80, products: 20, customers: 25, carts: 15, reviews: 20 } },
      { storeId: storeB, token: tokenB, seed: 8, size: { orders: 30, products: 10, customers: 10, carts: 5, reviews: 5 } },
    ],
  });
  db = kit.db;
  for (const [storeId, token] of [
    [storeA, tokenA],
    [storeB, tokenB],
  ] as const) {
    await backfill({ db, storeId, client: kit.clientFor(storeId, token) });
  }
  await projectAll();
});
afterEach(async () => kit.close());

async function projectAll() {
  while ((await projectBatch(db, { limit: 5000 })) > 0);
}

/** A data-only dump of every table (pg_dump where there is one), and every reporting view's rows, in lower case. */
function dump(): Promise<string> {
  return dumpDatabase(db, kit.database.url);
}

async function dumpDatabase(target: Db, url: string | undefined): Promise<string> {
  let text = '';
  if (url) text += execFileSync('pg_dump', ['--data-only', '--no-owner', url], { maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
  else {
    const tables = await execRows<{ t: string }>(
      target,
      sql`select format('%I.%I', table_schema, table_name) as t from information_schema.tables
          where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`,
    );
    for (const { t } of tables)
      for (const r of await execRows<{ r: string }>(target, sql.raw(`select x::text as r from ${t} x`))) text += `${r.r}\n`;
  }
  const views = await execRows<{ v: string }>(
    target,
    sql`select format('%I.%I', table_schema, table_name) as v from information_schema.views where table_schema = 'reporting'`,
  );
  for (const { v } of views)
    for (const r of await execRows<{ r: string }>(target, sql.raw(`select x::text as r from ${v} x`))) text += `${r.r}\n`;
  return text.toLowerCase();
}

/** A customer with orders, and the strings that identify them (written down from the simulator's documents). */
function pickCustomer(
  storeId = storeA,
  options: { reviewed?: boolean } = {},
): { customer: SimCustomer; orders: SimOrder[]; strings: string[] } {
  const store = kit.sim.store(storeId);
  const orders = store.orders.values();
  const reviewers = new Set(store.reviews.values().map((r) => r.customerId));
  const customer = store.customers
    .values()
    .find(
      (c) =>
        orders.filter((o) => o.customerId === c.id).length >= 2 &&
        c.billingPerson.street !== '' &&
        (!options.reviewed || reviewers.has(c.id)),
    )!;
  const theirs = orders.filter((o) => o.customerId === customer.id || o.email.toLowerCase() === customer.email.toLowerCase());
  const strings = new Set([customer.email, customer.billingPerson.name, customer.billingPerson.phone, customer.billingPerson.street]);
  for (const o of theirs) for (const s of [o.email, o.billingPerson.name, o.billingPerson.phone, o.billingPerson.street]) strings.add(s);
  return { customer, orders: theirs, strings: [...strings].filter((s) => s.length > 0) };
}

/** A full reconcile of store A's kinds: per kind, what it found missing, stale and deleted in Ecwid. */
async function fullReconcileFindings(kinds: ('customer' | 'order' | 'abandoned_cart' | 'review')[]) {
  const reports = await reconcile({
    db,
    storeId: storeA,
    client: kit.clientFor(storeA, tokenA),
    requestCount: () => 0,
    mode: 'full',
    kinds,
  });
  return reports.map((r) => [r.kind, r.missing, r.stale, r.missedDeletes]);
}

const dailyTotals = () => execRows(db, sql`select * from reporting.daily_sales order by 1, 2`);

async function run(extra: Partial<Parameters<typeof processRequests>[0]> & { erasureWebhooks?: 'confirm' | 'run' } = {}) {
  while ((await intakeRequests(db, { erasureWebhooks: extra.erasureWebhooks })) > 0);
  return processRequests({ db, log, ...extra });
}

/** The erasure a webhook asked for, which waits for an operator: confirmed. */
async function confirmWebhookErasure(scope: 'customer' | 'store') {
  expect(await run()).toBe(0);
  const [waiting] = await db
    .select()
    .from(personalDataRequestsTable)
    .where(and(eq(personalDataRequestsTable.scope, scope), eq(personalDataRequestsTable.kind, 'erase')));
  expect(waiting).toMatchObject({ kind: 'erase', source: 'webhook', status: 'awaiting_confirmation' });
  await answerRequest(db, waiting!.storeId, waiting!.id, 'confirm');
}

/**
 * A new order of the customer's, as Ecwid would send it: their newest order snapshot with
 * another id and `street` as the billing and shipping street (a string no other document holds).
 */
async function newOrderOf(order: SimOrder, id: string, street: string): Promise<Record<string, unknown>> {
  const [row] = await execRows<{ payload: string }>(
    db,
    sql`select payload::text as payload from event_log where store_id = ${storeA} and kind = 'snapshot' and entity_kind = 'order'
          and entity_id = ${order.id} order by position desc limit 1`,
  );
  const doc = JSON.parse(row!.payload) as Record<string, unknown> & {
    billingPerson: { street: string };
    shippingPerson?: { street: string };
  };
  doc.id = id;
  doc.internalId = 990_000 + Math.floor(Math.random() * 9_999);
  doc.billingPerson.street = street;
  if (doc.shippingPerson) doc.shippingPerson.street = street;
  return doc;
}

/** The newest snapshot of a kind in store A, as a document to make another of. */
async function latestDocument(entityKind: string): Promise<Record<string, unknown>> {
  const [row] = await execRows<{ payload: string }>(
    db,
    sql`select payload::text as payload from event_log where store_id = ${storeA} and kind = 'snapshot' and entity_kind = ${entityKind}
        order by position desc limit 1`,
  );
  return JSON.parse(row!.payload) as Record<string, unknown>;
}

async function exportDocument(request: RequestRow) {
  let text = '';
  for await (const chunk of readExport(db, request)) text += chunk;
  return JSON.parse(text) as { items: { source: string; table?: string; row?: Record<string, unknown>; position?: number }[] };
}

describe('personal data', () => {
  it('erasing a customer leaves none of their strings anywhere, keeps the totals, and holds through rebuild, replay and a new fetch', async () => {
    // One who reviewed a product too: a review names its reviewer's country in full.
    const { customer, orders, strings } = pickCustomer(storeA, { reviewed: true });
    const other = pickCustomer(storeB);
    const before = await dump();
    // The test can fail: every string is there to begin with.
    for (const s of strings) expect(before, s).toContain(s.toLowerCase());
    const totals = await dailyTotals();

    // An export first: it must hold every occurrence the erasure is about to remove.
    const exportRequest = await createRequest(db, {
      storeId: storeA,
      kind: 'export',
      scope: 'customer',
      source: 'cli',
      customerId: customer.id,
    });
    await run();
    const exported = await exportDocument((await getRequest(db, storeA, exportRequest.id))!);
    const patterns = JSON.stringify(strings.map((s) => `%${s.toLowerCase()}%`));
    const mentioning = await execRows<{ position: string | number }>(
      db,
      sql`select position from event_log where store_id = ${storeA} and lower(payload::text) like any (select jsonb_array_elements_text(${patterns}::jsonb))`,
    );
    const exportedPositions = new Set(exported.items.filter((i) => i.source === 'log').map((i) => Number(i.position)));
    expect(mentioning.length).toBeGreaterThan(orders.length);
    for (const { position } of mentioning) expect(exportedPositions.has(Number(position)), `log record ${position}`).toBe(true);
    for (const table of ['customers', 'orders', 'order_items', 'abandoned_carts', 'reviews']) {
      const rows = await execRows<{ r: string }>(
        db,
        sql`select to_jsonb(t)::text as r from ${sql.raw(table)} t where store_id = ${storeA}
              and lower(to_jsonb(t)::text) like any (select jsonb_array_elements_text(${patterns}::jsonb))`,
      );
      const exportedRows = new Set(exported.items.filter((i) => i.table === table).map((i) => JSON.stringify(i.row)));
      for (const { r } of rows) expect(exportedRows.has(JSON.stringify(JSON.parse(r))), `${table} row`).toBe(true);
    }

    // Ecwid asks for the erasure.
    await kit.send({ eventType: 'customer.personalDataRemovalRequest', entityId: customer.id, data: { email: customer.email } });
    // On the webhook's word alone nothing is erased: the request waits for an operator.
    expect(await run()).toBe(0);
    const untouched = await dump();
    for (const s of strings) expect(untouched, s).toContain(s.toLowerCase());
    await confirmWebhookErasure('customer');
    expect(await run()).toBe(1);
    const [request] = await db.select().from(personalDataRequestsTable).where(eq(personalDataRequestsTable.kind, 'erase'));
    expect(request).toMatchObject({
      status: 'done',
      source: 'webhook',
      scope: 'customer',
      subjectCustomerId: null,
      subjectEmail: null,
      progress: null,
    });
    expect(request!.subjectHashes.length).toBeGreaterThanOrEqual(2);
    expect(request!.counts).toMatchObject({ log_records: expect.any(Number), orders: orders.length, customers: 1 });
    expect(request!.counts!.log_records).toBeGreaterThanOrEqual(mentioning.length);
    console.log(`erased one customer: ${JSON.stringify(request!.counts)}`);

    const absent = async (when: string) => {
      const text = await dump();
      for (const s of strings) expect(text.includes(s.toLowerCase()), `${s} after ${when}`).toBe(false);
      // Only this customer: another store's customer is untouched.
      for (const s of other.strings) expect(text.includes(s.toLowerCase()), `store B's ${s} after ${when}`).toBe(true);
    };
    await absent('the erasure');
    expect(await dailyTotals()).toEqual(totals);
    // The export of the erased customer is gone with them.
    const gone = (await getRequest(db, storeA, exportRequest.id))!;
    expect(gone.subjectCustomerId).toBeNull();
    // It says so, and is no longer readable (the API answers 404 and lists no exportUrl).
    expect(gone.reason).toMatch(/^deleted by erasure request \d+$/);
    expect(exportReadable(gone)).toBe(false);

    // Tables are a function of the log: a rebuild gives the same rows.
    const tables = await snapshotTables(db);
    await rebuild(db, { force: true });
    expect(await snapshotTables(db)).toEqual(tables);
    await absent('a rebuild');
    await replay(db, { from: 0 });
    await absent('a replay from 0');
    expect(await dailyTotals()).toEqual(totals);

    // Ecwid still has the customer's documents: a full reconcile compares them as the mirror keeps
    // them (erased) and finds the erased rows equal, twice in a row, appending nothing.
    const logSize = async () => (await execRows<{ n: number }>(db, sql`select count(*)::int as n from event_log`))[0]!.n;
    const sizeBefore = await logSize();
    for (const round of [1, 2]) {
      expect(
        await fullReconcileFindings(['customer', 'order', 'abandoned_cart', 'review']),
        `reconcile ${round} after the erasure`,
      ).toEqual([
        ['customer', 0, 0, 0],
        ['order', 0, 0, 0],
        ['abandoned_cart', 0, 0, 0],
        ['review', 0, 0, 0],
      ]);
    }
    expect(await logSize()).toBe(sizeBefore);
    // One pseudonym for the customer wherever their email was.
    const pseudonyms = await execRows<{ email: string }>(
      db,
      sql`select distinct email from (select email from customers where store_id = ${storeA} and customer_id = ${customer.id}
            union all select email from orders where store_id = ${storeA} and customer_id = ${customer.id}) e`,
    );
    expect(pseudonyms).toHaveLength(1);
    expect(pseudonyms[0]!.email).toMatch(/^erased-[a-z0-9_-]{16}@erased\.invalid$/);

    // Ecwid sends their documents again: erased before they are appended. A customer's webhook
    // names them by email (stored as received): erased when its documents are appended.
    await kit.send({ eventType: 'customer.updated', entityId: customer.id, data: { customerEmail: customer.email } });
    expect(await dump()).toContain(customer.email.toLowerCase());
    for (const o of orders) await kit.send({ eventType: 'order.updated', entityId: o.internalId, data: { orderId: o.id } });
    await kit.pass();
    await projectAll();
    await absent('the projector fetched them again');
    const [row] = await execRows<{ email: string }>(
      db,
      sql`select email from customers where store_id = ${storeA} and customer_id = ${customer.id}`,
    );
    expect(row?.email).toMatch(/^erased-[a-z0-9_-]{16}@erased\.invalid$/);
    // A full reconcile reads every document again: it finds nothing to repair in what was erased.
    expect(await fullReconcileFindings(['customer', 'order'])).toEqual([
      ['customer', 0, 0, 0],
      ['order', 0, 0, 0],
    ]);
    await projectAll();
    await absent('a full reconcile');
  }, 180_000);

  it("the documentation's own customer and order: found through the email they share, and erased everywhere", async () => {
    // The documentation's customer (id 177737165) and order (customerId 270919557): one person, two ids, one email.
    const customer = fixture('customer');
    const order = fixture('order');
    const docStore = 4242;
    await appendRecords(db, [
      { storeId: docStore, entityKind: 'customer', entityId: String(customer.id), payload: customer },
      { storeId: docStore, entityKind: 'order', entityId: String(order.id), payload: order },
    ]);
    await projectAll();
    const strings = [
      'ec.apps@lightspeedhq.com',
      'Support team',
      'API Team',
      'Ecwid API Team',
      'Anhalter Strasse 98',
      '0123456789',
      '80.241.251.10',
    ];
    const before = await dump();
    for (const s of strings) expect(before, s).toContain(s.toLowerCase());
    const totals = await execRows(db, sql`select * from reporting.daily_sales where store_id = ${docStore}`);

    await createRequest(db, { storeId: docStore, kind: 'erase', scope: 'customer', source: 'api', customerId: Number(customer.id) });
    expect(await run()).toBe(1);
    const after = await dump();
    for (const s of strings) expect(after.includes(s.toLowerCase()), s).toBe(false);
    expect(await execRows(db, sql`select * from reporting.daily_sales where store_id = ${docStore}`)).toEqual(totals);
    const [row] = await execRows<{ total: string; payment_status: string; items: number }>(
      db,
      sql`select total::text, payment_status, (select count(*)::int from order_items i where i.store_id = o.store_id and i.order_id = o.order_id) as items
          from orders o where store_id = ${docStore}`,
    );
    expect(row).toEqual({ total: '10', payment_status: 'PAID', items: 1 });
  }, 120_000);

  it("a customer named like the store's coupon and payment method leaves both, and coupon_usage, as they were", async () => {
    // Sarah Cash used the influencer coupon SARAH20 and paid cash; Bob used it too.
    const base = fixture('order') as Record<string, unknown> & { billingPerson: Record<string, unknown> };
    const factStore = 4343;
    const order = (id: string, customerId: number, email: string, first: string, last: string) => ({
      ...base,
      id,
      customerId,
      email,
      paymentMethod: 'Cash on delivery',
      couponDiscount: 2,
      discountCoupon: { id: 77, code: 'SARAH20', name: 'Sarah influencer code' },
      billingPerson: { ...base.billingPerson, name: `${first} ${last}`, firstName: first, lastName: last },
    });
    await appendRecords(db, [
      {
        storeId: factStore,
        entityKind: 'order',
        entityId: 'SC001',
        payload: order('SC001', 880001, 'sarah.cash@example.org', 'Sarah', 'Cash'),
      },
      {
        storeId: factStore,
        entityKind: 'order',
        entityId: 'OT002',
        payload: order('OT002', 880002, 'bob.other@example.org', 'Bob', 'Other'),
      },
    ]);
    await projectAll();
    const coupons = () => execRows(db, sql`select * from reporting.coupon_usage where store_id = ${factStore}`);
    const facts = () =>
      execRows(
        db,
        sql`select order_id, coupon_code, coupon_name, payment_method from orders where store_id = ${factStore} order by order_id`,
      );
    const [couponsBefore, factsBefore] = [await coupons(), await facts()];
    expect(couponsBefore).toMatchObject([{ coupon_code: 'SARAH20', orders: 2 }]);

    await createRequest(db, { storeId: factStore, kind: 'erase', scope: 'customer', source: 'api', email: 'sarah.cash@example.org' });
    expect(await run()).toBe(1);
    expect(await facts()).toEqual(factsBefore);
    expect(await coupons()).toEqual(couponsBefore);
    const [erased] = await execRows<{ email: string }>(
      db,
      sql`select email from orders where store_id = ${factStore} and order_id = 'SC001'`,
    );
    expect(erased!.email).toMatch(/@erased\.invalid$/);
  }, 120_000);

  it('erases what only the log knows yet, a store-wide export made before, and what a failed run of it kept', async () => {
    const { customer, orders, strings } = pickCustomer();
    // A store-wide export first: it holds the customer like every other.
    const storeExport = await createRequest(db, { storeId: storeA, kind: 'export', scope: 'store', source: 'cli' });
    await run();
    const exported = JSON.stringify(await exportDocument((await getRequest(db, storeA, storeExport.id))!)).toLowerCase();
    for (const s of strings) expect(exported, s).toContain(s.toLowerCase());

    // A first erasure fails midway (the export parts' table is gone for a moment), after its
    // progress recorded the subject and every string of theirs.
    const failed = await createRequest(db, { storeId: storeA, kind: 'erase', scope: 'customer', source: 'api', email: customer.email });
    await db.execute(sql`alter table personal_data_export_parts rename to personal_data_export_parts_away`);
    try {
      await run();
    } finally {
      await db.execute(sql`alter table personal_data_export_parts_away rename to personal_data_export_parts`);
    }
    const failedRow = (await getRequest(db, storeA, failed.id))!;
    expect(failedRow.status).toBe('failed');
    // Postgres's own message, not the failed statement with its parameters.
    expect(failedRow.reason).toMatch(/personal_data_export_parts.* does not exist/);
    expect(JSON.stringify(failedRow.progress).toLowerCase()).toContain(customer.email.toLowerCase());

    // A new order of theirs, in the log but not projected yet: only the log knows it.
    const street = '7 Tailend Lane';
    await appendSnapshot(db, {
      storeId: storeA,
      entityKind: 'order',
      entityId: 'TAILEND1',
      payload: await newOrderOf(orders[0]!, 'TAILEND1', street),
    });
    expect(await dump()).toContain(street.toLowerCase());

    await createRequest(db, { storeId: storeA, kind: 'erase', scope: 'customer', source: 'api', customerId: customer.id });
    expect(await run()).toBe(1);
    await projectAll();
    const text = await dump();
    for (const s of [...strings, street]) expect(text.includes(s.toLowerCase()), s).toBe(false);
    // The export is still there, with the customer erased from it; the failed request keeps no subject.
    const after = JSON.stringify(await exportDocument((await getRequest(db, storeA, storeExport.id))!));
    expect(after.length).toBeGreaterThan(exported.length / 2);
    expect((await getRequest(db, storeA, failed.id))!).toMatchObject({ progress: null, subjectEmail: null });
    const [newOrder] = await execRows<{ email: string }>(
      db,
      sql`select email from orders where store_id = ${storeA} and order_id = 'TAILEND1'`,
    );
    expect(newOrder?.email).toMatch(/^erased-[a-z0-9_-]{16}@erased\.invalid$/);
  }, 180_000);

  it('finds the webhooks that name the customer under entities outside their closure: exported, and erased by a run that crashes after every batch', async () => {
    const { customer, strings } = pickCustomer();
    const someoneElse = kit.sim
      .store(storeA)
      .customers.values()
      .find((c) => c.id !== customer.id && c.email.toLowerCase() !== customer.email.toLowerCase() && c.email !== '')!;
    const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
    // Ecwid's documented `customer.deleted` names the customer by email; here under an id the
    // mirror knows only by its tombstone. And an order's and a cart's webhook nobody can tie to
    // the customer by id, with their email in the body, in another case.
    const naming = [
      await kit.send({ eventType: 'customer.deleted', entityId: 880_000_001, data: { customerEmail: upperFirst(customer.email) } }),
      await kit.send({ eventType: 'order.updated', entityId: 880_000_002, data: { orderId: 'NOTTHEIRS1', customerEmail: customer.email } }),
      await kit.send({
        eventType: 'unfinished_order.updated',
        entityId: 'not-their-cart',
        data: { cartId: 'not-their-cart', email: customer.email.toUpperCase() },
      }),
    ].map(Number);
    // Not theirs: someone else's email; and webhooks holding a piece of the customer's name or
    // address inside other text (a namesake's email, another order's note). Only emails, as whole
    // values, lead from a subject to webhooks outside their records: a three-letter name would
    // match inside `order.updated`.
    const { firstName, lastName } = customer.billingPerson as { firstName: string; lastName: string };
    const notNaming = [
      await kit.send({ eventType: 'customer.updated', entityId: 880_000_003, data: { customerEmail: someoneElse.email } }),
      await kit.send({
        eventType: 'customer.updated',
        entityId: 880_000_004,
        data: { customerEmail: `${lastName.toLowerCase()}.${firstName.toLowerCase()}@elsewhere.example` },
      }),
      await kit.send({
        eventType: 'order.updated',
        entityId: 880_000_005,
        data: { orderId: 'NOTTHEIRS2', note: `${lastName}ville depot` },
      }),
    ].map(Number);
    await kit.pass();
    await projectAll();
    // The closure cannot reach them: the deleted customer's row has no email.
    const [tombstoned] = await execRows<{ email: string | null }>(
      db,
      sql`select email from customers where store_id = ${storeA} and customer_id = 880000001`,
    );
    expect(tombstoned).toEqual({ email: null });

    const exportRequest = await createRequest(db, {
      storeId: storeA,
      kind: 'export',
      scope: 'customer',
      source: 'cli',
      customerId: customer.id,
    });
    await run();
    const exported = await exportDocument((await getRequest(db, storeA, exportRequest.id))!);
    const positions = exported.items.filter((i) => i.source === 'log').map((i) => Number(i.position));
    for (const position of naming) expect(positions, `webhook ${position}`).toContain(position);
    for (const position of notNaming) expect(positions, `webhook ${position}`).not.toContain(position);
    // Each record once, though the webhook search passes the records the other stages export.
    expect(new Set(positions).size).toBe(positions.length);
    // The finished request keeps nothing it searched by.
    expect((await getRequest(db, storeA, exportRequest.id))!.progress).toBeNull();

    // The erasure stops after every batch it commits, and a new worker takes it over each time.
    const erase = await createRequest(db, { storeId: storeA, kind: 'erase', scope: 'customer', source: 'api', customerId: customer.id });
    const windowsSearched = new Set<number>();
    for (let crashes = 0; ; crashes++) {
      expect(crashes, 'the erasure makes progress').toBeLessThan(200);
      const controller = new AbortController();
      try {
        expect(await run({ batchSize: 1, signal: controller.signal, onBatch: () => controller.abort() })).toBe(1);
        break;
      } catch (err) {
        expect(String(err)).toMatch(/aborted/);
      }
      const progress = (await getRequest(db, storeA, erase.id))!.progress as { phase: string; webhooksAfter?: number };
      if (progress.phase === 'webhooks') windowsSearched.add(progress.webhooksAfter ?? 0);
      await db.execute(sql`update personal_data_requests set heartbeat_at = now() - interval '1 hour' where id = ${erase.id}`);
    }
    // It stopped within the webhook search more than once, and resumed where it stopped.
    expect(windowsSearched.size).toBeGreaterThan(2);
    expect((await getRequest(db, storeA, erase.id))!.status).toBe('done');
    const text = await dump();
    for (const s of strings) expect(text.includes(s.toLowerCase()), s).toBe(false);
    // The others' webhooks are untouched.
    expect(text).toContain(someoneElse.email.toLowerCase());
    const untouched = await execRows<{ erased_at: Date | null }>(
      db,
      sql`select erased_at from event_log where position in (${sql.join(
        notNaming.map((p) => sql`${p}`),
        sql`, `,
      )})`,
    );
    expect(untouched).toEqual(notNaming.map(() => ({ erased_at: null })));
  }, 180_000);

  it("a store's export holds every row of every table a customer's export reads; a customer's holds their refunds and cart lines", async () => {
    const { customer, orders } = pickCustomer();
    // A refunded order of theirs and an abandoned cart of theirs with a line, as Ecwid would send them.
    const refunded = await newOrderOf(orders[0]!, 'REFUNDED1', '3 Refund Row');
    refunded.refunds = [{ date: '2024-09-05 10:00:00 +0000', amount: 1, reason: 'damaged', source: 'CP' }];
    refunded.refundedAmount = 1;
    await appendSnapshot(db, { storeId: storeA, entityKind: 'order', entityId: 'REFUNDED1', payload: refunded });
    const cart: Record<string, unknown> = {
      ...(await latestDocument('abandoned_cart')),
      cartId: 'THEIR-CART-1',
      email: customer.email,
      customerId: customer.id,
    };
    cart.items = [{ id: 1, productId: 1, name: 'Gift wrap', quantity: 1, price: 1, selectedOptions: [] }];
    await appendSnapshot(db, { storeId: storeA, entityKind: 'abandoned_cart', entityId: 'THEIR-CART-1', payload: cart });
    await projectAll();
    // A webhook of a kind about no person, with an email in its body (a store's erasure erases it from there too).
    const productId = kit.sim.store(storeA).products.values()[0]!.id;
    const emailInProductWebhook = Number(
      await kit.send({ eventType: 'product.updated', entityId: productId, data: { requestedBy: customer.email } }),
    );

    const rowsOf = async (table: string, where = sql`true`) =>
      (
        await execRows<{ r: string }>(
          db,
          sql`select to_jsonb(t)::text as r from ${sql.raw(table)} t where store_id = ${storeA} and ${where}`,
        )
      ).map((row) => JSON.stringify(JSON.parse(row.r)));
    const exportedRows = (document: Awaited<ReturnType<typeof exportDocument>>, table: string) =>
      document.items.filter((i) => i.source === 'table' && i.table === table).map((i) => JSON.stringify(i.row));

    const storeRequest = await createRequest(db, { storeId: storeA, kind: 'export', scope: 'store', source: 'cli' });
    const customerRequest = await createRequest(db, {
      storeId: storeA,
      kind: 'export',
      scope: 'customer',
      source: 'cli',
      customerId: customer.id,
    });
    expect(await run()).toBe(2);
    const storeExport = await exportDocument((await getRequest(db, storeA, storeRequest.id))!);
    expect(storeExport.items.filter((i) => i.source === 'log').map((i) => i.position)).toContain(emailInProductWebhook);
    for (const table of [
      'customers',
      'orders',
      'order_items',
      'order_refunds',
      'invoices',
      'abandoned_carts',
      'abandoned_cart_items',
      'reviews',
    ]) {
      const rows = await rowsOf(table);
      expect(rows.length, `${table} has rows`).toBeGreaterThan(0);
      expect(exportedRows(storeExport, table).sort(), table).toEqual(rows.sort());
    }

    const customerExport = await exportDocument((await getRequest(db, storeA, customerRequest.id))!);
    for (const [table, where] of [
      ['order_refunds', sql`order_id = 'REFUNDED1'`],
      ['abandoned_cart_items', sql`cart_id = 'THEIR-CART-1'`],
    ] as const) {
      const rows = await rowsOf(table, where);
      expect(rows.length, `${table} has their rows`).toBeGreaterThan(0);
      for (const row of rows) expect(exportedRows(customerExport, table), table).toContain(row);
    }
  }, 180_000);

  it('waits for an append in flight before it records the subject, and erases what that append brought', async (ctx) => {
    const skip = concurrencySkipReason('an append held open beside an erasure');
    if (skip) return ctx.skip(skip);
    const { customer, orders, strings } = pickCustomer();
    const street = '9 Inflight Road';
    const other = postgres(kit.database.url!, { max: 1, onnotice: () => {} });
    try {
      const session = await other.reserve();
      // A new order of theirs, appended by another session that has not committed yet.
      await session`begin`;
      await session`insert into event_log (kind, store_id, event_type, entity_kind, entity_id, is_known_type, payload, caused_by, fetched_at)
        values ('snapshot', ${storeA}, 'order', 'order', 'INFLIGHT1', true, ${JSON.stringify(await newOrderOf(orders[0]!, 'INFLIGHT1', street))}::text::jsonb, '{}', now())`;
      const request = await createRequest(db, {
        storeId: storeA,
        kind: 'erase',
        scope: 'customer',
        source: 'api',
        customerId: customer.id,
      });
      const running = run();
      // The erasure waits for the log's append lock, before recording anything.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const waiting = (await getRequest(db, storeA, request.id))!;
      expect(waiting.status).toBe('running');
      expect(waiting.progress).toBeNull();
      await session`commit`;
      session.release();
      expect(await running).toBe(1);
    } finally {
      // A failed check leaves the session inside its transaction: closed at once, not waited for.
      await other.end({ timeout: 0 });
    }
    await projectAll();
    const text = await dump();
    for (const s of [...strings, street]) expect(text.includes(s.toLowerCase()), s).toBe(false);
  }, 180_000);

  it("waits for a rebuild's batch in flight, so the rows it writes to the shadow tables are erased too", async (ctx) => {
    const skip = concurrencySkipReason('a rebuild batch held open beside an erasure');
    if (skip) return ctx.skip(skip);
    const { customer, orders } = pickCustomer();
    // A rebuild's shadow tables, and one of its shares' checkpoints.
    await db.execute(sql`create schema mirror_rebuild`);
    for (const table of ['orders', 'order_items', 'order_refunds', 'orders_rendered']) {
      await db.execute(sql.raw(`create table mirror_rebuild.${table} (like public.${table} including all)`));
    }
    await db.execute(sql`insert into consumer_checkpoints (name, position) values ('rebuild:0', 0)`);
    const other = postgres(kit.database.url!, { max: 1, onnotice: () => {} });
    try {
      const session = await other.reserve();
      // A batch of that share, as projectNextBatch runs one: its checkpoint's row first, then the
      // documents, read before the erasure rewrites them; it commits later.
      await session`begin`;
      await session`update consumer_checkpoints set position = position + 1 where name = 'rebuild:0'`;
      await session`insert into mirror_rebuild.orders select * from public.orders where store_id = ${storeA} and order_id = ${orders[0]!.id}`;
      await createRequest(db, { storeId: storeA, kind: 'erase', scope: 'customer', source: 'api', customerId: customer.id });
      const running = run();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await session`commit`;
      session.release();
      expect(await running).toBe(1);
    } finally {
      await other.end({ timeout: 0 });
    }
    const [shadow] = await execRows<{ email: string }>(
      db,
      sql`select email from mirror_rebuild.orders where store_id = ${storeA} and order_id = ${orders[0]!.id}`,
    );
    expect(shadow?.email).toMatch(/^erased-[a-z0-9_-]{16}@erased\.invalid$/);
  }, 180_000);

  it('an erasure a webhook asks for waits for an operator: cancelled, nothing changes; with PERSONAL_DATA_WEBHOOK_ERASURE=run, it runs', async () => {
    const { customer, strings } = pickCustomer();
    // A forged or replayed removal request (the body is not signed): the operator cancels it.
    await kit.send({ eventType: 'customer.personalDataRemovalRequest', entityId: customer.id, data: { email: customer.email } });
    expect(await run()).toBe(0);
    const [forged] = await db.select().from(personalDataRequestsTable).where(eq(personalDataRequestsTable.kind, 'erase'));
    expect(forged?.status).toBe('awaiting_confirmation');
    expect(await processRequests({ db, log })).toBe(0);
    expect((await answerRequest(db, storeA, forged!.id, 'cancel')).status).toBe('cancelled');
    await expect(answerRequest(db, storeA, forged!.id, 'confirm')).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(answerRequest(db, storeA, 999_999, 'confirm')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await run()).toBe(0);
    const after = await dump();
    for (const s of strings) expect(after, s).toContain(s.toLowerCase());
    expect(await execRows(db, sql`select 1 from erased_subjects`)).toEqual([]);

    // An export a webhook asks for runs at once: it copies nothing out of the database.
    await kit.send({ eventType: 'customer.personalDataExportRequest', entityId: customer.id });
    expect(await run()).toBe(1);

    // An operator who trusts Ecwid's webhooks lets them run.
    await kit.send({ eventType: 'customer.personalDataRemovalRequest', entityId: customer.id, data: { email: customer.email } });
    expect(await run({ erasureWebhooks: 'run' })).toBe(1);
    const text = await dump();
    for (const s of strings) expect(text.includes(s.toLowerCase()), s).toBe(false);
  }, 180_000);

  it('an erasure stopped midway resumes where it stopped and ends as an uninterrupted one', async () => {
    const { customer, strings } = pickCustomer();
    const request = await createRequest(db, {
      storeId: storeA,
      kind: 'erase',
      scope: 'customer',
      source: 'api',
      email: customer.email.toUpperCase(),
    });
    const controller = new AbortController();
    let batches = 0;
    await expect(
      run({
        batchSize: 1,
        signal: controller.signal,
        onBatch: () => {
          if (++batches === 2) controller.abort();
        },
      }),
    ).rejects.toThrow('aborted');
    const stopped = (await getRequest(db, storeA, request.id))!;
    expect(stopped.status).toBe('running');
    expect((stopped.progress as { at: number }).at).toBe(2);
    // Its worker is gone: once the lease runs out another takes it over.
    await db.execute(sql`update personal_data_requests set heartbeat_at = now() - interval '1 hour'`);
    expect(await run()).toBe(1);
    const done = (await getRequest(db, storeA, request.id))!;
    expect(done.status).toBe('done');
    const text = await dump();
    for (const s of strings) expect(text.includes(s.toLowerCase()), s).toBe(false);
  }, 120_000);

  it("a store's erasure erases every customer of it, touches no other store, and stops fetching until it is installed again", async () => {
    const storeCustomers = kit.sim.store(storeA).customers.values();
    const otherTables = async () =>
      Object.fromEntries(
        await Promise.all(
          entityTables.map(async (t) => [
            t,
            await execRows(db, sql.raw(`select to_jsonb(x) as r from "${t}" x where store_id = ${storeB} order by 1`)),
          ]),
        ),
      );
    const otherLog = () => execRows(db, sql`select position, payload from event_log where store_id = ${storeB} order by position`);
    const [tablesB, logB] = [await otherTables(), await otherLog()];
    const totals = await dailyTotals();

    await kit.send({ eventType: 'profile.personalDataRemovalRequest', entityId: storeA });
    await confirmWebhookErasure('store');
    // Still fetching: nothing happened before the confirmation.
    expect((await db.select().from(enrichmentStateTable).where(eq(enrichmentStateTable.storeId, storeA)))[0]?.status).not.toBe(
      'uninstalled',
    );
    expect(await run({ batchSize: 50 })).toBe(1);
    const [request] = await db.select().from(personalDataRequestsTable).where(eq(personalDataRequestsTable.scope, 'store'));
    expect(request).toMatchObject({ status: 'done', kind: 'erase' });
    console.log(`erased a store: ${JSON.stringify(request!.counts)}`);

    const text = await dump();
    for (const c of storeCustomers) {
      for (const s of [c.email, c.billingPerson.name, c.billingPerson.phone, c.billingPerson.street].filter(Boolean)) {
        expect(text.includes(s.toLowerCase()), s).toBe(false);
      }
    }
    expect(await otherTables()).toEqual(tablesB);
    expect(await otherLog()).toEqual(logB);
    expect(await dailyTotals()).toEqual(totals);

    // No more fetching for the store until a new installation.
    const [state] = await db.select().from(enrichmentStateTable).where(eq(enrichmentStateTable.storeId, storeA));
    expect(state?.status).toBe('uninstalled');
    // The stores table, which SQL readers see, says so too (from the log, as an uninstall).
    await projectAll();
    expect(await execRows(db, sql`select status from stores where store_id = ${storeA}`)).toEqual([{ status: 'uninstalled' }]);
    const customer = storeCustomers[0]!;
    // Its webhooks still come and wait, fetched by nobody; the emails in them are erased anyway.
    await kit.send({ eventType: 'customer.updated', entityId: customer.id, data: { customerEmail: customer.email } });
    expect(await dump()).toContain(customer.email.toLowerCase());
    const pass = await kit.pass();
    expect(pass).toMatchObject({ appended: 0, held: true });
    expect(await dump()).not.toContain(customer.email.toLowerCase());
    expect(await otherLog()).toEqual(logB);
  }, 180_000);
});
