/**
 * Is the query API fast on a big store? Loads 1,000,000 orders (with 1–3 items each and ~1.5 kB
 * Ecwid-shaped documents) into a fresh database, then drives with wrk (a C load generator;
 * bench/wrk/api.lua; 32 connections): a bare Hono server answering a tiny JSON, get-by-id of
 * random orders, and filtered list pages (100 PAID orders, newest first, from a random point in
 * time; the same with 100 SHIPPED orders). Requests carry a per-store API key, as production clients would.
 *
 *   pnpm bench:api [--orders 1000000] [--rounds 5] [--duration 5] [--connections 32] [--threads 1]
 *                  [--warmup 3] [--pool N] [--keep] [--reuse <database>] [--cpu-prof <file prefix>]
 *   pnpm bench:api --filters [--reuse <database>]
 *   pnpm bench:api --reports [--reuse <database>]
 *
 * The bare server and get-by-id are measured in alternating rounds (bare then get-by-id, then
 * get-by-id then bare, …, `--duration` seconds each) and compared round by round: this machine's
 * speed drifts by 20% and more within a minute, so one long run of each compares two different
 * machines. Figures are the medians over the rounds; every round is printed as well.
 *
 * Targets at 32 connections: get-by-id p99 ≤ 5 ms and ≥ 0.5× the bare server's requests/s;
 * list pages ≥ 1,000/s with p99 ≤ 50 ms; a miss prints "MISSED" and exits 0. Wrong answers (any
 * non-2xx, a list page not of 100 PAID rows, a get-by-id of 2,000 sampled concurrently not
 * naming the order asked for) fail the run (exit 1), and so does a saturated load generator
 * (wrk above 90% of a core per thread in any run: it, not the server, set the pace).
 *
 * The database is `BENCH_DATABASE_URL` or `DATABASE_URL` (default
 * postgres://postgres@127.0.0.1:5432/test); the run creates `mirror_bench_api_<random>` there and
 * drops it at the end, also on failure or Ctrl-C. `--keep` leaves it (and prints its name);
 * `--reuse <database>` measures a database a kept run loaded (with the same --orders), skipping
 * the load, and leaves it. `--cpu-prof <prefix>` writes V8 CPU profiles of the server process
 * during the first get-by-id round and the PAID list run (`<prefix>.get-by-id.cpuprofile`, …).
 * `--pool N` sizes the API's connection pool; by default it is the product's own (10).
 *
 * `--filters` measures instead every filter and sort of the orders, products and customers lists
 * with one client (pages of 100, walked by their cursor; bench/lib/filter-matrix.ts) and marks SLOW
 * each whose slowest page took over 50 ms (the list target's p99); a page that is not a 200 fails
 * the run. It adds 100,000 products and 200,000 customers to the store first (once: a reused
 * database keeps them).
 *
 * `--reports` times instead docs/reporting.md's example queries on the reporting views (a few
 * days, and the whole history), three runs each (bench/lib/report-queries.ts).
 */
import { renderStatementText, shareRowsWhere } from '@mirror/catalog';
import { createApiApp, createApiKey } from '@mirror/api';
import { listen } from '@mirror/core/http';
import { createLogger } from '@mirror/core';
import { defaultPoolSize, execRows } from '@mirror/db';
import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { benchAdminUrl, benchLifecycle } from './lib/lifecycle.ts';
import { createBenchDatabase, type BenchDatabase } from './lib/bench-database.ts';
import { withCpuProfile } from './lib/cpu-profile.ts';
import {
  catalogueFilterCases,
  catalogueSize,
  formatFilterTimings,
  loadCatalogue,
  measureFilters,
  orderFilterCases,
} from './lib/filter-matrix.ts';
import { answerCost, formatAnswerCost, measureRunCpu, type AnswerCost } from './lib/cpu.ts';
import { formatReportTimings, measureReports, reportQueries } from './lib/report-queries.ts';
import { describeMachine, formatInt, formatMs, formatPercent, formatTable, mark } from './lib/report.ts';
import { generatorSaturation, runWrk, saturatedAt, type WrkResult } from './lib/run-wrk.ts';
import { benchArgs, nonNegative, positive, usageError } from './lib/args.ts';

const targets = { ratio: 0.5, p99Ms: 5, listPagesPerSecond: 1000, listP99Ms: 50 };
const storeId = 1003;
const firstCreatedMs = Date.UTC(2021, 0, 1);

const { values: args } = benchArgs({
  options: {
    orders: { type: 'string', default: '1000000' },
    // The API's own pool unless told otherwise: measure what ships.
    pool: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    threads: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'string' },
    'cpu-prof': { type: 'string' },
    filters: { type: 'boolean', default: false },
    reports: { type: 'boolean', default: false },
  },
});
const orderCount = positive('orders', args.orders);
const rounds = positive('rounds', args.rounds);
const durationSeconds = positive('duration', args.duration);
const connections = positive('connections', args.connections);
const threads = positive('threads', args.threads);
const warmupSeconds = nonNegative('warmup', args.warmup);
const poolSize = args.pool === undefined ? defaultPoolSize : positive('pool', args.pool);
if (args.filters && args.reports) usageError('--filters and --reports are two different runs: give one of them');

const bench = benchLifecycle('api benchmark');

async function main(): Promise<number> {
  const database = await createBenchDatabase(benchAdminUrl, { prefix: 'mirror_bench_api', maxConnections: poolSize, reuse: args.reuse });
  bench.onCleanup(() => (args.keep ? database.close().then(() => console.log(`kept database ${database.name}`)) : database.drop()));
  console.log(
    args.reports
      ? `api benchmark, the reporting views' example queries — ${formatInt(orderCount)} orders, ${describeMachine()}; database ${database.name}`
      : args.filters
        ? `api benchmark, each filter and sort with one client — ${formatInt(orderCount)} orders, ${describeMachine()}; pool ${poolSize}; database ${database.name}`
        : `api benchmark — ${formatInt(orderCount)} orders, wrk ${threads} thread(s), ${connections} connections, ${rounds} rounds of bare and get-by-id at ${durationSeconds} s each ` +
          `(after ${warmupSeconds} s warm-up), ${describeMachine()}; pool ${poolSize}; database ${database.name}`,
  );

  if (args.reuse === undefined) {
    const loadStarted = performance.now();
    await loadOrders(database, orderCount);
    console.log(`loaded ${formatInt(orderCount)} orders and their items in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);
  } else {
    const [found] = await execRows<{ n: number }>(database.db, sql`select count(*)::int as n from orders where store_id = ${storeId}`);
    if (found?.n !== orderCount)
      throw new Error(`--reuse ${args.reuse}: it holds ${found?.n ?? 0} orders of store ${storeId}, not --orders ${orderCount}`);
  }

  const { key } = await createApiKey(database.db, { storeId, label: 'bench' });
  const api = createApiApp({ db: database.db, log: createLogger({ level: 'silent' }), cursorSecret: 'bench-cursor-secret-0123456789' });
  const bare = new Hono();
  bare.get('/v1/stores/:storeId/orders/:orderId', (c) => c.json({ orderId: c.req.param('orderId') }));

  const apiServer = await listen(api, 0, '127.0.0.1');
  bench.onCleanup(() => new Promise((resolve) => apiServer.server.close(resolve)));
  const bareServer = await listen(bare, 0, '127.0.0.1');
  bench.onCleanup(() => new Promise((resolve) => bareServer.server.close(resolve)));

  const problems = await checkAnswers(api, key);
  if ((args.reports || args.filters) && problems.length) {
    console.log(`FAIL: ${problems.join('; ')}`);
    return 1;
  }
  if (args.reports) {
    const [last] = await execRows<{ day: string }>(
      database.db,
      sql`select max(day)::text as day from reporting.order_sales where store_id = ${storeId}`,
    );
    console.log(formatReportTimings(await measureReports(database, reportQueries(storeId, last!.day), 3)));
    return 0;
  }
  if (args.filters) {
    const loadStarted = performance.now();
    if (await loadCatalogue(database, storeId)) {
      console.log(
        `loaded ${formatInt(catalogueSize.products)} products and ${formatInt(catalogueSize.customers)} customers in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`,
      );
    }
    const timings = await measureFilters({
      baseUrl: `http://127.0.0.1:${apiServer.port}/v1/stores/${storeId}`,
      key,
      cases: [...orderFilterCases({ firstCreatedMs, orderCount }), ...catalogueFilterCases()],
      pages: 10,
      limit: 100,
    });
    console.log(formatFilterTimings(timings, targets.listP99Ms));
    const slow = timings.filter((t) => t.maxMs > targets.listP99Ms);
    console.log(
      `target every page ≤ ${targets.listP99Ms} ms with one client: ` +
        (slow.length ? `MISSED by ${slow.map((t) => `${t.name} (${formatMs(t.maxMs)} ms)`).join(', ')}` : 'met'),
    );
    return 0;
  }

  const load = (port: number, kind: 'get-by-id' | 'list' | 'list-fulfillment', seconds: number, seed: number) =>
    runWrk(
      {
        url: `http://127.0.0.1:${port}`,
        connections,
        threads,
        durationSeconds: seconds,
        script: 'api.lua',
        scriptArgs: [kind, String(storeId), key, String(orderCount), String(firstCreatedMs), String(seed)],
      },
      bench.signal,
    );

  if (warmupSeconds > 0) {
    await load(bareServer.port, 'get-by-id', warmupSeconds, 1);
    await load(apiServer.port, 'get-by-id', warmupSeconds, 1);
    await load(apiServer.port, 'list', warmupSeconds, 1);
  }
  const bareRuns: WrkResult[] = [];
  const getRuns: WrkResult[] = [];
  // CPU per answer of each run (server, Postgres, wrk): what a target has to fit on two cores.
  const bareCosts: AnswerCost[] = [];
  const getCosts: AnswerCost[] = [];
  const costed = async (costs: AnswerCost[], run: () => Promise<WrkResult>) => {
    const { result, cpu } = await measureRunCpu(run);
    costs.push(answerCost(cpu, result.requestsPerSecond));
    return result;
  };
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first, so a drift within a round favours neither.
    const pair = [
      async () => bareRuns.push(await costed(bareCosts, () => load(bareServer.port, 'get-by-id', durationSeconds, 2 + round))),
      async () =>
        getRuns.push(
          await costed(getCosts, () =>
            withCpuProfile(round === 0 && args['cpu-prof'] ? `${args['cpu-prof']}.get-by-id.cpuprofile` : undefined, () =>
              load(apiServer.port, 'get-by-id', durationSeconds, 100 + round),
            ),
          ),
        ),
    ];
    if (round % 2 === 1) pair.reverse();
    for (const run of pair) await run();
    console.log(
      `round ${round + 1}: bare ${formatInt(bareRuns[round]!.requestsPerSecond)} req/s, get-by-id ${formatInt(getRuns[round]!.requestsPerSecond)} req/s ` +
        `(p99 ${formatMs(getRuns[round]!.latency.p99)} ms) → ${(getRuns[round]!.requestsPerSecond / bareRuns[round]!.requestsPerSecond).toFixed(2)}`,
    );
  }
  const listCosts: AnswerCost[] = [];
  const listRun = await costed(listCosts, () =>
    withCpuProfile(args['cpu-prof'] && `${args['cpu-prof']}.list.cpuprofile`, () => load(apiServer.port, 'list', durationSeconds, 4)),
  );
  const fulfillmentRun = await load(apiServer.port, 'list-fulfillment', durationSeconds, 5);
  const bareRun = medianRun(bareRuns);
  const getRun = medianRun(getRuns);
  const ratio = median(getRuns.map((run, i) => run.requestsPerSecond / bareRuns[i]!.requestsPerSecond));

  console.log(
    formatTable(
      ['run', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'non-2xx', 'errors', 'vs bare', 'wrk cpu'],
      [
        [`bare hono (median of ${rounds})`, ...row(bareRun, 1)],
        [`get-by-id (median of ${rounds})`, ...row(getRun, ratio)],
        ['list 100 PAID -createdAt', ...row(listRun, listRun.requestsPerSecond / bareRun.requestsPerSecond)],
        ['list 100 SHIPPED -createdAt', ...row(fulfillmentRun, fulfillmentRun.requestsPerSecond / bareRun.requestsPerSecond)],
      ],
    ),
  );
  const p99 = getRun.latency.p99;
  const ratioOk = ratio >= targets.ratio;
  const p99Ok = p99 <= targets.p99Ms;
  const listOk = listRun.requestsPerSecond >= targets.listPagesPerSecond;
  const listP99Ok = listRun.latency.p99 <= targets.listP99Ms;
  console.log(
    `get-by-id p99 (median of the rounds): ${formatMs(p99)} ms (target ≤ ${targets.p99Ms}) ${mark(p99Ok)}  ` +
      `get-by-id/bare (median of the rounds' ratios): ${ratio.toFixed(3)} (target ≥ ${targets.ratio}) ${mark(ratioOk)}\n` +
      `list: ${formatInt(listRun.requestsPerSecond)} pages/s (target ≥ ${formatInt(targets.listPagesPerSecond)}) ${mark(listOk)}  ` +
      `p99 ${formatMs(listRun.latency.p99)} ms (target ≤ ${targets.listP99Ms}) ${mark(listP99Ok)}`,
  );
  // The cost of an answer in CPU, median over the rounds, and the most answers/s two cores give
  // at that cost: a target above that ceiling needs cheaper answers, not a quieter machine.
  const bareCost = medianCost(bareCosts);
  const getCost = medianCost(getCosts);
  const listCost = listCosts[0]!;
  console.log(
    `cpu per answer (median of the rounds): bare ${formatAnswerCost(bareCost)}; get-by-id ${formatAnswerCost(getCost)}; ` +
      `at get-by-id's cost this machine answers at most ${formatInt(getCost.ceiling)}/s (${(getCost.ceiling / bareRun.requestsPerSecond).toFixed(2)}× bare; target ${targets.ratio}×)\n` +
      `cpu per list page: ${formatAnswerCost(listCost)}; at that cost this machine serves at most ${formatInt(listCost.ceiling)} pages/s (target ${formatInt(targets.listPagesPerSecond)})`,
  );
  const cpus = [...bareRuns, ...getRuns, listRun, fulfillmentRun].map((r) => r.cpuPerThread);
  console.log(
    `load generator: wrk used at most ${formatPercent(Math.max(...cpus))} of a core per thread in any run (fails above ${formatPercent(saturatedAt)})`,
  );
  problems.push(
    ...generatorSaturation([
      ...bareRuns.map((result, i) => ({ name: `bare round ${i + 1}`, result })),
      ...getRuns.map((result, i) => ({ name: `get-by-id round ${i + 1}`, result })),
      { name: 'list', result: listRun },
      { name: 'list-fulfillment', result: fulfillmentRun },
    ]),
  );
  problems.push(...(await checkConcurrentAnswers(apiServer.port, key)));
  for (const [name, run] of [
    ...getRuns.map((r) => ['get-by-id', r] as const),
    ['list', listRun] as const,
    ['list-fulfillment', fulfillmentRun] as const,
  ]) {
    if (run.non2xx > 0 || run.errors > 0) problems.push(`${name}: non-2xx ${run.non2xx}, errors ${run.errors}`);
  }
  console.log(`plans: ${(await explainPlans(database)).join('; ')}`);
  if (problems.length) {
    console.log(`FAIL: ${problems.join('; ')}`);
    return 1;
  }
  console.log(`target get-by-id p99 ≤ ${targets.p99Ms} ms: ${p99Ok ? 'met' : 'MISSED'}`);
  console.log(`target get-by-id ≥ ${targets.ratio}× bare req/s: ${ratioOk ? 'met' : 'MISSED'}`);
  console.log(`target list ≥ ${formatInt(targets.listPagesPerSecond)} pages/s: ${listOk ? 'met' : 'MISSED'}`);
  console.log(`target list p99 ≤ ${targets.listP99Ms} ms: ${listP99Ok ? 'met' : 'MISSED'}`);
  return 0;
}

/**
 * 1M orders in one statement per 100k: generate_series and jsonb_build_object, shaped like
 * GET /orders/{id} (billing and shipping person, items, shipping option), about 1.5 kB each.
 */
async function loadOrders(database: BenchDatabase, count: number): Promise<void> {
  const chunk = 100_000;
  for (let from = 1; from <= count; from += chunk) {
    const to = Math.min(count, from + chunk - 1);
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`set local synchronous_commit = off`);
      await tx.execute(sql`
        insert into orders (store_id, order_id, internal_id, order_number, email, customer_id, payment_status, fulfillment_status,
          total, subtotal, tax, refunded_amount, coupon_code, currency, hidden, created_at, updated_at, doc, source_position, synced_at)
        select ${storeId}, 'O' || g, 500000000 + g, g, 'customer' || (g % 50000) || '@example.com', 10000000 + g % 50000,
          (array['PAID','PAID','PAID','AWAITING_PAYMENT','CANCELLED','REFUNDED'])[1 + g % 6],
          (array['AWAITING_PROCESSING','PROCESSING','SHIPPED','DELIVERED'])[1 + (g / 7) % 4],
          t.total, t.total - 1.5, 1.5, 0, case when g % 20 = 0 then 'SPRING' end, 'USD', false, t.created, t.created + interval '2 hours',
          jsonb_build_object(
            'id', 'O' || g, 'internalId', 500000000 + g, 'orderNumber', g, 'vendorOrderNumber', 'O' || g,
            'email', 'customer' || (g % 50000) || '@example.com', 'customerId', 10000000 + g % 50000,
            'paymentStatus', (array['PAID','PAID','PAID','AWAITING_PAYMENT','CANCELLED','REFUNDED'])[1 + g % 6],
            'fulfillmentStatus', (array['AWAITING_PROCESSING','PROCESSING','SHIPPED','DELIVERED'])[1 + (g / 7) % 4],
            'total', t.total, 'subtotal', t.total - 1.5, 'tax', 1.5, 'usdTotal', t.total, 'currency', 'USD',
            'paymentMethod', 'Credit card', 'paymentModule', 'Stripe', 'ipAddress', '203.0.113.' || (g % 250),
            'createDate', to_char(t.created, 'YYYY-MM-DD HH24:MI:SS +0000'), 'createTimestamp', extract(epoch from t.created)::bigint,
            'updateDate', to_char(t.created + interval '2 hours', 'YYYY-MM-DD HH24:MI:SS +0000'),
            'customerUserAgent', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
            'billingPerson', jsonb_build_object('name', 'Customer ' || g, 'companyName', 'Company ' || (g % 900), 'street', (g % 999) || ' Market Street',
              'city', 'San Francisco', 'countryCode', 'US', 'countryName', 'United States', 'postalCode', '94103', 'stateOrProvinceCode', 'CA', 'phone', '+1 415 555 ' || (g % 10000)),
            'shippingPerson', jsonb_build_object('name', 'Customer ' || g, 'street', (g % 999) || ' Market Street', 'city', 'San Francisco',
              'countryCode', 'US', 'postalCode', '94103', 'stateOrProvinceCode', 'CA', 'phone', '+1 415 555 ' || (g % 10000)),
            'shippingOption', jsonb_build_object('shippingMethodName', 'UPS Ground', 'shippingRate', 5, 'estimatedTransitTime', '3-5 days', 'isPickup', false),
            'items', (select jsonb_agg(jsonb_build_object('id', i, 'productId', 700000000 + (g * 7 + i) % 5000, 'sku', 'SKU-' || ((g * 7 + i) % 5000),
              'name', 'Product ' || ((g * 7 + i) % 5000), 'price', 9.99 + i, 'quantity', 1 + i % 2, 'weight', 0.5,
              'selectedOptions', jsonb_build_array(jsonb_build_object('name', 'Size', 'value', 'M', 'type', 'CHOICE'))))
              from generate_series(1, 1 + g % 3) i),
            'orderComments', case when g % 10 = 0 then 'Please leave at the door' end,
            'hidden', false, 'refundedAmount', 0),
          g, now()
        from generate_series(${from}::int, ${to}::int) g,
          lateral (select round(((g % 997) * 1.37 + 5)::numeric, 2) as total,
                          timestamptz '2021-01-01 00:00:00+00' + g * interval '90 seconds' as created) t`);
      await tx.execute(sql`
        insert into order_items (store_id, order_id, item_id, product_id, sku, name, quantity, price, doc, source_position, synced_at)
        select ${storeId}, 'O' || g, i, 700000000 + (g * 7 + i) % 5000, 'SKU-' || ((g * 7 + i) % 5000), 'Product ' || ((g * 7 + i) % 5000),
          1 + i % 2, 9.99 + i, jsonb_build_object('id', i, 'productId', 700000000 + (g * 7 + i) % 5000), g, now()
        from generate_series(${from}::int, ${to}::int) g, generate_series(1, 1 + g % 3) i`);
    });
    if (process.stdout.isTTY) process.stdout.write(`  ${formatInt(to)} orders\r`);
  }
  // The lists' stored printing of each order, as projection writes it beside the order (decision
  // 0022), here on two connections.
  const printStarted = performance.now();
  await Promise.all(
    [0, 1].map((share) =>
      database.db.transaction(async (tx) => {
        await tx.execute(sql`set local synchronous_commit = off`);
        await tx.execute(sql.raw(renderStatementText('order', 'public', shareRowsWhere('order', share, 2))));
      }),
    ),
  );
  console.log(`printed their list renderings in ${((performance.now() - printStarted) / 1000).toFixed(1)} s (2 connections)`);
  // As autovacuum leaves a live mirror's tables: hint bits and visibility map set, statistics
  // gathered. Without it the measured reads would be the first to touch each row, each dirtying
  // its page to set hint bits (work a live table has long had done).
  await database.db.execute(sql`vacuum (analyze) orders`);
  await database.db.execute(sql`vacuum (analyze) order_items`);
  await database.db.execute(sql`vacuum (analyze) orders_rendered`);
}

/** One request of each kind, checked for the right answer, before any load. */
async function checkAnswers(api: ReturnType<typeof createApiApp>, key: string): Promise<string[]> {
  const problems: string[] = [];
  const headers = { authorization: `Bearer ${key}` };
  const n = Math.min(12345, orderCount);
  const one = await api.request(`/v1/stores/${storeId}/orders/O${n}`, { headers });
  const order = (await one.json()) as { orderId?: string; items?: unknown[]; doc?: unknown };
  if (one.status !== 200 || order.orderId !== `O${n}` || order.items?.length !== 1 + (n % 3) || !order.doc) {
    problems.push(`get-by-id answered ${one.status} ${JSON.stringify(order).slice(0, 200)}`);
  }
  const createdTo = new Date(firstCreatedMs + (orderCount / 2) * 90_000).toISOString();
  const page = await api.request(`/v1/stores/${storeId}/orders?paymentStatus=PAID&sort=-createdAt&limit=100&createdTo=${createdTo}`, {
    headers,
  });
  const body = (await page.json()) as { data?: { paymentStatus: string; items: unknown[] }[]; nextCursor?: string };
  if (
    page.status !== 200 ||
    body.data?.length !== 100 ||
    body.data.some((o) => o.paymentStatus !== 'PAID' || o.items.length === 0) ||
    !body.nextCursor
  ) {
    problems.push(`list answered ${page.status} with ${body.data?.length ?? 0} rows`);
  }
  return problems;
}

/**
 * A sample of get-by-id answers under concurrency, over HTTP as the load sends them: 32 clients,
 * 2,000 random orders, each must be a 200 naming the order asked for, with its items and doc.
 * (The load runs count statuses only; the server batches concurrent lookups, so a mix-up would
 * still be a 200.)
 */
async function checkConcurrentAnswers(port: number, key: string): Promise<string[]> {
  const problems: string[] = [];
  let left = 2000;
  let seed = 7;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return 1 + (seed % orderCount);
  };
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (left-- > 0) {
        const n = next();
        const res = await fetch(`http://127.0.0.1:${port}/v1/stores/${storeId}/orders/O${n}`, {
          headers: { authorization: `Bearer ${key}` },
        });
        const body = (await res.json()) as { orderId?: string; items?: unknown[]; doc?: { id?: string } };
        if (res.status !== 200 || body.orderId !== `O${n}` || body.doc?.id !== `O${n}` || body.items?.length !== 1 + (n % 3)) {
          if (problems.length < 3)
            problems.push(`get-by-id O${n} under concurrency answered ${res.status} ${JSON.stringify(body).slice(0, 120)}`);
        }
      }
    }),
  );
  return problems;
}

/** The plans of the two queries as the API issues them (first line of each, index names). */
async function explainPlans(database: BenchDatabase): Promise<string[]> {
  const plan = async (label: string, query: ReturnType<typeof sql>) => {
    const rows = await execRows<{ 'QUERY PLAN': string }>(database.db, sql`explain ${query}`);
    const text = rows.map((r) => r['QUERY PLAN']).join(' ');
    const indexes = [...new Set([...text.matchAll(/using (\w+)/gi)].map((m) => m[1]))];
    return `${label}: ${indexes.length ? indexes.join(', ') : 'NO INDEX'}${/Seq Scan/.test(text) ? ' + Seq Scan' : ''}`;
  };
  return [
    await plan('get-by-id', sql`select * from orders where store_id = ${storeId} and order_id = 'O5' and deleted_at is null limit 1`),
    await plan(
      'list',
      sql`select order_id from orders where store_id = ${storeId} and deleted_at is null and payment_status = 'PAID' and created_at <= now()
          and created_at is not null order by created_at desc, order_id desc limit 101`,
    ),
    await plan(
      'list-fulfillment',
      sql`select order_id from orders where store_id = ${storeId} and deleted_at is null and fulfillment_status = 'SHIPPED'
          and created_at <= now() and created_at is not null order by created_at desc, order_id desc limit 101`,
    ),
  ];
}

function row(run: WrkResult, vsBare: number): string[] {
  return [
    formatInt(run.requestsPerSecond),
    formatMs(run.latency.p50),
    formatMs(run.latency.p99),
    formatMs(run.latency.p999),
    formatInt(run.non2xx),
    formatInt(run.errors),
    vsBare.toFixed(2),
    formatPercent(run.cpuPerThread),
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Each figure the median over the rounds (ceiling recomputed from them would differ little). */
function medianCost(costs: AnswerCost[]): AnswerCost {
  const pick = (key: keyof AnswerCost) => median(costs.map((c) => c[key]));
  return {
    serverUs: pick('serverUs'),
    postgresUs: pick('postgresUs'),
    loadUs: pick('loadUs'),
    totalUs: pick('totalUs'),
    ceiling: pick('ceiling'),
  };
}

/** Each figure the median over the runs (requests/s and each percentile on its own); counts summed. */
function medianRun(runs: WrkResult[]): WrkResult {
  const latency = Object.fromEntries(
    Object.keys(runs[0]!.latency).map((k) => [k, median(runs.map((r) => r.latency[k as keyof WrkResult['latency']]))]),
  ) as WrkResult['latency'];
  return {
    ...runs[0]!,
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    latency,
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    cpuPerThread: median(runs.map((r) => r.cpuPerThread)),
  };
}

await bench.run(main);
