import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { execRows } from '../create-db.ts';
import { createTestDatabase, type TestDatabase } from '../../testing/index.ts';

/*
 * A report of some days reads those days' orders, not the store's whole history: `day` is the
 * orders' creation date in the store's time zone, and `orders_store_sale_day_idx` holds that very
 * expression (migration 0026, decision 0025). On the bench's 1M orders, the last 30 days of
 * product_sales took 9.7 s before, 1.2 s after.
 */
let database: TestDatabase;
const store = 7007;
const days = 300;

beforeAll(async () => {
  database = await createTestDatabase();
  // 3,000 sales over 300 days, ten a day, in a store east of UTC (so the day is not the UTC
  // date), each with two items; and another store's orders on the same days.
  for (const storeId of [store, store + 1]) {
    await database.db.execute(sql`
      insert into orders (store_id, order_id, payment_status, fulfillment_status, total, currency, timezone, created_at, updated_at, doc, source_position, synced_at)
      select ${storeId}, 'D' || g, 'PAID', 'SHIPPED', 10 + g % 7, 'EUR', 'Asia/Tokyo',
             timestamptz '2025-01-01 00:00:00+00' + g * interval '144 minutes', timestamptz '2025-01-01 00:00:00+00' + g * interval '144 minutes',
             '{}'::jsonb, g, now()
      from generate_series(0, ${days * 10 - 1}::int) g`);
    await database.db.execute(sql`
      insert into order_items (store_id, order_id, item_id, product_id, name, quantity, price, doc, source_position, synced_at)
      select ${storeId}, 'D' || g, i, 100 + (g + i) % 5, 'Product ' || ((g + i) % 5), i, 2.5 * i, '{}'::jsonb, g, now()
      from generate_series(0, ${days * 10 - 1}::int) g, generate_series(1, 2) i`);
  }
  await database.db.execute(sql`analyze orders`);
  await database.db.execute(sql`analyze order_items`);
});
afterAll(async () => {
  await database?.close();
});

type PlanNode = {
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Rows Removed by Filter'?: number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
};

/** The rows a query read from each table (its scans' rows kept and filtered out, times their loops), by EXPLAIN ANALYZE. */
async function rowsRead(query: ReturnType<typeof sql>): Promise<Record<string, number>> {
  const [row] = await execRows<{ 'QUERY PLAN': [{ Plan: PlanNode }] | string }>(database.db, sql`explain (analyze, format json) ${query}`);
  const raw = row!['QUERY PLAN'];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw)[0].Plan as PlanNode;
  const read: Record<string, number> = {};
  const walk = (node: PlanNode) => {
    const table = node['Relation Name'];
    if (table)
      read[table] = (read[table] ?? 0) + ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0)) * (node['Actual Loops'] ?? 1);
    node.Plans?.forEach(walk);
  };
  walk(plan);
  return read;
}

test("daily_sales and product_sales of a few days read those days' orders, not the store's history", async () => {
  const lastWeek = sql`day >= date '2025-10-21'`;
  const daily = sql`select * from reporting.daily_sales where store_id = ${store} and ${lastWeek}`;
  const products = sql`select product_id, sum(units) as units, sum(net_sales) as net_sales
    from reporting.product_sales where store_id = ${store} and ${lastWeek} group by product_id order by product_id`;
  // The week's 73 orders and their 146 items, not the 3,000 orders and 6,000 items of the store.
  for (const query of [daily, products]) {
    const read = await rowsRead(query);
    expect(read['orders'], JSON.stringify(read)).toBeLessThanOrEqual(2 * 73);
    expect(read['order_items'] ?? 0, JSON.stringify(read)).toBeLessThanOrEqual(2 * 146);
  }

  // Tokyo is UTC+9: the orders of 2025-10-21 (Tokyo) were placed from 15:00 UTC the day before.
  const rows = await execRows<{ day: string; orders: number }>(database.db, daily);
  expect(rows.map((row) => String(row.day).slice(0, 10)).sort()).toEqual([
    '2025-10-21',
    '2025-10-22',
    '2025-10-23',
    '2025-10-24',
    '2025-10-25',
    '2025-10-26',
    '2025-10-27',
    '2025-10-28',
  ]);
  // Orders every 144 minutes from midnight UTC: 10 a day. The last, order 2999, was placed at
  // 2025-10-27 21:36 UTC, 06:36 on the 28th in Tokyo, whose 28th began at 15:00 UTC: the orders
  // of 16:48, 19:12 and 21:36 UTC.
  expect(rows.map((row) => row.orders)).toEqual([10, 10, 10, 10, 10, 10, 10, 3]);
  // The same figures as the whole history's rows of those days.
  const whole = await execRows(
    database.db,
    sql`select product_id, sum(units) as units, sum(net_sales) as net_sales from (
          select * from reporting.product_sales where store_id = ${store} offset 0) p
        where ${lastWeek} group by product_id order by product_id`,
  );
  expect(await execRows(database.db, products)).toEqual(whole);
  expect(whole).toHaveLength(5);
});
