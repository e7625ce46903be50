import { createSilentLogger } from '@mirror/core';
import { createDb, createLogSignal, execRows, listenForAppends } from '@mirror/db';
import { createTestDatabase, postgresSkipReason, type TestDatabase } from '@mirror/db/testing';
import { sql } from 'drizzle-orm';
import { afterEach, expect, test } from 'vitest';
import { appendRecords, testStoreId } from '../../testing/append-records.ts';
import { logOfEverything } from '../../testing/sample-log.ts';
import type { BatchOutcome } from './project-batch.ts';
import { runProjection } from './run-projection.ts';

let database: TestDatabase | undefined;
afterEach(() => database?.close());

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const checkpointOf = async (db: TestDatabase['db']) =>
  Number(
    (await execRows<{ position: string }>(db, sql`select position from consumer_checkpoints where name = 'projection'`))[0]?.position ?? 0,
  );

test('runs every batch on one connection of its own, kept from batch to batch, and closes it when it stops', async (ctx) => {
  const skip = postgresSkipReason('the projection on a connection of its own', 'needs a Postgres server to open connections to');
  if (skip) return ctx.skip(skip);
  database = await createTestDatabase();
  const { db } = database;
  // The pool it is given is closed: a batch that ran on it would fail, and nothing would be projected.
  const closed = await createDb({ url: database.url });
  await closed.close();

  const projection = () =>
    execRows<{ pid: number }>(
      db,
      sql`select pid from pg_stat_activity where datname = current_database() and application_name = 'ecwid-mirror projection'`,
    );
  const checkpoint = async () =>
    Number(
      (await execRows<{ position: string }>(db, sql`select position from consumer_checkpoints where name = 'projection'`))[0]?.position ??
        0,
    );

  const controller = new AbortController();
  const worker = runProjection({
    db: closed.db,
    log: createSilentLogger(),
    signal: controller.signal,
    idleMs: 10,
    openDedicated: database.openDedicated,
  });
  const pids = new Set<number>();
  try {
    const records = logOfEverything();
    // Several commits, each projected by batches of their own.
    for (let from = 0; from < records.length; from += 6) {
      const positions = await appendRecords(db, records.slice(from, from + 6));
      await expect.poll(checkpoint, { timeout: 10_000, interval: 10 }).toBeGreaterThanOrEqual(positions.at(-1)!);
      for (const { pid } of await projection()) pids.add(pid);
    }
    const [rows] = await execRows<{ n: number }>(db, sql`select count(*)::int as n from products`);
    expect(rows!.n).toBeGreaterThan(0);
  } finally {
    controller.abort();
    await worker;
  }
  expect(pids.size).toBe(1);
  await expect.poll(async () => (await projection()).length, { timeout: 5_000, interval: 20 }).toBe(0);
});

test("runs one batch for records it is told of twice: by its own process, then by the database's notification", async () => {
  database = await createTestDatabase();
  const { db } = database;
  const appended = createLogSignal();
  const stopListening = await listenForAppends(database, appended);
  const controller = new AbortController();
  const batches: BatchOutcome[] = [];
  // Polls an hour apart: every batch below was woken by a signal.
  const worker = runProjection({
    db,
    log: createSilentLogger(),
    signal: controller.signal,
    idleMs: 3_600_000,
    appended,
    onBatch: (outcome) => batches.push(outcome),
  });
  try {
    // The first batch, and the one the listener's connection signals.
    await pause(300);
    batches.length = 0;
    const records = logOfEverything();
    for (let from = 0; from < 18; from += 6) {
      const positions = await appendRecords(db, records.slice(from, from + 6));
      // As enrichment does after its commit; the trigger's notification of the same records follows.
      appended.notify(['snapshot', 'tombstone'], [testStoreId], positions.at(-1));
      await expect.poll(() => checkpointOf(db), { timeout: 10_000, interval: 10 }).toBeGreaterThanOrEqual(positions.at(-1)!);
      await pause(200);
    }
    expect(batches.map((b) => b.records)).toEqual([6, 6, 6]);
  } finally {
    controller.abort();
    await worker;
    await stopListening();
  }
});
