import { createSilentLogger } from '@mirror/core';
import { createLogSignal, listenForAppends, productsTable } from '@mirror/db';
import { and, eq } from 'drizzle-orm';
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
