import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequest, execRows, personalDataRequestsTable } from '@mirror/db';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { createSimulator, type SimServer, type Simulator } from '@mirror/ecwid-sim';
import { projectBatch } from '@mirror/projector';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './test-process.ts';

/*
 * `mirror personal-data` as an operator runs it: export a customer's data to a file, erase it,
 * and find none of it in a dump of the database; nothing printed names the customer; bad
 * arguments exit 2.
 */

const storeId = 1011;
const token = 'secret_personal_data_cli_token';
const dir = mkdtempSync(join(tmpdir(), 'mirror-pd-'));

let database: TestDatabase;
let sim: Simulator;
let server: SimServer;
const skip = concurrencySkipReason('the CLI in a child process beside the test database');

const mirror = (...args: string[]) =>
  runCli(args, { DATABASE_URL: database.url, ECWID_API_BASE_URL: server.url, ECWID_STORES: `${storeId}:${token}`, LOG_LEVEL: 'silent' });

describe.skipIf(skip)('mirror personal-data', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    sim = createSimulator({ stores: [{ storeId, token, seed: 11, size: { orders: 30, customers: 10, products: 10 } }] });
    server = await sim.listen(0);
    expect((await mirror('backfill', '--store', String(storeId))).code).toBe(0);
    while ((await projectBatch(database.db, { limit: 5000 })) > 0);
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports a customer to a file, erases them, and the database holds none of their strings', async () => {
    const store = sim.store(storeId);
    const customer = store.customers.values().find((c) => store.orders.values().some((o) => o.customerId === c.id))!;
    const strings = [customer.email, customer.billingPerson.name, customer.billingPerson.phone, customer.billingPerson.street];
    const file = join(dir, 'export.json');

    const exported = await mirror('personal-data', 'export', '--store', String(storeId), '--customer', customer.email, '--out', file);
    expect(exported.code).toBe(0);
    const document = readFileSync(file, 'utf8');
    const parsed = JSON.parse(document) as { items: { source: string; table?: string }[] };
    expect(parsed.items.some((i) => i.table === 'customers')).toBe(true);
    expect(parsed.items.some((i) => i.table === 'orders')).toBe(true);
    for (const s of strings) expect(document.toLowerCase()).toContain(s.toLowerCase());

    const erased = await mirror('personal-data', 'erase', '--store', String(storeId), '--customer', String(customer.id));
    expect(erased.code).toBe(0);
    expect(erased.stdout).toMatch(/^request \d+: erased; touched .*customers 1.*log records \d+/);
    // Nothing printed names the customer.
    for (const s of strings) expect(`${erased.stdout}${erased.stderr}`.toLowerCase()).not.toContain(s.toLowerCase());

    const dump = execFileSync('pg_dump', ['--data-only', database.url!], { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }).toLowerCase();
    for (const s of strings) expect(dump.includes(s.toLowerCase()), s).toBe(false);

    const list = await mirror('personal-data', 'list', '--store', String(storeId));
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/export\s+customer\s+cli\s+done/);
    expect(list.stdout).toMatch(/erase\s+customer\s+cli\s+done/);
    // Its export went with the erasure.
    const json = JSON.parse((await mirror('personal-data', 'list', '--store', String(storeId), '--json')).stdout) as {
      subjectEmail: string | null;
    }[];
    expect(json.every((r) => r.subjectEmail === null)).toBe(true);
  }, 120_000);

  it('confirms an erasure a webhook asked for and runs it; cancels another; a request not awaiting confirmation exits 2', async () => {
    const customers = sim.store(storeId).customers.values();
    // As the worker records the removal requests Ecwid's webhooks make: awaiting confirmation.
    const awaiting = async (customerId: number) => {
      const request = await createRequest(database.db, { storeId, kind: 'erase', scope: 'customer', source: 'webhook', customerId });
      await database.db
        .update(personalDataRequestsTable)
        .set({ status: 'awaiting_confirmation' })
        .where(and(eq(personalDataRequestsTable.storeId, storeId), eq(personalDataRequestsTable.id, request.id)));
      return String(request.id);
    };
    const [confirmId, cancelId] = [await awaiting(customers.at(-1)!.id), await awaiting(customers.at(-2)!.id)];
    const listed = await mirror('personal-data', 'list', '--store', String(storeId));
    expect(listed.stdout).toMatch(new RegExp(`${confirmId}\\s+erase\\s+customer\\s+webhook\\s+awaiting_confirmation`));

    const confirmed = await mirror('personal-data', 'confirm', '--store', String(storeId), '--request', confirmId);
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(confirmed.stdout).toMatch(new RegExp(`^request ${confirmId}: erased; touched .*customers 1`));
    const cancelled = await mirror('personal-data', 'cancel', '--store', String(storeId), '--request', cancelId);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toBe(`request ${cancelId}: cancelled\n`);

    for (const [answer, id] of [
      ['cancel', confirmId],
      ['confirm', cancelId],
    ] as const) {
      const refused = await mirror('personal-data', answer, '--store', String(storeId), '--request', id);
      expect(refused.code, `${answer} ${id}`).toBe(2);
      expect(refused.stderr).toMatch(new RegExp(`request ${id} is (done|cancelled), not awaiting confirmation`));
    }
    const missing = await mirror('personal-data', 'confirm', '--store', String(storeId), '--request', '999999');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/request 999999 not found/);
  }, 120_000);

  it('bad arguments exit 2 and write nothing', async () => {
    const before = (await mirror('personal-data', 'list', '--store', String(storeId), '--json')).stdout;
    for (const args of [
      ['erase', '--store', String(storeId)],
      ['erase', '--store', String(storeId), '--customer', 'bob'],
      ['erase', '--store', String(storeId), '--customer', '7', '--all-customers'],
      ['export', '--store', String(storeId), '--customer', 'jane@example.com', '--all-customers'],
      ['export', '--customer', '7'],
      ['erase', '--store', 'x', '--customer', '7'],
      ['confirm', '--store', String(storeId)],
      ['confirm', '--store', String(storeId), '--request', 'x'],
      ['cancel', '--store', String(storeId), '--request', '0'],
    ]) {
      const run = await mirror('personal-data', ...args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/error|must|give/i);
    }
    expect((await mirror('personal-data', 'list', '--store', String(storeId), '--json')).stdout).toBe(before);
  }, 120_000);

  it('a store the mirror does not hold is a usage error: exit 2, and no request, no erased subject, for it', async () => {
    const unknown = storeId + 8_996;
    for (const args of [
      ['erase', '--store', String(unknown), '--customer', '12'],
      ['erase', '--store', String(unknown), '--all-customers'],
      ['export', '--store', String(unknown), '--all-customers'],
    ]) {
      const run = await mirror('personal-data', ...args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr.split('\n')[0], args.join(' ')).toBe(
        `error: store ${unknown} is not in this mirror (nothing of it in the log or the tables): check the store id`,
      );
    }
    const written = await execRows<{ requests: number; subjects: number }>(
      database.db,
      sql`select (select count(*)::int from personal_data_requests where store_id = ${unknown}) as requests,
                 (select count(*)::int from erased_subjects where store_id = ${unknown}) as subjects`,
    );
    expect(written).toEqual([{ requests: 0, subjects: 0 }]);
  }, 60_000);

  it('a customer beside --all-customers contradicts the scope: exit 2, one line saying so, for erase and export alike', async () => {
    for (const command of ['erase', 'export']) {
      const run = await mirror('personal-data', command, '--store', String(storeId), '--customer', '7', '--all-customers');
      expect(run.code, command).toBe(2);
      expect(run.stderr.split('\n')[0], command).toBe('error: give either --customer or --all-customers, not both');
    }
  }, 60_000);
});
