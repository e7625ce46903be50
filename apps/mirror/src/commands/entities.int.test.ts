import { randomBytes } from 'node:crypto';
import { discountCouponsTable, eventLogTable } from '@mirror/db';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { createSimulator, type SimServer, type Simulator } from '@mirror/ecwid-sim';
import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './test-process.ts';

/*
 * `--entities` takes the entity catalogue's public names in `mirror backfill` and `mirror
 * rebuild` alike; the older spellings of each still work and say they are deprecated.
 */

const storeId = 1005;
const token = 'secret_entities_test_token';
const secretKey = randomBytes(32).toString('base64');

let database: TestDatabase;
let sim: Simulator;
let server: SimServer;
const skip = concurrencySkipReason('the CLI in a child process beside the test database');

const mirror = (...args: string[]) =>
  runCli(args, {
    DATABASE_URL: database.url,
    ECWID_API_BASE_URL: server.url,
    ECWID_STORES: `${storeId}:${token}`,
    LOG_LEVEL: 'silent',
    MIRROR_SECRET_KEY: secretKey,
    STORE_TOKEN: token,
  });

describe.skipIf(skip)('--entities', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    sim = createSimulator({ stores: [{ storeId, token, seed: 5, size: { products: 5, orders: 5, customers: 3, coupons: 7 } }] });
    server = await sim.listen(0);
  });
  afterAll(async () => {
    await server?.close();
    await database?.close();
  });

  const coupons = () =>
    database.db
      .select()
      .from(discountCouponsTable)
      .where(and(eq(discountCouponsTable.storeId, storeId), isNull(discountCouponsTable.deletedAt)));

  it('mirror backfill --entities discount-coupons copies the coupons and nothing else', async () => {
    const run = await mirror('backfill', '--store', String(storeId), '--entities', 'discount-coupons');
    expect(run).toMatchObject({ code: 0, stderr: expect.not.stringContaining('deprecated') });
    expect(run.stdout).toMatch(/^discount-coupons\s+7 snapshots/m);
    const kinds = await database.db.selectDistinct({ kind: eventLogTable.entityKind }).from(eventLogTable);
    expect(kinds).toEqual([{ kind: 'discount_coupon' }]);
  });

  it('mirror status shows the backfill by the same public names, as text and as JSON', async () => {
    const text = await mirror('status');
    expect(text.stdout).toMatch(new RegExp(`^${storeId}\\s+discount-coupons\\s+done\\s+7 `, 'm'));
    const json = JSON.parse((await mirror('status', '--json')).stdout) as {
      backfill: { storeId: number; entity: string; phase: string }[];
    };
    expect(json.backfill).toEqual([expect.objectContaining({ storeId, entity: 'discount-coupons', phase: 'done' })]);
  });

  it('mirror rebuild --entities discount-coupons rebuilds the coupons table from the log', async () => {
    const run = await mirror('rebuild', '--entities', 'discount-coupons');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^rebuilt 1 tables from 7 records/m);
    expect(await coupons()).toHaveLength(7);
  });

  it('takes the old spellings of both commands and says they are deprecated', async () => {
    const backfill = await mirror('backfill', '--store', String(storeId), '--entities', 'coupons');
    expect(backfill.code).toBe(0);
    expect(backfill.stderr).toContain('"coupons" is deprecated, use "discount-coupons"');
    const rebuild = await mirror('rebuild', '--entities', 'discount_coupon');
    expect(rebuild.code).toBe(0);
    expect(rebuild.stderr).toContain('"discount_coupon" is deprecated, use "discount-coupons"');
    expect(await coupons()).toHaveLength(7);
  });

  it('refuses an unknown name with exit code 2, naming the choices', async () => {
    const run = await mirror('rebuild', '--entities', 'orders,gift-cards');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown entities: gift-cards; choose from profile, subscription, storage, product-types');
    // The store lifecycle is derived from webhooks: backfill has nothing to list for it.
    const backfill = await mirror('backfill', '--store', String(storeId), '--entities', 'stores');
    expect(backfill.code).toBe(2);
    expect(backfill.stderr).toContain('unknown entities: stores');
  });

  it('rebuilds each public name on its own, from a log holding every kind', async () => {
    // Every kind Ecwid is asked for, and the store record `mirror stores add` writes.
    expect((await mirror('stores', 'add', String(storeId), '--token-env', 'STORE_TOKEN')).code).toBe(0);
    expect((await mirror('backfill', '--store', String(storeId))).code).toBe(0);
    const names = publicNames((await mirror('rebuild', '--help')).stdout);
    expect(names).toEqual(expect.arrayContaining(['invoices', 'storage', 'stores', 'orders']));
    for (const name of names) {
      const run = await mirror('rebuild', '--entities', name);
      expect({ name, code: run.code, error: /^mirror: .*/m.exec(run.stderr)?.[0] }).toEqual({ name, code: 0, error: undefined });
      expect(run.stdout).toMatch(/^rebuilt \d+ tables? from \d+ records/m);
    }
  }, 180_000);
});

/** The names `mirror rebuild --help` lists for --entities: "comma list (default all): a,b,c". */
function publicNames(help: string): string[] {
  const listed = /comma list \(default all\):\s+([a-z,-]+)/.exec(help);
  if (!listed) throw new Error(`no entity names in: ${help}`);
  return listed[1]!.split(',');
}
