import { createSilentLogger } from '@mirror/core';
import { createLogSignal, listenForAppends, productsTable } from '@mirror/db';
import { and, eq, sql } from 'drizzle-orm';
import { afterEach, expect, it } from 'vitest';
import { runProjection } from '../projection/run-projection.ts';
import { createKit, storeA, type Kit } from '../../testing/enrichment-kit.ts';
import { runEnrichment } from './run-enrichment.ts';

let kit: Kit;
afterEach(() => kit?.close());

// Polls an hour apart: only the append's notification can explain a row within seconds.
const pollMs = 3_600_000;

it("wakes enrichment at a webhook's commit and projection at the snapshot's, long before either would poll", async () => {
  kit = await createKit();
  const appended = createLogSignal();
  const stopListening = await listenForAppends(kit.database, appended);
  const controller = new AbortController();
  const log = createSilentLogger();
  const workers = Promise.all([
    runEnrichment({ db: kit.db, log, clientFor: kit.clientFor, box: kit.box, signal: controller.signal, pollIntervalMs: pollMs, appended }),
    runProjection({ db: kit.db, log, signal: controller.signal, idleMs: pollMs, appended }),
  ]);
  try {
    // Both have read the empty log and are waiting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const product = kit.sim.store(storeA).products.values()[0]!;
    const started = Date.now();
    // Appended the way ingest appends (appendWebhooks): only the database's NOTIFY reaches enrichment.
    await kit.send({ eventType: 'product.updated', entityId: product.id });
    const row = () =>
      kit.db
        .select({ id: productsTable.productId })
        .from(productsTable)
        .where(and(eq(productsTable.storeId, storeA), eq(productsTable.productId, product.id)));
    await expect.poll(async () => (await row()).length, { timeout: 10_000, interval: 20 }).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
  } finally {
    controller.abort();
    await workers;
    await stopListening();
  }
});

// 300 stores in the log whose webhooks were all answered (their checkpoints at their last one).
async function addQuietStores(count: number) {
  await kit.db.execute(sql`insert into event_log (kind, store_id, event_id, event_type, entity_kind, entity_id, is_known_type, payload)
    select 'webhook', 500000 + s, 'quiet-' || s, 'order.updated', 'order', '1', true, '{}'::jsonb from generate_series(1, ${count}) s`);
  await kit.db.execute(sql`insert into enrichment_state (store_id, position, status)
    select store_id, max(position), 'active' from event_log where store_id > 500000 group by store_id`);
}

type Reading = { at: number; stores: number; full: boolean; ms: number };

/**
 * The enrichment loop listening to the kit's database, each reading of the stores' state kept
 * (with when it ended, performance.now), until `during` settles.
 */
async function whileLooping(
  timing: { pollIntervalMs: number; fullReadIntervalMs: number },
  during: (reads: Reading[]) => Promise<void>,
): Promise<Reading[]> {
  const appended = createLogSignal();
  const stopListening = await listenForAppends(kit.database, appended);
  const reads: Reading[] = [];
  const loop = kit.loop({ ...timing, appended, onRead: (read) => reads.push({ at: performance.now(), ...read }) });
  try {
    await during(reads);
  } finally {
    await loop.stop();
    await stopListening();
  }
  return reads;
}

it('a wake reads the state of the stores its notification names, not of every store in the log', async () => {
  kit = await createKit();
  await addQuietStores(300);
  const reads = await whileLooping({ pollIntervalMs: pollMs, fullReadIntervalMs: pollMs }, async (reads) => {
    await expect.poll(() => reads.length, { timeout: 5_000, interval: 20 }).toBeGreaterThan(0);
    const product = kit.sim.store(storeA).products.values()[0]!;
    await kit.send({ eventType: 'product.updated', entityId: product.id });
    await expect
      .poll(async () => (await kit.records()).filter((r) => r.kind === 'snapshot').length, { timeout: 10_000, interval: 20 })
      .toBeGreaterThan(0);
  });
  // The first reading is of every store: the 300 (the kit's store is in the log once it sends).
  expect(reads[0]).toMatchObject({ stores: 300, full: true });
  const later = reads.slice(1);
  expect(later.length).toBeGreaterThan(0);
  // Each later reading: the named store (and a pass's store again once it ended), never the 301.
  for (const read of later) expect(read).toMatchObject({ stores: 1, full: false });
});

it('every store is still read now and then: work that came without an append is found', async () => {
  kit = await createKit();
  const product = kit.sim.store(storeA).products.values()[0]!;
  await kit.send({ eventType: 'product.updated', entityId: product.id });
  await kit.pass();
  const answered = (await kit.records()).length;
  const reads = await whileLooping({ pollIntervalMs: 50, fullReadIntervalMs: 600 }, async (reads) => {
    // The first reading (of every store) found nothing to do.
    await expect.poll(() => reads.length, { timeout: 5_000, interval: 10 }).toBeGreaterThan(0);
    // Moved back by hand, as an operator replaying the store would: work, and no notification.
    await kit.db.execute(sql`update enrichment_state set position = 0 where store_id = ${storeA}`);
    await expect.poll(async () => (await kit.records()).length, { timeout: 10_000, interval: 20 }).toBeGreaterThan(answered);
  });
  // Found by a later full reading; the wakes between (every 50 ms) read no store at all.
  expect(reads.filter((read) => read.full).length).toBeGreaterThan(1);
  expect(reads.filter((read) => !read.full && read.stores === 0).length).toBeGreaterThan(3);
});

it('reading every store never takes more than a fiftieth of the time: a slow reading comes less often', async () => {
  kit = await createKit();
  await addQuietStores(300);
  // A wake every 10 ms, and every store read at each of them, were it not for the bound.
  const reads = await whileLooping(
    { pollIntervalMs: 10, fullReadIntervalMs: 1 },
    () => new Promise((resolve) => setTimeout(resolve, 1_500)),
  );
  const full = reads.filter((read) => read.full);
  expect(full.length).toBeGreaterThan(1);
  expect(reads.length).toBeGreaterThan(full.length * 2);
  for (let i = 1; i < full.length; i++) {
    const previous = full[i - 1]!;
    const current = full[i]!;
    // From the start of one full reading to the start of the next: at least 50 times the first.
    expect(current.at - current.ms - (previous.at - previous.ms)).toBeGreaterThanOrEqual(50 * previous.ms - 1);
  }
});
