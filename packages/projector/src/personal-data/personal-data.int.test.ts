import { execFileSync } from 'node:child_process';
import { createSilentLogger } from '@mirror/core';
import { createRequest, enrichmentStateTable, execRows, getRequest, personalDataRequestsTable, readExport, type Db } from '@mirror/db';
import type { SimCustomer, SimOrder } from '@mirror/ecwid-sim';
import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKit, storeA, tokenA, type Kit } from '../../testing/enrichment-kit.ts';
import { appendRecords, fixture } from '../../testing/append-records.ts';
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
function pickCustomer(storeId = storeA): { customer: SimCustomer; orders: SimOrder[]; strings: string[] } {
  const store = kit.sim.store(storeId);
  const orders = store.orders.values();
  const customer = store.customers
    .values()
    .find((c) => orders.filter((o) => o.customerId === c.id).length >= 2 && c.billingPerson.street !== '')!;
  const theirs = orders.filter((o) => o.customerId === customer.id || o.email.toLowerCase() === customer.email.toLowerCase());
  const strings = new Set([customer.email, customer.billingPerson.name, customer.billingPerson.phone, customer.billingPerson.street]);
  for (const o of theirs) for (const s of [o.email, o.billingPerson.name, o.billingPerson.phone, o.billingPerson.street]) strings.add(s);
  return { customer, orders: theirs, strings: [...strings].filter((s) => s.length > 0) };
}

const dailyTotals = () => execRows(db, sql`select * from reporting.daily_sales order by 1, 2`);

async function run(extra: Partial<Parameters<typeof processRequests>[0]> = {}) {
  while ((await intakeRequests(db)) > 0);
  return processRequests({ db, log, ...extra });
}

async function exportDocument(request: RequestRow) {
  let text = '';
  for await (const chunk of readExport(db, request)) text += chunk;
  return JSON.parse(text) as { items: { source: string; table?: string; row?: Record<string, unknown>; position?: number }[] };
}

describe('personal data', () => {
  it('erasing a customer leaves none of their strings anywhere, keeps the totals, and holds through rebuild, replay and a new fetch', async () => {
    const { customer, orders, strings } = pickCustomer();
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
    expect((await getRequest(db, storeA, exportRequest.id))!.subjectCustomerId).toBeNull();

    // Tables are a function of the log: a rebuild gives the same rows.
    const tables = await snapshotTables(db);
    await rebuild(db, { force: true });
    expect(await snapshotTables(db)).toEqual(tables);
    await absent('a rebuild');
    await replay(db, { from: 0 });
    await absent('a replay from 0');
    expect(await dailyTotals()).toEqual(totals);

    // Ecwid sends their documents again: erased before they are appended.
    await kit.send({ eventType: 'customer.updated', entityId: customer.id });
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
    const reports = await reconcile({
      db,
      storeId: storeA,
      client: kit.clientFor(storeA, tokenA),
      requestCount: () => 0,
      mode: 'full',
      kinds: ['customer', 'order'],
    });
    expect(reports.map((r) => [r.kind, r.missing, r.stale, r.missedDeletes])).toEqual([
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
    const customer = storeCustomers[0]!;
    await kit.send({ eventType: 'customer.updated', entityId: customer.id });
    const pass = await kit.pass();
    expect(pass.appended).toBe(0);
  }, 180_000);
});
