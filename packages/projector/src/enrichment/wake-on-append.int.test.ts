import { createSilentLogger } from '@mirror/core';
import { createLogSignal, enrichmentStateTable, eventLogTable, listenForAppends, productsTable } from '@mirror/db';
import { concurrencySkipReason } from '@mirror/db/testing';
import { and, eq, inArray, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterEach, expect, it } from 'vitest';
import { runProjection } from '../projection/run-projection.ts';
import { createKit, storeA, tokenA, type Kit } from '../../testing/enrichment-kit.ts';
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
  timing: { pollIntervalMs: number; fullReadIntervalMs: number; profileWithOrders?: boolean },
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

it.skipIf(concurrencySkipReason('a pass held while it reads the log (a lock from another connection)'))(
  "a webhook that comes while the pass ahead reads the log is fetched as that pass's fetches start, not after they return",
  async () => {
    kit = await createKit();
    const [order] = kit.sim.store(storeA).orders.values();
    const product = kit.sim.store(storeA).products.values()[0]!;
    const other = postgres(kit.database.url!, { max: 2, onnotice: () => {} });
    try {
      // No store profile fetched with the first order: two requests in all, each a webhook's.
      await whileLooping({ pollIntervalMs: pollMs, fullReadIntervalMs: pollMs, profileWithOrders: false }, async (reads) => {
        await expect.poll(() => reads.length, { timeout: 5_000, interval: 20 }).toBeGreaterThan(0);
        kit.sim.setFaults({ latencyMs: 1_000 });
        kit.sim.stats.reset();
        // An order known only by its internal id: the pass looks it up in `orders` before it
        // fetches, and waits there for the lock taken here.
        const held = await other.reserve();
        await held.unsafe('begin; lock table orders in access exclusive mode');
        const first = (await kit.send({ eventType: 'order.updated', entityId: order!.internalId }))!;
        await expect
          .poll(async () => (await other.unsafe('select count(*)::int as n from pg_locks where not granted'))[0]!.n, {
            timeout: 5_000,
            interval: 10,
          })
          .toBe(1);
        // Notified while that pass is still before its fetches: the loop cannot follow it yet.
        const readsBefore = reads.length;
        const second = (await kit.send({ eventType: 'product.updated', entityId: product.id }))!;
        await expect.poll(() => reads.length, { timeout: 5_000, interval: 10 }).toBeGreaterThan(readsBefore);
        await held.unsafe('commit');
        held.release();
        await expect
          .poll(
            async () => (await kit.db.select().from(enrichmentStateTable).where(eq(enrichmentStateTable.storeId, storeA)))[0]?.position,
            {
              timeout: 10_000,
              interval: 20,
            },
          )
          .toBe(second);
        // Both requests reached Ecwid within 700 ms, while the first was unanswered (1 s): without
        // the follow-up as the first pass's fetches start, the second waits for the first's answer.
        expect(kit.sim.stats.requests(tokenA)).toBe(2);
        expect(kit.sim.stats.maxInAnyWindow(tokenA, 700)).toBe(2);
        const records = await kit.db
          .select({ entityKind: eventLogTable.entityKind, causedBy: eventLogTable.causedBy })
          .from(eventLogTable)
          .where(
            and(
              eq(eventLogTable.storeId, storeA),
              inArray(eventLogTable.kind, ['snapshot', 'tombstone']),
              inArray(eventLogTable.entityKind, ['order', 'product']),
            ),
          )
          .orderBy(eventLogTable.position);
        expect(records).toEqual([
          { entityKind: 'order', causedBy: [first] },
          { entityKind: 'product', causedBy: [second] },
        ]);
      });
    } finally {
      await other.end();
    }
  },
);
