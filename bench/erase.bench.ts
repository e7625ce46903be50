/**
 * How long does erasing one customer take in a store with a million orders? The store's log
 * (1M order snapshots shaped like GET /orders/{id}, 50k customer snapshots) is generated in a
 * fresh database and projected into the tables by `rebuild()`, the product's own path. Then one
 * customer (20 orders) is erased, as Ecwid's request would be carried out, and the bench prints
 * the wall time, the records and rows touched, and, as a baseline from the same run, the time to
 * merely read that customer's records and rows, plus a full scan of the log (what an erasure
 * must not need). The erased customer's email must be gone from their records, and another
 * customer's must not.
 *
 *   pnpm bench:erase [--orders 1000000] [--keep]
 *
 * Postgres from BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test;
 * the database `mirror_bench_erase_<random>` is created there and dropped at the end.
 */
import { createSilentLogger } from '@mirror/core';
import { createRequest, execRows } from '@mirror/db';
import { processRequests, rebuild } from '@mirror/projector';
import { sql } from 'drizzle-orm';
import { createBenchDatabase } from './lib/bench-database.ts';
import { benchAdminUrl, benchLifecycle } from './lib/lifecycle.ts';
import { benchArgs, usageError } from './lib/args.ts';

const { values: args } = benchArgs({
  options: { orders: { type: 'string', default: '1000000' }, keep: { type: 'boolean', default: false } },
});
const orderCount = Number(args.orders);
if (!(orderCount >= 1000)) usageError(`--orders must be at least 1000, got ${args.orders}`);
const customers = Math.max(50, Math.round(orderCount / 20));
const storeId = 4501;
const subjectIndex = Math.min(4242, customers - 2);
const subject = 10_000_000 + subjectIndex;
const other = subject + 1;
const subjectEmail = `customer${subjectIndex}@example.com`;
const otherEmail = `customer${subjectIndex + 1}@example.com`;
const targetMs = 10_000;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const bench = benchLifecycle('erase benchmark');

async function main(): Promise<number> {
  const database = await createBenchDatabase(benchAdminUrl, { prefix: 'mirror_bench_erase', maxConnections: 4 });
  bench.onCleanup(() => (args.keep ? database.close() : database.drop()));
  const db = database.db;
  console.log(`erase bench: a store of ${fmt(orderCount)} orders and ${fmt(customers)} customers; database ${database.name}`);

  const started = performance.now();
  await generateLog(db);
  await rebuild(db, { force: true });
  await db.execute(sql`vacuum (analyze) event_log`);
  for (const table of ['orders', 'order_items', 'customers']) await db.execute(sql.raw(`vacuum (analyze) ${table}`));
  console.log(`log generated and projected by rebuild in ${secs(performance.now() - started)}`);

  // Baselines: reading what the erasure reads, and a full scan it must not need.
  const readStarted = performance.now();
  const [read] = await execRows<{ records: number; rows: number }>(
    db,
    sql`select (select count(*) from event_log e join orders o on e.store_id = o.store_id and e.entity_kind = 'order' and e.entity_id = o.order_id
                 where o.store_id = ${storeId} and o.customer_id = ${subject} and length(e.payload::text) > 0)::int
             + (select count(*) from event_log where store_id = ${storeId} and entity_kind = 'customer' and entity_id = ${String(subject)}
                 and length(payload::text) > 0)::int as records,
           (select count(*) from orders where store_id = ${storeId} and customer_id = ${subject} and length(doc::text) > 0)::int as rows`,
  );
  const readMs = performance.now() - readStarted;
  const scanStarted = performance.now();
  await db.execute(sql`select count(*) from event_log where payload::text like ${`%${subjectEmail}%`}`);
  const scanMs = performance.now() - scanStarted;

  const eraseStarted = performance.now();
  await createRequest(db, { storeId, kind: 'erase', scope: 'customer', source: 'cli', customerId: subject });
  await processRequests({ db, log: createSilentLogger() });
  const eraseMs = performance.now() - eraseStarted;
  const [request] = await execRows<{ status: string; counts: Record<string, number> }>(
    db,
    sql`select status, counts from personal_data_requests where store_id = ${storeId}`,
  );

  const leftOver = await execRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from event_log e where e.store_id = ${storeId}
          and ((e.entity_kind = 'customer' and e.entity_id = ${String(subject)})
            or (e.entity_kind = 'order' and e.entity_id in (select order_id from orders where store_id = ${storeId} and customer_id = ${subject})))
          and lower(e.payload::text) like ${`%${subjectEmail}%`}`,
  );
  const untouched = await execRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from orders where store_id = ${storeId} and customer_id = ${other} and email = ${otherEmail}`,
  );

  console.log(`the customer's data: ${fmt(read?.records ?? 0)} log records, ${fmt(read?.rows ?? 0)} orders`);
  console.log(`erase one customer        ${secs(eraseMs)}   status ${request?.status}, touched ${JSON.stringify(request?.counts)}`);
  console.log(`baseline: read their data ${secs(readMs)}   (erase = ${(eraseMs / Math.max(1, readMs)).toFixed(1)}× reading it)`);
  console.log(
    `baseline: scan the log    ${secs(scanMs)}   (what the erasure does not need: ${(scanMs / eraseMs).toFixed(1)}× the erasure)`,
  );
  const ok = request?.status === 'done' && leftOver[0]!.n === 0 && untouched[0]!.n === 20;
  console.log(
    `check: email gone from their records: ${leftOver[0]!.n === 0 ? 'yes' : 'NO'}; another customer untouched: ${untouched[0]!.n === 20 ? 'yes' : 'NO'}`,
  );
  console.log(`target erase ≤ ${secs(targetMs)}: ${eraseMs <= targetMs ? 'met' : 'MISSED'}`);
  return ok ? 0 : 1;
}

/** Customers, then orders, as snapshot records, 100k per statement. */
async function generateLog(db: Parameters<typeof execRows>[0]): Promise<void> {
  await db.execute(sql`
    insert into event_log (kind, store_id, event_type, entity_kind, entity_id, is_known_type, payload, fetched_at, entity_updated_at)
    select 'snapshot', ${storeId}, 'customer', 'customer', (10000000 + c)::text, true,
      jsonb_build_object('id', 10000000 + c, 'email', 'customer' || c || '@example.com', 'name', 'Customer Person ' || c,
        'billingPerson', jsonb_build_object('name', 'Customer Person ' || c, 'firstName', 'Customer', 'lastName', 'Person ' || c,
          'street', c || ' Mission Street', 'city', 'San Francisco', 'countryCode', 'US', 'postalCode', '94105', 'phone', '+1 415 777 ' || lpad(c::text, 5, '0')),
        'contacts', jsonb_build_array(jsonb_build_object('contact', 'customer' || c || '@example.com', 'type', 'EMAIL')),
        'customerGroupId', 0, 'registered', '2020-01-01 00:00:00 +0000', 'updated', '2024-01-01 00:00:00 +0000'),
      now(), timestamptz '2024-01-01 00:00:00+00'
    from generate_series(0, ${customers - 1}) c`);
  const chunk = 100_000;
  for (let from = 1; from <= orderCount; from += chunk) {
    const to = Math.min(orderCount, from + chunk - 1);
    await db.execute(sql`
      insert into event_log (kind, store_id, event_type, entity_kind, entity_id, is_known_type, payload, fetched_at, entity_updated_at)
      select 'snapshot', ${storeId}, 'order', 'order', 'O' || g, true,
        jsonb_build_object(
          'id', 'O' || g, 'internalId', 500000000 + g, 'orderNumber', g,
          'email', 'customer' || (g % ${customers}) || '@example.com', 'customerId', 10000000 + g % ${customers},
          'paymentStatus', (array['PAID','PAID','PAID','AWAITING_PAYMENT','CANCELLED','REFUNDED'])[1 + g % 6],
          'fulfillmentStatus', (array['AWAITING_PROCESSING','PROCESSING','SHIPPED','DELIVERED'])[1 + (g / 7) % 4],
          'total', round(((g % 997) * 1.37 + 5)::numeric, 2), 'subtotal', round(((g % 997) * 1.37 + 3.5)::numeric, 2), 'tax', 1.5,
          'ipAddress', '203.0.113.' || (g % 250),
          'createDate', to_char(t.created, 'YYYY-MM-DD HH24:MI:SS +0000'), 'createTimestamp', extract(epoch from t.created)::bigint,
          'updateTimestamp', extract(epoch from t.created)::bigint + 7200,
          'billingPerson', jsonb_build_object('name', 'Customer Person ' || (g % ${customers}), 'street', (g % ${customers}) || ' Mission Street',
            'city', 'San Francisco', 'countryCode', 'US', 'postalCode', '94105', 'phone', '+1 415 777 ' || lpad((g % ${customers})::text, 5, '0')),
          'shippingPerson', jsonb_build_object('name', 'Customer Person ' || (g % ${customers}), 'street', (g % ${customers}) || ' Mission Street',
            'city', 'San Francisco', 'countryCode', 'US'),
          'items', (select jsonb_agg(jsonb_build_object('id', i, 'productId', 700000000 + (g * 7 + i) % 5000, 'sku', 'SKU-' || ((g * 7 + i) % 5000),
            'name', 'Product ' || ((g * 7 + i) % 5000), 'price', 9.99 + i, 'quantity', 1 + i % 2)) from generate_series(1, 1 + g % 3) i),
          'orderComments', case when g % 10 = 0 then 'Please leave at the door' end),
        now(), t.created + interval '2 hours'
      from generate_series(${from}::int, ${to}::int) g,
        lateral (select timestamptz '2021-01-01 00:00:00+00' + g * interval '90 seconds' as created) t`);
    if (process.stdout.isTTY) process.stdout.write(`  ${fmt(to)} orders\r`);
  }
}

void bench.run(main);
