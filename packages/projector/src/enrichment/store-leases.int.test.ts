import { concurrencySkipReason } from '@mirror/db/testing';
import postgres from 'postgres';
import { afterEach, expect, it } from 'vitest';
import { createKit, storeA, type Kit } from '../../testing/enrichment-kit.ts';
import { enrichmentLeaseKey } from './store-leases.ts';

let kit: Kit | undefined;
afterEach(() => kit?.close());

/** Runs enrichment with store leases (on `openSession`, by default the kit's database) until `body` ends. */
/** Waits until `k.records()` holds `count` records (fails after the timeout). */
function recordsReach(k: Kit, count: number, poll = { timeout: 10_000, interval: 20 }) {
  return expect.poll(async () => (await k.records()).length, poll).toBe(count);
}

async function withEnrichment(k: Kit, body: () => Promise<void>, openSession = k.database.openSession) {
  const loop = k.loop({ openSession });
  try {
    await body();
  } finally {
    await loop.stop();
  }
}

it('leaves a store alone while another session holds its lease, and takes it up once that session lets go', async (ctx) => {
  const skip = concurrencySkipReason('a store lease held by another session');
  if (skip) return ctx.skip(skip);
  kit = await createKit();
  const k = kit;
  const other = postgres(k.database.url!, { max: 1, onnotice: () => {} });
  try {
    const [session] = await other.reserve().then((c) => [c]);
    await session!`select pg_advisory_lock(${enrichmentLeaseKey}, ${storeA})`;
    const product = k.sim.store(storeA).products.values()[0]!;
    await k.send({ eventType: 'product.updated', entityId: product.id });
    await withEnrichment(k, async () => {
      // Dozens of polls: a store enrichment did not skip would have its snapshot by now.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await k.records()).toHaveLength(0);
      expect(k.sim.stats.requests()).toBe(0);
      await session!`select pg_advisory_unlock(${enrichmentLeaseKey}, ${storeA})`;
      await recordsReach(k, 1);
    });
    // Stopped: the lease connection gave every lock back, so this session gets it at once.
    expect((await session!`select pg_try_advisory_lock(${enrichmentLeaseKey}, ${storeA}) as taken`)[0]!.taken).toBe(true);
    session!.release();
  } finally {
    await other.end();
  }
});

it('opens a new lease connection when its connection is killed, and goes on enriching', async (ctx) => {
  const skip = concurrencySkipReason('a killed lease connection');
  if (skip) return ctx.skip(skip);
  kit = await createKit();
  const k = kit;
  const other = postgres(k.database.url!, { max: 1, onnotice: () => {} });
  try {
    const products = k.sim.store(storeA).products.values();
    await k.send({ eventType: 'product.updated', entityId: products[0]!.id });
    await withEnrichment(k, async () => {
      await recordsReach(k, 1);
      // Between passes the lease connection holds no lock: its last statement tells it apart.
      const killed = await other`
        select pg_terminate_backend(pid) as done from pg_stat_activity
        where datname = current_database() and query like 'select pg_advisory_unlock($1, $2)%'`;
      expect(killed).toEqual([{ done: true }]);
      await k.send({ eventType: 'product.updated', entityId: products[1]!.id });
      await recordsReach(k, 2);
    });
  } finally {
    await other.end();
  }
});

it('goes on enriching without leases when no lease connection can be had', async (ctx) => {
  const skip = concurrencySkipReason('an unreachable lease connection');
  if (skip) return ctx.skip(skip);
  kit = await createKit();
  const k = kit;
  // Nothing listens on port 1: every statement of the lease session fails to connect, while the
  // pool works. Stopping the store for want of a lease would stop the mirror for an optimisation.
  const unreachable = postgres('postgres://postgres@127.0.0.1:1/none', { max: 1, connect_timeout: 1, onnotice: () => {} });
  const product = k.sim.store(storeA).products.values()[0]!;
  await k.send({ eventType: 'product.updated', entityId: product.id });
  await withEnrichment(
    k,
    () => recordsReach(k, 1, { timeout: 15_000, interval: 50 }),
    () => ({ unsafe: (text, params) => unreachable.unsafe(text, params as never[]), end: () => unreachable.end() }),
  );
});
