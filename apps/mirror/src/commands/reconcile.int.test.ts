import { parkedEventsTable, productsTable, reconcileRunsTable, storeTokensTable } from '@mirror/db';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { createSimulator, type SimServer, type Simulator } from '@mirror/ecwid-sim';
import { projectBatch } from '@mirror/projector';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './test-process.ts';

/*
 * `mirror verify` and `mirror reconcile` as a person runs them: verify changes nothing and exits
 * 1 while the mirror differs from Ecwid; reconcile repairs through the log; verify then exits 0.
 */

const storeId = 1007;
const token = 'secret_reconcile_cli_token';

let database: TestDatabase;
let sim: Simulator;
let server: SimServer;
const skip = concurrencySkipReason('the CLI in a child process beside the test database');

const mirror = (...args: string[]) =>
  runCli(args, { DATABASE_URL: database.url, ECWID_API_BASE_URL: server.url, ECWID_STORES: `${storeId}:${token}`, LOG_LEVEL: 'silent' });

async function projectAll() {
  while ((await projectBatch(database.db, { limit: 5000 })) > 0);
}

type JsonReport = { entity: string; missing: number; stale: number; missedDeletes: number; healedTombstones: number; status: string };

describe.skipIf(skip)('mirror verify and mirror reconcile', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    sim = createSimulator({ stores: [{ storeId, token, seed: 7, size: { products: 12, orders: 10, customers: 6, categories: 4 } }] });
    server = await sim.listen(0);
  });
  afterAll(async () => {
    await server?.close();
    await database?.close();
  });

  // Each `mirror` run is a fresh node + tsx process: 1–3 s to start on a quiet machine, several
  // times that beside a full test run on two cores. The tests below start up to eight of them.
  const cliTestTimeout = 120_000;

  it('verify on an empty mirror exits 1, names what is missing, and writes nothing', async () => {
    const run = await mirror('verify', '--store', String(storeId), '--entities', 'products,categories');
    expect(run.code).toBe(1);
    // One row per entity asked for, in the table's columns.
    expect(run.stdout).toMatch(/entity\s+checked\s+missing\s+stale\s+gone from Ecwid\s+deleted in mirror\s+requests/);
    expect(run.stdout).toMatch(new RegExp(`products\\s+12\\s+12\\s+0\\s+0\\s+0`));
    expect(run.stdout).toMatch(/categories\s+4\s+4\s+0\s+0\s+0/);
    expect(run.stdout).not.toMatch(/^orders/m);
    expect(await database.db.select().from(reconcileRunsTable)).toEqual([]);
    expect(await database.db.select().from(productsTable)).toEqual([]);
  });

  it(
    'reconcile repairs through the log; verify then exits 0, and --json says the same',
    async () => {
      const repaired = await mirror('reconcile', '--store', String(storeId), '--full');
      expect(repaired.code).toBe(0);
      expect(repaired.stdout).toMatch(/products\s+full\s+12\s+12\s+0\s+0\s+0\s+12/);
      await projectAll();
      const runs = await database.db.select().from(reconcileRunsTable).where(eq(reconcileRunsTable.kind, 'product'));
      expect(runs).toMatchObject([{ mode: 'full', status: 'done', trigger: 'cli', missing: 12, appended: 12 }]);

      const clean = await mirror('verify', '--store', String(storeId));
      expect(clean.code).toBe(0);

      // mirror status shows each entity's latest run, by its public name.
      const status = await mirror('status');
      expect(status.code).toBe(0);
      expect(status.stdout).toContain('reconcile (latest run per entity)');
      expect(status.stdout).toMatch(new RegExp(`${storeId}\\s+products\\s+full\\s+done\\s+\\S+\\s+\\S+\\s+12\\s+0\\s+0\\s+0`));
      const statusJson = JSON.parse((await mirror('status', '--json')).stdout) as { reconcile: { entity: string; missing: number }[] };
      expect(statusJson.reconcile.find((r) => r.entity === 'products')).toMatchObject({ missing: 12 });

      // A product changed and another deleted behind the mirror's back.
      const store = sim.store(storeId);
      const [changed, removed] = store.products.values();
      store.update('products', changed!.id, (doc) => void (doc.name = 'Changed without a webhook'));
      store.remove('products', removed!.id);
      const json = await mirror('verify', '--store', String(storeId), '--entities', 'products', '--json');
      expect(json.code).toBe(1);
      const reports = JSON.parse(json.stdout) as JsonReport[];
      expect(reports).toMatchObject([{ entity: 'products', missing: 0, stale: 1, missedDeletes: 1, healedTombstones: 0, status: 'done' }]);
      // The sample lines under the table use its column words, not the JSON's field names.
      const printed = await mirror('verify', '--store', String(storeId), '--entities', 'products');
      expect(printed.stdout).toContain(`  products stale: ${changed!.id}\n`);
      expect(printed.stdout).toContain(`  products gone from Ecwid: ${removed!.id}\n`);
      expect(printed.stdout).not.toContain('missedDeletes');
      // The answer is all stdout holds whatever is logged meanwhile: the logs go to stderr.
      const logged = await runCli(['verify', '--store', String(storeId), '--entities', 'products', '--json'], {
        DATABASE_URL: database.url,
        ECWID_API_BASE_URL: server.url,
        ECWID_STORES: `${storeId}:${token}`,
        LOG_LEVEL: 'debug',
      });
      expect(JSON.parse(logged.stdout)).toEqual(reports);
      expect(logged.stderr).toMatch(/"level":\d+/);

      expect((await mirror('reconcile', '--store', String(storeId), '--entities', 'products')).code).toBe(0);
      await projectAll();
      expect((await mirror('verify', '--store', String(storeId))).code).toBe(0);
      const live = await database.db
        .select({ id: productsTable.productId, name: productsTable.name })
        .from(productsTable)
        .where(and(eq(productsTable.storeId, storeId), isNull(productsTable.deletedAt)));
      expect(live).toHaveLength(11);
      expect(live.find((p) => p.id === changed!.id)?.name).toBe('Changed without a webhook');
    },
    cliTestTimeout,
  );

  it(
    'bad arguments exit 2 naming the problem, and touch nothing',
    async () => {
      const before = await database.db.select().from(reconcileRunsTable);
      const noStore = await mirror('verify');
      expect(noStore.code).toBe(2);
      expect(noStore.stderr).toMatch(/--store/);
      const badEntity = await mirror('reconcile', '--store', String(storeId), '--entities', 'products,widgets');
      expect(badEntity.code).toBe(2);
      expect(badEntity.stderr).toMatch(/widgets/);
      const badStore = await mirror('verify', '--store', 'abc');
      expect(badStore.code).toBe(2);
      const noToken = await mirror('verify', '--store', '999');
      expect(noToken.code).toBe(2);
      expect(noToken.stderr).toMatch(/no access token for store 999/);
      expect(await database.db.select().from(reconcileRunsTable)).toEqual(before);
    },
    cliTestTimeout,
  );

  it(
    'replay says what it re-applied, after which position, and when there was nothing after it',
    async () => {
      const [{ head }] = (await database.db.execute(sql`select max(position)::int as head from event_log`)) as unknown as [
        { head: number },
      ];
      const past = await mirror('replay', '--from', String(head + 1000));
      expect(past).toMatchObject({
        code: 0,
        stdout: `replayed 0 records: nothing after position ${head + 1000} (the log ends at ${head})\n`,
      });
      const last = await mirror('replay', '--from', String(head - 1));
      expect(last.stdout).toMatch(new RegExp(`^replayed [01] records after position ${head - 1}, up to position ${head}\n$`));
    },
    cliTestTimeout,
  );

  it(
    "the demo's store is said to be the demo's, not a missing key; nothing parked needs no key",
    async () => {
      await database.db.insert(storeTokensTable).values({ storeId: 1003, token: 'secret_demo', source: 'demo' });
      try {
        for (const args of [
          ['backfill', '--store', '1003'],
          ['verify', '--store', '1003'],
        ]) {
          const run = await mirror(...args);
          expect(run.code).toBe(2);
          expect(run.stderr).toContain("store 1003 is the demo's simulated store: only the `pnpm start` that runs it can call it");
        }
        const retry = await runCli(['parked', 'retry'], { DATABASE_URL: database.url, LOG_LEVEL: 'silent', MIRROR_SECRET_KEY: '' });
        expect(retry).toMatchObject({ code: 0, stdout: 'no open parked events\n' });

        // A parked webhook is listed by the entity's public name, as the API lists it.
        const [row] = await database.db
          .insert(parkedEventsTable)
          .values({ storeId: 1003, position: 987_654, entityKind: 'abandoned_cart', entityId: 'cart-1', error: 'Ecwid 400', attempts: 5 })
          .returning();
        try {
          const listed = await runCli(['parked'], { DATABASE_URL: database.url, LOG_LEVEL: 'silent' });
          expect(listed.stdout).toMatch(/987654\s+abandoned-carts cart-1\s+5/);
          const json = JSON.parse(
            (await runCli(['parked', '--json'], { DATABASE_URL: database.url, LOG_LEVEL: 'silent' })).stdout,
          ) as object[];
          expect(json).toMatchObject([{ entity: 'abandoned-carts', entityKind: 'abandoned_cart', entityId: 'cart-1' }]);
        } finally {
          await database.db.delete(parkedEventsTable).where(eq(parkedEventsTable.id, row!.id));
        }
      } finally {
        await database.db.delete(storeTokensTable).where(eq(storeTokensTable.storeId, 1003));
      }
    },
    cliTestTimeout,
  );

  it(
    'a kind another worker holds is not reconciled: exit 1, saying which run holds it and when it is taken over',
    async () => {
      // What a `mirror reconcile` killed a moment ago leaves: its run open, its heartbeat fresh.
      const [held] = await database.db
        .insert(reconcileRunsTable)
        .values({ storeId, kind: 'category', mode: 'full', trigger: 'cli', progress: {} })
        .returning({ id: reconcileRunsTable.id });
      try {
        const run = await mirror('reconcile', '--store', String(storeId), '--entities', 'categories');
        expect(run.code).toBe(1);
        expect(run.stdout).toMatch(
          new RegExp(
            `another worker is reconciling this kind \\(run ${held!.id}, last heard of \\d+ s ago; taken over once that is 600 s\\)`,
          ),
        );
      } finally {
        await database.db.update(reconcileRunsTable).set({ status: 'failed' }).where(eq(reconcileRunsTable.id, held!.id));
      }
    },
    cliTestTimeout,
  );
});
