import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretBox, createSilentLogger } from '@mirror/core';
import { listen } from '@mirror/core/http';
import { createDb, ownerRecordPath } from '@mirror/db';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { createSimulator, type Simulator, type SimServer } from '@mirror/ecwid-sim';
import { createIngest } from '@mirror/ingest';
import { addStoreToken, removeStoreToken } from '@mirror/projector';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../commands/test-process.ts';
import { runDoctor, type Check, type DoctorOptions } from './run-doctor.ts';

/*
 * `mirror doctor` against the simulated Ecwid: a healthy configuration passes; a bad token, a
 * missing scope, an unmigrated database, a skewed clock and a bad webhook URL each fail with
 * what to fix; exit codes 0, 1 and 2 as the CLI promises.
 */

const storeId = 1003;
const token = 'secret_doctor_good_token';
const log = createSilentLogger();
const everyScope = [
  'read_store_profile',
  'read_catalog',
  'read_orders',
  'read_customers',
  'read_discount_coupons',
  'read_promotion',
  'read_reviews',
  'read_invoices',
];

let sim: Simulator;
let simServer: SimServer;
let database: TestDatabase;
let ingest: { close(): void; url: string } | undefined;
const dirs: string[] = [];

beforeAll(async () => {
  sim = createSimulator({ stores: [{ storeId, token, seed: 7, size: { orders: 20, products: 10, customers: 5 } }] });
  simServer = await sim.listen(0);
  database = await createTestDatabase();
  // The mirror's own ingest, where the webhook URL probe should find it.
  ingest = await startIngest({ clientSecret: sim.clientSecret, verifySignatures: true });
});

/** The mirror's ingest on a free port, as `mirror ingest` serves it. */
async function startIngest(over: { clientSecret: string | undefined; verifySignatures: boolean }) {
  const { app } = createIngest(
    database,
    { ...over, bodyLimitBytes: 262_144, batchMax: 10, batchWindowMs: 0, appendTimeoutMs: 8000, maxEventAgeMs: 48 * 3_600_000 },
    log,
  );
  const { server, port } = await listen(app, 0, '127.0.0.1');
  return { close: () => server.close(), url: `http://127.0.0.1:${port}/webhooks/ecwid` };
}

afterAll(async () => {
  ingest?.close();
  await simServer?.close();
  await database?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const options = (over: Partial<DoctorOptions> = {}): DoctorOptions => ({
  database: { url: database.url, dataDir: 'memory://' },
  ecwid: { apiBaseUrl: simServer.url, stores: [{ storeId, token }], ratePerMinute: 600 },
  log,
  ...over,
});

const failures = (checks: Check[]) => checks.filter((c) => c.status === 'fail');
const find = (checks: Check[], pattern: RegExp) => checks.find((c) => pattern.test(c.detail));

// The doctor and the test share a database: that needs Postgres (PGlite in memory is one connection).
describe.skipIf(concurrencySkipReason('the doctor checks on Postgres') !== undefined)('on Postgres', () => {
  test('a healthy configuration: database, migrations, token, clock and every scope pass', async () => {
    sim.store(storeId).scopes = undefined;
    const checks = await runDoctor(options({ webhookUrl: new URL(ingest!.url) }));
    expect(failures(checks)).toEqual([]);
    expect(checks.map((c) => `${c.status} ${c.area}`)).toEqual(
      expect.arrayContaining(['ok database', 'ok migrations', `ok store ${storeId}`, 'warn webhook URL']),
    );
    expect(find(checks, /Ecwid accepts the token/)?.status).toBe('ok');
    expect(find(checks, /clock within/)?.status).toBe('ok');
    expect(find(checks, /all 8 access scopes/)?.status).toBe('ok');
    // Reached, answering as the mirror does; only plain http is worth a warning.
    expect(find(checks, /a mirror answers at/)?.detail).toMatch(/plain http/);
    expect(find(checks, /a mirror answers at/)?.detail).not.toMatch(/does not verify/);
    // Nothing has arrived from this store yet: a hint at the webhook URL, not a failure.
    expect(find(checks, /no webhook received/)?.status).toBe('warn');
  });

  test('a bad token fails with what to do, and never prints the token', async () => {
    sim.store(storeId).scopes = undefined;
    const wrong = 'secret_doctor_wrong_token';
    const checks = await runDoctor(
      options({ ecwid: { apiBaseUrl: simServer.url, stores: [{ storeId, token: wrong }], ratePerMinute: 600 } }),
    );
    const [failure] = failures(checks);
    expect(failure).toMatchObject({ area: `store ${storeId}`, detail: 'GET /profile: HTTP 403 INVALID_API_TOKEN' });
    expect(failure?.fix).toMatch(/ECWID_STORES=1003:<token>|mirror stores add 1003/);
    expect(JSON.stringify(checks)).not.toContain(wrong);
  });

  test('a token sealed in store_tokens is opened with MIRROR_SECRET_KEY and checked; without the key, or with another, it fails', async () => {
    sim.store(storeId).scopes = undefined;
    const box = createSecretBox(randomBytes(32));
    await addStoreToken(database.db, box, storeId, token);
    try {
      const fromTable = options({ ecwid: { apiBaseUrl: simServer.url, stores: [], ratePerMinute: 600 } });
      const opened = await runDoctor({ ...fromTable, box });
      expect(failures(opened)).toEqual([]);
      expect(find(opened, /Ecwid accepts the token/)?.status).toBe('ok');
      const keyless = await runDoctor(fromTable);
      expect(failures(keyless)).toEqual([
        expect.objectContaining({ area: `store ${storeId}`, detail: expect.stringMatching(/sealed and MIRROR_SECRET_KEY is not set/) }),
      ]);
      const wrongKey = await runDoctor({ ...fromTable, box: createSecretBox(randomBytes(32)) });
      expect(failures(wrongKey)).toEqual([
        expect.objectContaining({ area: `store ${storeId}`, detail: expect.stringMatching(/does not open with MIRROR_SECRET_KEY/) }),
      ]);
      expect(JSON.stringify([opened, keyless, wrongKey])).not.toContain(token);
    } finally {
      await removeStoreToken(database.db, storeId);
    }
  });

  test('a missing scope fails, naming the scope and the entities that need it', async () => {
    sim.store(storeId).scopes = new Set(everyScope.filter((s) => s !== 'read_reviews' && s !== 'read_invoices'));
    try {
      const checks = await runDoctor(options());
      expect(failures(checks).map((c) => c.detail)).toEqual(['access scopes missing: read_reviews (reviews); read_invoices (invoices)']);
      expect(failures(checks)[0]?.fix).toMatch(/re-authorise/);
    } finally {
      sim.store(storeId).scopes = undefined;
    }
  });

  test('a database that is not migrated fails with `mirror migrate`', async () => {
    const url = new URL(database.url!);
    const name = `mirror_doctor_${randomBytes(4).toString('hex')}`;
    const admin = await createDb({ url: database.url!, maxConnections: 1 });
    await admin.db.execute(sql.raw(`create database "${name}"`));
    try {
      url.pathname = `/${name}`;
      const checks = await runDoctor(options({ database: { url: url.toString(), dataDir: 'memory://' } }));
      expect(failures(checks)).toEqual([
        { area: 'migrations', status: 'fail', detail: 'migrations have not been run', fix: expect.stringMatching(/mirror migrate/) },
      ]);
      // The doctor changes nothing: still unmigrated.
      const again = await runDoctor(options({ database: { url: url.toString(), dataDir: 'memory://' } }));
      expect(failures(again).map((c) => c.area)).toEqual(['migrations']);
    } finally {
      await admin.db.execute(sql.raw(`drop database if exists "${name}" with (force)`));
      await admin.close();
    }
  });

  test("a clock 10 minutes off Ecwid's Date header fails; 1 minute off warns", async () => {
    const off = (ms: number) => () => new Date(Date.now() + ms);
    const far = await runDoctor(options({ now: off(10 * 60_000) }));
    expect(failures(far).map((c) => c.detail)).toEqual([
      expect.stringMatching(/^clock (599|600|601) s ahead of Ecwid's \(Date header\): beyond the 5 minutes/),
    ]);
    const near = await runDoctor(options({ now: off(-60_000) }));
    expect(failures(near)).toEqual([]);
    expect(find(near, /^clock/)).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/^clock (59|60|61) s behind Ecwid's \(Date header\)$/),
    });
  });

  test('an ingest that does not verify signatures is named', async () => {
    const unverified = await startIngest({ clientSecret: undefined, verifySignatures: false });
    try {
      const checks = await runDoctor(options({ webhookUrl: new URL(unverified.url) }));
      const check = find(checks, /a mirror answers at/);
      expect(check?.status).toBe('warn');
      expect(check?.detail).toMatch(/does not verify webhook signatures \(ECWID_WEBHOOK_VERIFY=false\)/);
    } finally {
      unverified.close();
    }
  });

  test('a webhook URL that reaches no mirror, or a private one for real Ecwid, fails', async () => {
    const wrongPath = await runDoctor(options({ webhookUrl: new URL(ingest!.url.replace('/webhooks/ecwid', '/hooks')) }));
    expect(find(wrongPath, /does not end in \/webhooks\/ecwid/)?.status).toBe('fail');
    const nobody = await runDoctor(options({ webhookUrl: new URL('http://127.0.0.1:9/webhooks/ecwid') }));
    expect(find(nobody, /does not answer from here/)?.status).toBe('fail');
    // Against the real Ecwid a private address cannot work (no request is made to Ecwid: no stores).
    const real = await runDoctor(
      options({
        ecwid: { apiBaseUrl: 'https://app.ecwid.com/api/v3', stores: [], ratePerMinute: 600 },
        storeId: 424242,
        webhookUrl: new URL(ingest!.url),
      }),
    );
    expect(find(real, /local or private address/)?.status).toBe('fail');
    expect(find(real, /no access token for this store/)?.status).toBe('fail');
  });

  test('the CLI exits 0 when healthy, 1 on a failure, 2 on bad arguments', async () => {
    const env = {
      DATABASE_URL: database.url,
      ECWID_API_BASE_URL: simServer.url,
      ECWID_STORES: `${storeId}:${token}`,
      ECWID_CLIENT_SECRET: sim.clientSecret,
      MIRROR_SECRET_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: '',
      MIRROR_DATA_DIR: '',
    };
    const healthy = await runCli(['doctor'], env);
    expect(healthy.stdout).toMatch(/^ok {4}store 1003 +Ecwid accepts the token/m);
    expect(healthy.stdout).toMatch(/^ok {4}configuration +`mirror start` accepts this environment\n/m);
    expect(healthy.stdout).toMatch(/\nhealthy \(\d+ warnings?\)\n$/);
    expect(healthy.code).toBe(0);

    const broken = await runCli(['doctor', '--json'], { ...env, ECWID_STORES: `${storeId}:secret_not_it` });
    expect(broken.code).toBe(1);
    const report = JSON.parse(broken.stdout) as { healthy: boolean; checks: Check[] };
    expect(report.healthy).toBe(false);
    expect(failures(report.checks).map((c) => c.detail)).toEqual(['GET /profile: HTTP 403 INVALID_API_TOKEN']);

    const text = await runCli(['doctor'], { ...env, ECWID_STORES: `${storeId}:secret_not_it` });
    expect(text.stdout).toMatch(/^FAIL {2}store 1003 +GET \/profile: HTTP 403 INVALID_API_TOKEN\n +fix: /m);
    expect(text.stdout).toMatch(/1 check failed/);

    for (const args of [
      ['doctor', '--store', 'abc'],
      ['doctor', '--webhook-url', 'not a url'],
    ]) {
      const bad = await runCli(args, env);
      expect({ args, code: bad.code }).toEqual({ args, code: 2 });
      expect(bad.stderr).toMatch(/error: /);
    }
    const badConfig = await runCli(['doctor'], { ...env, ECWID_STORES: 'oops' });
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toMatch(/ECWID_STORES/);
  }, 120_000);

  test('an environment `mirror start` refuses fails: the key for real stores, the client secret, a setting of its own', async () => {
    const env = {
      DATABASE_URL: database.url,
      ECWID_API_BASE_URL: simServer.url,
      ECWID_STORES: `${storeId}:${token}`,
      LOG_LEVEL: '',
      MIRROR_DATA_DIR: '',
    };
    const keyless = await runCli(['doctor', '--json'], env);
    expect(keyless.code).toBe(1);
    const report = JSON.parse(keyless.stdout) as { checks: Check[] };
    const refused = failures(report.checks);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ area: 'configuration' });
    expect(refused[0]!.detail).toMatch(
      /^`mirror start` and `mirror project` refuse this environment: MIRROR_SECRET_KEY is not set.*; .*ECWID_CLIENT_SECRET: /,
    );

    // Only where webhooks are received: a warning, since a project or api process runs without it.
    const secretless = await runCli(['doctor'], { ...env, MIRROR_SECRET_KEY: randomBytes(32).toString('base64') });
    expect(secretless.stdout).toMatch(
      /^WARN {2}configuration +`mirror start` and `mirror ingest` refuse this environment: .*ECWID_CLIENT_SECRET: /m,
    );
    expect(secretless.stdout).not.toMatch(/MIRROR_SECRET_KEY is not set/);
    expect(secretless.code).toBe(0);

    // An ingest setting neither can use fails whatever the stores, the demo's too.
    const badIngest = await runCli(['doctor'], { ...env, ECWID_STORES: '', INGEST_BATCH_MAX: '0' });
    expect(badIngest.code).toBe(1);
    expect(badIngest.stdout).toMatch(
      /^FAIL {2}configuration +`mirror start` and `mirror ingest` refuse this environment: .*INGEST_BATCH_MAX/m,
    );

    // A setting only `mirror start` reads (the API's), refused whatever the stores.
    const badSetting = await runCli(['doctor'], { ...env, ECWID_STORES: '', API_KEY_CACHE_MS: 'soon' });
    expect(badSetting.code).toBe(1);
    expect(badSetting.stdout).toMatch(/^FAIL {2}configuration +`mirror start` refuses this environment: .*API_KEY_CACHE_MS/m);
  }, 120_000);

  test("the demo's own store passes: its token is the simulator's, and the demo needs no key or client secret", async () => {
    const demoStore = 4242;
    // A database of its own: the demo runs only where no other store has data (the one the tests
    // above share holds other stores' records).
    const demoDatabase = await createTestDatabase();
    await addStoreToken(demoDatabase.db, createSecretBox(randomBytes(32)), demoStore, 'secret_demo_token', 'demo');
    try {
      const demo = await runCli(['doctor', '--json'], {
        DATABASE_URL: demoDatabase.url,
        LOG_LEVEL: '',
        MIRROR_DATA_DIR: '',
        ECWID_STORES: '',
      });
      const report = JSON.parse(demo.stdout) as { healthy: boolean; checks: Check[] };
      expect(failures(report.checks)).toEqual([]);
      expect(report.checks).toContainEqual(
        expect.objectContaining({ area: `store ${demoStore}`, status: 'ok', detail: expect.stringMatching(/simulated demo store/) }),
      );
      expect(report.checks).toContainEqual(
        expect.objectContaining({ area: 'configuration', status: 'ok', detail: expect.stringMatching(/demo store/) }),
      );
      expect(demo.code).toBe(0);
    } finally {
      await demoDatabase.close();
    }
  }, 120_000);
});

describe('embedded PGlite ownership', () => {
  test('a data folder that does not exist yet fails with how to create it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mirror-doctor-'));
    dirs.push(dir);
    const checks = await runDoctor(
      options({
        database: { url: undefined, dataDir: join(dir, 'pgdata') },
        ecwid: { apiBaseUrl: simServer.url, stores: [], ratePerMinute: 600 },
      }),
    );
    expect(checks[0]).toMatchObject({ area: 'embedded database', status: 'fail', fix: expect.stringMatching(/mirror migrate/) });
  });

  test('a stale owner record (its process is gone) is a warning: the next command clears it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mirror-doctor-'));
    dirs.push(dir);
    const dataDir = join(dir, 'pgdata');
    mkdirSync(dataDir);
    // A pid no process has (above Linux's pid_max), recorded as a `mirror start` killed with -9.
    const record = {
      pid: 4_194_399,
      nonce: 'deadbeef',
      host: (await import('node:os')).hostname(),
      processStart: '1',
      startedAt: '2026-01-01T00:00:00.000Z',
      command: 'mirror start',
      dataDir,
      url: 'postgres://postgres@127.0.0.1:1/postgres',
    };
    writeFileSync(ownerRecordPath(dataDir), JSON.stringify(record));
    const checks = await runDoctor(
      options({ database: { url: undefined, dataDir }, ecwid: { apiBaseUrl: simServer.url, stores: [], ratePerMinute: 600 } }),
    );
    expect(checks[0]).toMatchObject({
      area: 'embedded database',
      status: 'warn',
      detail: expect.stringMatching(/process 4194399 \(`mirror start`.*which is gone/),
    });
    // It then opened the folder itself: an empty database, not migrated.
    expect(checks.find((c) => c.area === 'migrations')?.status).toBe('fail');
  }, 60_000);
});
