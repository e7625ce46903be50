import { spawn, type ChildProcess } from 'node:child_process';
import {
  appendWebhooks,
  consumerCheckpointsTable,
  enrichmentStateTable,
  eventLogTable,
  productsTable,
  categoriesTable,
  type EventLogRow,
} from '@mirror/db';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { webhookLogEntry } from '@mirror/catalog';
import { buildWebhook, createSimulator, type SimServer, type Simulator } from '@mirror/ecwid-sim';
import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, exited, freePort } from './test-process.ts';

/*
 * The worker as it runs in production (`mirror project` in a child process), killed with
 * SIGKILL at random moments and restarted: afterwards every webhook is answered by exactly one
 * record (none lost, none twice) and the tables hold the simulator's current state.
 */

const storeId = 1003;
const token = 'secret_kill_test_token';

let database: TestDatabase;
let sim: Simulator;
let server: SimServer;
const skip = concurrencySkipReason('kill -9 of the worker process');

describe.skipIf(skip)('mirror project under kill -9', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    sim = createSimulator({
      stores: [{ storeId, token, seed: 3, size: { products: 60, orders: 80, categories: 10 } }],
      faults: { latencyMs: 40 },
    });
    server = await sim.listen(0);
  });
  afterAll(async () => {
    await server?.close();
    await database?.close();
  });

  function startWorker(extraEnv: Record<string, string> = {}): ChildProcess {
    return spawn(process.execPath, ['--import', 'tsx', cliPath, 'project'], {
      env: {
        ...process.env,
        ...extraEnv,
        DATABASE_URL: database.url,
        ECWID_API_BASE_URL: server.url,
        ECWID_STORES: `${storeId}:${token}`,
        MIRROR_SECRET_KEY: '02'.repeat(32),
        // Small passes, so a round's webhooks take several and a kill lands between them.
        ENRICHMENT_BATCH_SIZE: '3',
        ENRICHMENT_POLL_MS: '20',
        LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }

  const checkpoint = async () =>
    (await database.db.select().from(enrichmentStateTable).where(eq(enrichmentStateTable.storeId, storeId)))[0]?.position ?? 0;

  it('ends with every webhook answered exactly once and the tables at the current state', async () => {
    const store = sim.store(storeId);
    const products = store.products.values().slice(0, 40);
    const orders = store.orders.values().slice(0, 40);
    const deletedCategory = store.categories.values().at(-1)!;
    store.remove('categories', deletedCategory.id);
    const inputs = [
      ...products.flatMap((p) => [
        { eventType: 'product.updated', entityId: p.id },
        { eventType: 'product.updated', entityId: p.id },
      ]),
      ...orders.map((o) => ({ eventType: 'order.updated', entityId: o.internalId, data: { orderId: o.id } })),
      { eventType: 'category.deleted', entityId: deletedCategory.id },
      { eventType: 'size_chart.updated', entityId: 1 },
    ];
    // Delivered in small groups, as ingest commits them, interleaved with the kills below.
    const rows = inputs.map((input) => {
      const { body, json } = buildWebhook({ storeId, ...input }, sim.clientSecret);
      return webhookLogEntry(body, json);
    });

    let next = 0;
    const killedAt: { checkpoint: number; appendedUpTo: number }[] = [];
    for (let round = 0; round < 5; round++) {
      const take = Math.ceil(rows.length / 5);
      await appendWebhooks(database.db, rows.slice(next, next + take));
      next += take;
      const child = startWorker();
      // Startup (tsx, migrations) takes a while: kill at a random moment once it is working.
      const before = await checkpoint();
      await expect.poll(checkpoint, { timeout: 30_000, interval: 10 }).toBeGreaterThan(before);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 60));
      child.kill('SIGKILL');
      expect((await exited(child)).signal).toBe('SIGKILL');
      const [state] = await database.db.select().from(enrichmentStateTable).where(eq(enrichmentStateTable.storeId, storeId));
      const [top] = await database.db
        .select()
        .from(eventLogTable)
        .where(eq(eventLogTable.kind, 'webhook'))
        .orderBy(desc(eventLogTable.position))
        .limit(1);
      killedAt.push({ checkpoint: state?.position ?? 0, appendedUpTo: top!.position });
    }
    // The kills must have hit a worker with work in hand, or this test would prove nothing.
    expect(
      killedAt.some((k) => k.checkpoint > 0 && k.checkpoint < k.appendedUpTo),
      JSON.stringify(killedAt),
    ).toBe(true);

    const webhooks = await database.db
      .select()
      .from(eventLogTable)
      .where(eq(eventLogTable.kind, 'webhook'))
      .orderBy(asc(eventLogTable.position));
    expect(webhooks).toHaveLength(inputs.length);
    const last = webhooks.at(-1)!.position;
    // The final worker must be up (its signal handlers installed) before it is stopped: when the
    // killed ones already finished the work, the polls below succeed at once.
    const metricsPort = await freePort();
    const finalWorker = startWorker({ METRICS_PORT: String(metricsPort), HOST: '127.0.0.1' });
    await expect
      .poll(async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.status, {
        timeout: 30_000,
        interval: 100,
      })
      .toBe(200);
    await expect
      .poll(
        async () => (await database.db.select().from(enrichmentStateTable).where(eq(enrichmentStateTable.storeId, storeId)))[0]?.position,
        { timeout: 60_000, interval: 200 },
      )
      .toBe(last);
    const head = async () => (await database.db.select().from(eventLogTable).orderBy(asc(eventLogTable.position))).at(-1)!.position;
    await expect
      .poll(
        async () =>
          (await database.db.select().from(consumerCheckpointsTable).where(eq(consumerCheckpointsTable.name, 'projection')))[0]?.position,
        { timeout: 30_000, interval: 200 },
      )
      .toBe(await head());
    finalWorker.kill('SIGTERM');
    expect(await exited(finalWorker)).toEqual({ code: 0, signal: null });

    const records = await database.db
      .select()
      .from(eventLogTable)
      .where(and(eq(eventLogTable.storeId, storeId), inArray(eventLogTable.kind, ['snapshot', 'tombstone'])))
      .orderBy(asc(eventLogTable.position));
    const answers = new Map<number, number>();
    for (const r of records) for (const p of r.causedBy ?? []) answers.set(p, (answers.get(p) ?? 0) + 1);
    for (const w of webhooks) {
      // The size chart has nothing to fetch; every other webhook is answered exactly once.
      expect(answers.get(w.position) ?? 0, `${w.eventType} at ${w.position}`).toBe(w.eventType === 'size_chart.updated' ? 0 : 1);
    }

    // The latest record of each entity is the simulator's current document.
    const latest = new Map<string, EventLogRow>();
    for (const r of records) latest.set(`${r.entityKind}:${r.entityId}`, r);
    for (const p of products)
      expect(latest.get(`product:${p.id}`)?.payload).toMatchObject({ id: p.id, updateTimestamp: p.updateTimestamp });
    for (const o of orders) expect(latest.get(`order:${o.id}`)?.payload).toMatchObject({ id: o.id, updateTimestamp: o.updateTimestamp });
    expect(latest.get(`category:${deletedCategory.id}`)).toMatchObject({ kind: 'tombstone', payload: { reason: 'deleted' } });

    // And the projection made rows of them.
    const productRows = await database.db
      .select()
      .from(productsTable)
      .where(
        inArray(
          productsTable.productId,
          products.map((p) => p.id),
        ),
      );
    expect(productRows).toHaveLength(products.length);
    for (const row of productRows) expect(row.sourcePosition).toBe(latest.get(`product:${row.productId}`)!.position);
    const [category] = await database.db.select().from(categoriesTable).where(eq(categoriesTable.categoryId, deletedCategory.id));
    expect(category?.deletedAt).toBeInstanceOf(Date);
    // Six worker processes start (tsx, migrations) one after another: on a loaded machine that
    // alone can pass the default 30 s.
  }, 180_000);

  it('with METRICS_PORT serves /metrics (REST calls, lag per stage), /readyz, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const product = sim.store(storeId).products.values()[0]!;
    const { body, json } = buildWebhook({ storeId, eventType: 'product.updated', entityId: product.id }, sim.clientSecret);
    await appendWebhooks(database.db, [webhookLogEntry(body, json)]);
    const worker = startWorker({ METRICS_PORT: String(port), HOST: '127.0.0.1' });
    try {
      const scrape = async () => {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
        return res?.ok ? res.text() : '';
      };
      await expect.poll(scrape, { timeout: 60_000, interval: 200 }).toMatch(/mirror_ecwid_requests_total\{status="200"\} [1-9]/);
      const text = await scrape();
      expect(text).toMatch(/mirror_stage_lag_records\{stage="projection"\}/);
      // Entities fetched are counted under the catalogue's public name of their kind.
      expect(text).toMatch(/mirror_entity_fetches_total\{entity="products",outcome="ok"\} [1-9]/);
      expect(text).toMatch(new RegExp(`mirror_stage_lag_records\\{stage="enrichment:${storeId}"\\}`));
      expect(text).toMatch(/mirror_log_head_position [1-9]/);
      expect(text).not.toContain(token);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      worker.kill('SIGTERM');
    }
    expect(await exited(worker)).toEqual({ code: 0, signal: null });
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  }, 120_000);
});
