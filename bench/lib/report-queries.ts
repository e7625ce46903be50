/**
 * The reporting views as docs/reporting.md's example queries use them, on the bench's 1M orders:
 * how long a merchant's report takes (`pnpm bench:api --reports`, decision 0025). Reports of a
 * few days should read those days; reports of the whole history read all of it.
 */
import { execRows } from '@mirror/db';
import { sql, type SQL } from 'drizzle-orm';
import type { BenchDatabase } from './bench-database.ts';
import { formatMs, formatTable } from './report.ts';

export type ReportQuery = { name: string; query: SQL };

/** `lastDay`: the newest order's day, so "the last 30 days" are days with orders. */
export function reportQueries(storeId: number, lastDay: string): ReportQuery[] {
  const since = (days: number) => sql`(${lastDay}::date - ${sql.raw(String(days))})`;
  return [
    {
      name: 'daily sales, the last 7 days',
      query: sql`select * from reporting.daily_sales where store_id = ${storeId} and day >= ${since(7)}`,
    },
    {
      name: 'best sellers, the last 30 days',
      query: sql`select product_id, combination_id, max(name) as name, sum(units) as units, sum(net_sales) as net_sales
        from reporting.product_sales where store_id = ${storeId} and day >= ${since(30)}
        group by product_id, combination_id order by net_sales desc limit 20`,
    },
    {
      name: 'product sales of one day',
      query: sql`select * from reporting.product_sales where store_id = ${storeId} and day = ${since(1)}`,
    },
    {
      name: 'orders that count as sales, one day',
      query: sql`select * from reporting.order_sales where store_id = ${storeId} and day = ${since(1)}`,
    },
    {
      name: 'sales per month, whole history',
      query: sql`select date_trunc('month', day)::date as month, currency, sum(orders) as orders, sum(net_sales) as net
        from reporting.daily_sales where store_id = ${storeId} group by 1, 2 order by 1`,
    },
    {
      name: 'best sellers, whole history',
      query: sql`select product_id, combination_id, sum(units) as units, sum(net_sales) as net_sales
        from reporting.product_sales where store_id = ${storeId} group by product_id, combination_id order by net_sales desc limit 20`,
    },
    {
      name: 'repeat customers, whole history',
      query: sql`select customer_id, email, orders, net_sales from reporting.customer_summary
        where store_id = ${storeId} and orders > 1 order by net_sales desc limit 50`,
    },
  ];
}

export type ReportTiming = { name: string; rows: number; ms: number[] };

/** Each query `runs` times in a row; the first reads what the later ones find cached. */
export async function measureReports(database: BenchDatabase, queries: ReportQuery[], runs: number): Promise<ReportTiming[]> {
  const timings: ReportTiming[] = [];
  for (const { name, query } of queries) {
    const ms: number[] = [];
    let rows = 0;
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      rows = (await execRows(database.db, query)).length;
      ms.push(performance.now() - started);
    }
    timings.push({ name, rows, ms });
  }
  return timings;
}

export function formatReportTimings(timings: ReportTiming[]): string {
  return formatTable(
    ['report (docs/reporting.md)', 'rows', ...timings[0]!.ms.map((_, i) => `run ${i + 1} ms`)],
    timings.map((t) => [t.name, String(t.rows), ...t.ms.map(formatMs)]),
  );
}
