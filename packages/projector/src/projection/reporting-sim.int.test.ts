import { sql } from 'drizzle-orm';
import { execRows, type Db } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { createActivity, createSimulator, historyEnd, moneyOf, orderSales, type SimServer, type Simulator } from '@mirror/ecwid-sim';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { backfill } from '../backfill/backfill.ts';
import { createClientFactory } from '../enrichment/create-client-factory.ts';
import { projectNextBatch } from './project-batch.ts';

/*
 * The reporting views against the simulator's own figures (docs/reporting.md): three stores
 * with a year of history and a few hundred live changes each (coupons, volume discounts,
 * shipping, handling, cancellations, refunds days after the order), tax-exclusive in USD on New
 * York time, tax-inclusive in NZD on Auckland time and in EUR on Berlin time. For any store and
 * day, daily_sales must hold what the simulator says its orders add up to, and the views must
 * reconcile with each other.
 */

// Seeds pick the stores' money settings: 1004 → USD, 1001 → NZD, 1002 → EUR (moneyPresets).
const stores = [1004, 1001, 1002].map((storeId) => ({ storeId, token: `token_${storeId}` }));

let database: TestDatabase;
let db: Db;
let sim: Simulator;
let server: SimServer;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  // A clock that moves an hour per change, from the end of the generated history: live refunds
  // land days after their orders.
  let clock = historyEnd * 1000;
  sim = createSimulator({ stores: stores.map((s) => ({ ...s, size: { orders: 300 } })), now: () => clock });
  server = await sim.listen(0);
  for (const { storeId } of stores) {
    const activity = createActivity(sim, {
      storeId,
      target: 'http://127.0.0.1:9/unused',
      fetch: async () => new Response(null, { status: 200 }),
    });
    await activity.runChanges(400, { beforeChange: () => void (clock += 3_600_000) });
  }
  const clients = createClientFactory({ baseUrl: server.url });
  for (const { storeId, token } of stores) await backfill({ db, storeId, client: clients(storeId, token) });
  for (;;) if ((await projectNextBatch(db)).caughtUp) break;
}, 300_000);
afterAll(async () => {
  await server?.close();
  await database?.close();
});

const cents = (value: unknown) => Math.round(Number(value) * 100);

type Day = { orders: number; gross: number; discounts: number; refunds: number; shipping: number; taxes: number; total: number };
const emptyDay = (): Day => ({ orders: 0, gross: 0, discounts: 0, refunds: 0, shipping: 0, taxes: 0, total: 0 });

test("daily_sales holds, day by day in the store's time zone and currency, what the simulator's orders add up to", async () => {
  for (const { storeId } of stores) {
    const store = sim.store(storeId);
    const money = moneyOf(store.profile);
    const expected = new Map<string, Day>();
    const dayOf = (day: string) => expected.get(day) ?? expected.set(day, emptyDay()).get(day)!;
    let refundsSeen = 0;
    for (const order of store.orders.values()) {
      const sales = orderSales(order, money);
      if (!sales.counted) continue;
      const d = dayOf(sales.day);
      d.orders += 1;
      d.gross += cents(sales.gross);
      d.discounts += cents(sales.discounts);
      d.shipping += cents(sales.shipping);
      d.taxes += cents(sales.taxes);
      d.total += cents(sales.total);
      for (const refund of sales.refunds) {
        dayOf(refund.day).refunds += cents(refund.amount);
        refundsSeen += refund.day === sales.day ? 0 : 1;
      }
    }
    // The cases are there: refunds on a later day than the sale, discounts, shipping, tax.
    expect(refundsSeen).toBeGreaterThan(0);
    const rows = await execRows<Record<string, string | number>>(
      db,
      sql`select to_char(day, 'YYYY-MM-DD') as day, currency, orders, gross_sales, discounts, refunds, net_sales, shipping, taxes, total_sales
          from reporting.daily_sales where store_id = ${storeId} order by day`,
    );
    expect(new Set(rows.map((row) => row['currency']))).toEqual(new Set([money.currency]));
    const actual = new Map(
      rows.map((row) => [
        String(row['day']),
        {
          orders: Number(row['orders']),
          gross: cents(row['gross_sales']),
          discounts: cents(row['discounts']),
          refunds: cents(row['refunds']),
          shipping: cents(row['shipping']),
          taxes: cents(row['taxes']),
          total: cents(row['total_sales']) + cents(row['refunds']),
        },
      ]),
    );
    expect(actual).toEqual(expected);
    const sums = [...expected.values()].reduce((a, d) => ({ discounts: a.discounts + d.discounts, shipping: a.shipping + d.shipping }), {
      discounts: 0,
      shipping: 0,
    });
    expect(sums.discounts).toBeGreaterThan(0);
    expect(sums.shipping).toBeGreaterThan(0);
  }
});

test('the views reconcile: each day adds up, and products hold all of net sales but what is not theirs', async () => {
  // Each daily row: net = gross - discounts - refunds; total = net + shipping + taxes.
  const broken = await execRows(
    db,
    sql`select * from reporting.daily_sales
        where net_sales <> gross_sales - discounts - refunds or total_sales <> net_sales + shipping + taxes`,
  );
  expect(broken).toEqual([]);
  // product_sales per store, day and currency = daily net sales less surcharges and every figure
  // of orders without line items (docs/reporting.md).
  const mismatched = await execRows(
    db,
    sql`with products as (
          select store_id, day, currency, sum(net_sales) as net, sum(gross_sales) as gross, sum(discounts) as discounts, sum(refunds) as refunds
          from reporting.product_sales group by 1, 2, 3
        ), itemless as (
          select s.store_id, s.order_id from reporting.order_sales s
          where not exists (select 1 from order_items i where i.store_id = s.store_id and i.order_id = s.order_id and i.deleted_at is null)
        ), unattributed as (
          select store_id, day, currency, sum(net) as net from (
            select s.store_id, s.day, s.currency,
                   case when exists (select 1 from itemless x where x.store_id = s.store_id and x.order_id = s.order_id) then s.net_sales else s.surcharges end as net
            from reporting.order_sales s
            union all
            select r.store_id, r.day, r.currency, -r.amount from reporting.refunds r
            join itemless x on x.store_id = r.store_id and x.order_id = r.order_id
          ) u group by 1, 2, 3
        )
        select d.store_id, d.day, d.net_sales, p.net, u.net as unattributed
        from reporting.daily_sales d
        left join products p on p.store_id = d.store_id and p.day = d.day and p.currency = d.currency
        left join unattributed u on u.store_id = d.store_id and u.day = d.day and u.currency = d.currency
        where d.net_sales <> coalesce(p.net, 0) + coalesce(u.net, 0)`,
  );
  expect(mismatched).toEqual([]);
  // Every order has its store's currency; the views' totals are the orders' own.
  const [orders] = await execRows<{ missing: number; total: number }>(
    db,
    sql`select count(*) filter (where currency is null)::int as missing, count(*)::int as total from orders`,
  );
  expect(orders).toEqual({ missing: 0, total: expect.any(Number) });
  expect(orders!.total).toBeGreaterThan(900);
  const [sums] = await execRows<{ same: boolean }>(
    db,
    sql`select (select sum(total_sales) + sum(refunds) from reporting.daily_sales) = (select sum(total_sales) from reporting.order_sales)
           and (select sum(refunds) from reporting.daily_sales) = (select sum(amount) from reporting.refunds)
           and (select sum(net_sales) from reporting.customer_summary) = (select sum(net_sales) from reporting.daily_sales) as same`,
  );
  expect(sums).toEqual({ same: true });
});
