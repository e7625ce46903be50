import { execRows } from '@mirror/db';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { createSimulator, type SimServer } from '@mirror/ecwid-sim';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './test-process.ts';

/*
 * Backfill and rebuild as a log file sees them (stderr is not a terminal here): lines, not a
 * bar; one overall figure whose total is known from the first line and never goes back.
 */

const storeId = 1003;
const token = 'secret_progress_test';
let database: TestDatabase;
let sim: SimServer;

beforeAll(async () => {
  database = await createTestDatabase();
  sim = await createSimulator({ stores: [{ storeId, token, seed: 3, size: { orders: 150, products: 60, customers: 40 } }] }).listen(0);
});
afterAll(async () => {
  await sim?.close();
  await database?.close();
});

/** `label: done/total unit (p%)` figures of each line that has them. */
const figures = (lines: string[], label: string) =>
  lines.flatMap((line) => {
    const m = new RegExp(`^${label}: (\\d+)/(\\d+) `).exec(line);
    return m ? [{ done: Number(m[1]), total: Number(m[2]) }] : [];
  });

const ascending = (values: number[]) => values.every((v, i) => i === 0 || v >= values[i - 1]!);

describe.skipIf(concurrencySkipReason('the backfill and rebuild progress lines') !== undefined)('progress off a terminal', () => {
  test('backfill: one overall total from the first line, kinds noted as they finish, a last line at 100%', async () => {
    const env = { DATABASE_URL: database.url, ECWID_API_BASE_URL: sim.url, ECWID_STORES: `${storeId}:${token}`, LOG_LEVEL: '' };
    const run = await runCli(['backfill', '--store', String(storeId)], env);
    expect(run.code, run.stderr).toBe(0);
    // No bar: no cursor movement or colour codes, just lines.
    expect(run.stderr).not.toMatch(/\x1b\[/); // eslint-disable-line no-control-regex
    const lines = run.stderr.split('\n').filter(Boolean);
    const overall = figures(lines, 'backfill');
    expect(overall.length).toBeGreaterThanOrEqual(2);
    // Known before the first item is read: 150 orders, 60 products, 40 customers and the rest.
    const first = overall[0]!;
    expect(first.done).toBe(0);
    expect(first.total).toBeGreaterThan(150 + 60 + 40);
    expect(lines[0]).toMatch(/^backfill: 0\/\d+ items \(0%\), … items\/s, time left unknown \| /);
    expect(ascending(overall.map((f) => f.total))).toBe(true);
    expect(ascending(overall.map((f) => f.done))).toBe(true);
    // Every kind's end is a line of its own; the last line is the whole run.
    expect(lines).toContain('backfill: orders done (150 listed)');
    expect(lines).toContain('backfill: products done (60 listed)');
    expect(lines.at(-1)).toMatch(new RegExp(`^backfill: ${first.total}/${first.total} items \\(100%\\) in \\d+s`));
    expect(run.stdout).toMatch(/^orders\s+150 snapshots/m);
  }, 120_000);

  test('rebuild: the total is every record in the log, from the first line to the last', async () => {
    const [row] = await execRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from event_log where kind in ('snapshot', 'tombstone')`,
    );
    const records = row!.n;
    expect(records).toBeGreaterThan(250);
    const run = await runCli(['rebuild'], { DATABASE_URL: database.url, LOG_LEVEL: '' });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stderr.split('\n').filter(Boolean);
    const overall = figures(lines, 'rebuild');
    expect(overall[0]).toEqual({ done: 0, total: records });
    expect(new Set(overall.map((f) => f.total))).toEqual(new Set([records]));
    expect(ascending(overall.map((f) => f.done))).toBe(true);
    expect(lines.at(-1)).toMatch(new RegExp(`^rebuild: ${records}/${records} records \\(100%\\) in \\d+s`));
    expect(run.stdout).toContain(`from ${records} records`);
  }, 120_000);
});
