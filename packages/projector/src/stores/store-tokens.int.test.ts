import { randomBytes } from 'node:crypto';
import { createSecretBox, tokenFingerprint } from '@mirror/core';
import { enrichmentStateTable, eventLogTable, execRows, storeTokensTable, type Db } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { asc, eq, sql } from 'drizzle-orm';
import { createSimulator } from '@mirror/ecwid-sim';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClientFactory } from '../enrichment/create-client-factory.ts';
import { subjectHasher } from '../personal-data/subject-key.ts';
import {
  addStoreToken,
  createTokenCache,
  readStoreToken,
  readStoreTokens,
  registerStoreToken,
  rotateSecretKey,
  RotationError,
  sealPlaintextTokens,
  syncEnvTokens,
  hasRealStores,
  honouredBy,
} from './store-tokens.ts';

let database: TestDatabase;
let db: Db;
const box = createSecretBox(randomBytes(32));
beforeEach(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterEach(() => database.close());

const rows = async () => (await db.select().from(storeTokensTable).orderBy(storeTokensTable.storeId)).map((r) => [r.storeId, r.source]);
const tokens = async () => Object.fromEntries(await readStoreTokens(db, box));
/** Every text value of store_tokens, as a dump would show it. */
const dumpText = async () => JSON.stringify(await execRows(db, sql`select * from store_tokens`));
const storeRecords = async (storeId: number) =>
  (
    await db
      .select()
      .from(eventLogTable)
      .where(sql`${eventLogTable.storeId} = ${storeId} and ${eventLogTable.entityKind} = 'store'`)
      .orderBy(asc(eventLogTable.position))
  ).map((r) => (r.payload as { status: string }).status);

/** A store uninstalled on 2026-01-01: its lifecycle record in the log, enrichment at position 42. */
async function uninstalledStore(storeId: number) {
  await db.insert(eventLogTable).values({
    kind: 'snapshot',
    storeId,
    eventType: 'store',
    entityKind: 'store',
    entityId: String(storeId),
    isKnownType: true,
    payload: { status: 'uninstalled', at: '2026-01-01T00:00:00Z' },
    fetchedAt: new Date(),
  });
  await db.insert(enrichmentStateTable).values({ storeId, position: 42, status: 'uninstalled', lifecycleAt: new Date('2026-01-01') });
}

describe('syncEnvTokens', () => {
  it('leaves every token alone when ECWID_STORES is empty (a worker started without it)', async () => {
    await syncEnvTokens(db, box, [{ storeId: 1, token: 'secret_one' }]);
    await addStoreToken(db, box, 2, 'secret_two');
    await syncEnvTokens(db, box, []);
    expect(await rows()).toEqual([
      [1, 'env'],
      [2, 'cli'],
    ]);
    expect(await tokens()).toEqual({ 1: 'secret_one', 2: 'secret_two' });
  });

  it('drops env tokens no longer listed and keeps CLI ones', async () => {
    await syncEnvTokens(db, box, [
      { storeId: 1, token: 'secret_one' },
      { storeId: 3, token: 'secret_three' },
    ]);
    await addStoreToken(db, box, 2, 'secret_two');
    await syncEnvTokens(db, box, [{ storeId: 3, token: 'secret_three_new' }]);
    expect(await tokens()).toEqual({ 2: 'secret_two', 3: 'secret_three_new' });
  });
});

describe('registerStoreToken', () => {
  it('keeps the token sealed: no column holds it in clear, and it opens only for its own store', async () => {
    await addStoreToken(db, box, 1, 'secret_clear_text_token_1');
    expect(await dumpText()).not.toContain('secret_clear_text_token_1');
    const [row] = await db.select().from(storeTokensTable);
    expect(row).toMatchObject({ token: null, tokenFingerprint: tokenFingerprint('secret_clear_text_token_1') });
    expect(await readStoreToken(db, box, 1)).toBe('secret_clear_text_token_1');
    // The sealed value moved to another store's row does not open there.
    await db.insert(storeTokensTable).values({ storeId: 2, tokenSealed: row!.tokenSealed, source: 'cli' });
    await expect(readStoreToken(db, box, 2)).rejects.toThrow(/moved from another row/);
  });

  it('installs a store seen for the first time: a lifecycle record and a backfill to do', async () => {
    const outcome = await registerStoreToken(db, box, { storeId: 5, token: 'secret_five', source: 'oauth', scopes: ['read_orders'] });
    expect(outcome).toEqual({ changed: true, installed: true, catchUp: 'backfill' });
    expect(await storeRecords(5)).toEqual(['active']);
    const [row] = await db.select().from(storeTokensTable);
    expect(row).toMatchObject({ scopes: ['read_orders'], source: 'oauth', catchUp: 'backfill' });
    // The same token again (ECWID_STORES at every start) changes nothing.
    expect(await registerStoreToken(db, box, { storeId: 5, token: 'secret_five', source: 'oauth' })).toEqual({
      changed: false,
      installed: false,
      catchUp: null,
    });
    expect(await storeRecords(5)).toEqual(['active']);
  });

  it('brings an uninstalled store back: active again, at its checkpoint, with a reconcile to do', async () => {
    await uninstalledStore(6);
    const now = new Date('2026-02-01T00:00:00Z');
    expect(await registerStoreToken(db, box, { storeId: 6, token: 'secret_six_new', source: 'cli', now })).toEqual({
      changed: true,
      installed: true,
      catchUp: 'reconcile',
    });
    expect(await storeRecords(6)).toEqual(['uninstalled', 'active']);
    const [state] = await db.select().from(enrichmentStateTable).where(eq(enrichmentStateTable.storeId, 6));
    expect(state).toMatchObject({ position: 42, status: 'active', lifecycleAt: now, retryAt: null });
  });

  it('does not install an uninstalled store again from ECWID_STORES at a start: the token is kept, nothing appended', async () => {
    await uninstalledStore(8);
    // Every start reads the same configuration: it says nothing new about the store.
    for (let start = 0; start < 2; start++) {
      expect(await syncEnvTokens(db, box, [{ storeId: 8, token: 'secret_eight' }])).toEqual({ uninstalled: [8], reinstalled: [] });
    }
    expect(await storeRecords(8)).toEqual(['uninstalled']);
    const [state] = await db.select().from(enrichmentStateTable).where(eq(enrichmentStateTable.storeId, 8));
    expect(state).toMatchObject({ position: 42, status: 'uninstalled' });
    expect(await rows()).toEqual([[8, 'env']]);
    expect(await readStoreToken(db, box, 8)).toBe('secret_eight');
    // A store not uninstalled is installed by it, as before.
    expect(
      await syncEnvTokens(db, box, [
        { storeId: 8, token: 'secret_eight' },
        { storeId: 9, token: 'secret_nine' },
      ]),
    ).toEqual({
      uninstalled: [8],
      reinstalled: [],
    });
    expect(await storeRecords(9)).toEqual(['active']);
  });

  it('installs an uninstalled store again when Ecwid answers with its ECWID_STORES token, and only then', async () => {
    const sim = createSimulator({ stores: [{ storeId: 8, token: 'secret_eight' }] });
    const server = await sim.listen(0);
    try {
      const honoured = honouredBy(createClientFactory({ baseUrl: server.url }), { warn: () => {} });
      await uninstalledStore(8);
      // Ecwid refuses the token: the app is not installed again, whatever the configuration says.
      sim.store(8).uninstall();
      expect(await syncEnvTokens(db, box, [{ storeId: 8, token: 'secret_eight' }], { honoured })).toEqual({
        uninstalled: [8],
        reinstalled: [],
      });
      expect(await storeRecords(8)).toEqual(['uninstalled']);
      // Installed again, with a new token the operator lists: Ecwid answers with it.
      sim.store(8).install('secret_eight_again');
      expect(await syncEnvTokens(db, box, [{ storeId: 8, token: 'secret_eight_again' }], { honoured })).toEqual({
        uninstalled: [],
        reinstalled: [8],
      });
      expect(await storeRecords(8)).toEqual(['uninstalled', 'active']);
      const [state] = await db.select().from(enrichmentStateTable).where(eq(enrichmentStateTable.storeId, 8));
      // Enrichment resumes at its checkpoint, so what was logged meanwhile is fetched, and a
      // reconcile catches up what changed while nobody looked.
      expect(state).toMatchObject({ position: 42, status: 'active' });
      expect((await db.select().from(storeTokensTable).where(eq(storeTokensTable.storeId, 8)))[0]?.catchUp).toBe('reconcile');
      // The next start says nothing new.
      expect(await syncEnvTokens(db, box, [{ storeId: 8, token: 'secret_eight_again' }], { honoured })).toEqual({
        uninstalled: [],
        reinstalled: [],
      });
      expect(await storeRecords(8)).toEqual(['uninstalled', 'active']);

      // A store erased whole is not asked about: its fetching stays stopped, its token honoured or not.
      await uninstalledStore(10);
      await db.execute(sql`insert into erased_subjects (store_id, subject_hash, request_id)
        values (10, ${(await subjectHasher(db)).store(10)}, 1)`);
      let asked = 0;
      const counting = async (storeId: number, token: string) => (asked++, honoured(storeId, token));
      expect(await syncEnvTokens(db, box, [{ storeId: 10, token: 'secret_ten' }], { honoured: counting })).toEqual({
        uninstalled: [10],
        reinstalled: [],
      });
      expect(asked).toBe(0);
      // Ecwid's answer, had it come, confirms no install of a store erased whole either.
      expect(await registerStoreToken(db, box, { storeId: 10, token: 'secret_ten', source: 'env', confirmedByEcwid: true })).toMatchObject({
        installed: false,
        held: true,
      });
      expect(await storeRecords(10)).toEqual(['uninstalled']);

      // Ecwid that does not answer holds a start up for a few seconds, not for its retries.
      await uninstalledStore(11);
      const started = Date.now();
      expect(
        await syncEnvTokens(db, box, [{ storeId: 11, token: 'secret_eleven' }], { honoured: () => new Promise<boolean>(() => {}) }),
      ).toEqual({
        uninstalled: [11],
        reinstalled: [],
      });
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      await server.close();
    }
  }, 30_000);

  it('lets a store blocked by its old token be retried at once, and leaves other states alone', async () => {
    await addStoreToken(db, box, 1, 'secret_old_one');
    await addStoreToken(db, box, 2, 'secret_old_two');
    const later = new Date(Date.now() + 600_000);
    await db.update(enrichmentStateTable).set({ status: 'blocked', retryAt: later }).where(eq(enrichmentStateTable.storeId, 1));
    await db.update(enrichmentStateTable).set({ status: 'paused', retryAt: later }).where(eq(enrichmentStateTable.storeId, 2));
    await addStoreToken(db, box, 1, 'secret_new_one');
    await addStoreToken(db, box, 2, 'secret_new_two');
    const states = await db.select().from(enrichmentStateTable).orderBy(enrichmentStateTable.storeId);
    expect(states.map((s) => [s.storeId, s.status, s.retryAt?.getTime() ?? null])).toEqual([
      [1, 'blocked', null],
      [2, 'paused', later.getTime()],
    ]);
  });
});

describe('secret keys', () => {
  it('seals tokens an older version left in clear', async () => {
    await db.insert(storeTokensTable).values({ storeId: 7, token: 'secret_legacy_seven', source: 'env' });
    expect(await readStoreToken(db, box, 7)).toBe('secret_legacy_seven');
    expect(await sealPlaintextTokens(db, box)).toBe(1);
    expect(await dumpText()).not.toContain('secret_legacy_seven');
    expect(await readStoreToken(db, box, 7)).toBe('secret_legacy_seven');
    expect(await sealPlaintextTokens(db, box)).toBe(0);
  });

  it('rotates in place: every token re-sealed with the new key, and a re-run changes nothing', async () => {
    await addStoreToken(db, box, 1, 'secret_rot_one');
    await addStoreToken(db, box, 2, 'secret_rot_two');
    const next = createSecretBox(randomBytes(32));
    expect(await rotateSecretKey(db, box, next)).toEqual({ resealed: 2, alreadyNew: 0 });
    expect(Object.fromEntries(await readStoreTokens(db, next))).toEqual({ 1: 'secret_rot_one', 2: 'secret_rot_two' });
    const unreadable: number[] = [];
    expect(await readStoreTokens(db, box, (storeId) => unreadable.push(storeId))).toEqual(new Map());
    expect(unreadable).toEqual([1, 2]);
    expect(await rotateSecretKey(db, box, next)).toEqual({ resealed: 0, alreadyNew: 2 });
  });

  it('rotates all or nothing: a token the old key cannot open stops it, naming the store', async () => {
    await addStoreToken(db, box, 1, 'secret_rot_one');
    const stranger = createSecretBox(randomBytes(32));
    await addStoreToken(db, stranger, 2, 'secret_rot_two');
    const before = await dumpText();
    const next = createSecretBox(randomBytes(32));
    await expect(rotateSecretKey(db, box, next)).rejects.toThrow(RotationError);
    await expect(rotateSecretKey(db, box, next)).rejects.toThrow(/^store 2: /);
    expect(await dumpText()).toBe(before);
    await expect(rotateSecretKey(db, box, box)).rejects.toThrow(/same key/);
  });
});

describe('createTokenCache', () => {
  const versions = async () =>
    (
      await execRows<{ store_id: string | number; v: string }>(
        db,
        sql`select store_id, xmin::text as v from store_tokens order by store_id`,
      )
    ).map((r) => ({ storeId: Number(r.store_id), tokenVersion: r.v }));

  it('opens a token again only when its row changed, and forgets one that is gone', async () => {
    await addStoreToken(db, box, 1, 'secret_cache_one');
    await addStoreToken(db, box, 2, 'secret_cache_two');
    const tokensOf = createTokenCache(db, box);
    const first = await versions();
    expect(Object.fromEntries(await tokensOf(first))).toEqual({ 1: 'secret_cache_one', 2: 'secret_cache_two' });
    await addStoreToken(db, box, 1, 'secret_cache_new');
    // Asked with the versions it has seen, it answers from memory: the row is not read again.
    expect(Object.fromEntries(await tokensOf(first))).toEqual({ 1: 'secret_cache_one', 2: 'secret_cache_two' });
    const second = await versions();
    expect(second[0]!.tokenVersion).not.toBe(first[0]!.tokenVersion);
    expect(Object.fromEntries(await tokensOf(second))).toEqual({ 1: 'secret_cache_new', 2: 'secret_cache_two' });
    expect(Object.fromEntries(await tokensOf([second[0]!, { storeId: 2, tokenVersion: null }]))).toEqual({ 1: 'secret_cache_new' });
  });

  it('reports a token this key cannot open at every reading, and opens it once it is re-sealed with this key', async () => {
    const stranger = createSecretBox(randomBytes(32));
    await addStoreToken(db, stranger, 1, 'secret_cache_rot');
    const tokensOf = createTokenCache(db, box);
    const unreadable: number[] = [];
    for (let i = 0; i < 2; i++) expect(await tokensOf(await versions(), (storeId) => unreadable.push(storeId))).toEqual(new Map());
    expect(unreadable).toEqual([1, 1]);
    expect(await rotateSecretKey(db, stranger, box)).toEqual({ resealed: 1, alreadyNew: 0 });
    expect(Object.fromEntries(await tokensOf(await versions()))).toEqual({ 1: 'secret_cache_rot' });
  });
});

describe('hasRealStores (whether `mirror start` may run the demo)', () => {
  const record = (storeId: number) =>
    db
      .insert(eventLogTable)
      .values({ kind: 'webhook', storeId, eventId: `e-${storeId}`, eventType: 'order.updated', isKnownType: true, payload: { storeId } });

  it('is false on an empty database and on the demo store alone, and true once another store has data, token or not', async () => {
    expect(await hasRealStores(db)).toBe(false);
    await registerStoreToken(db, box, { storeId: 1003, token: 'secret_demo', source: 'demo' });
    await record(1003);
    expect(await hasRealStores(db)).toBe(false);
    // A store whose token was removed (or destroyed by an uninstall) still has its data.
    await record(7001);
    expect(await hasRealStores(db)).toBe(true);
  });

  it('is true for a store known only by its enrichment state', async () => {
    await db.insert(enrichmentStateTable).values({ storeId: 7002, position: 0 });
    expect(await hasRealStores(db)).toBe(true);
  });

  it('is true for a store with a token from the command line', async () => {
    await registerStoreToken(db, box, { storeId: 7003, token: 'secret_cli', source: 'cli' });
    expect(await hasRealStores(db)).toBe(true);
  });
});
