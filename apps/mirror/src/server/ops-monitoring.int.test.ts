import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { cliPath, exited, freePort } from '../commands/test-process.ts';

/*
 * The ready-made monitoring in docs/ops/ names only metrics the mirror really exports: the
 * server is started as an operator starts it, and its /metrics is read.
 */

const opsDir = fileURLToPath(new URL('../../../../docs/ops/', import.meta.url));

type Rule = {
  alert: string;
  expr: string;
  for?: string;
  labels?: { severity?: string };
  annotations?: { summary?: string; description?: string };
};
const rules = (parseYaml(readFileSync(join(opsDir, 'prometheus-alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);
type Panel = { title: string; targets?: { expr: string }[] };
const dashboard = JSON.parse(readFileSync(join(opsDir, 'grafana-dashboard.json'), 'utf8')) as { panels: Panel[]; uid: string };

const metricNames = (expr: string) => [...expr.matchAll(/\bmirror_[a-z0-9_]+\b/g)].map((m) => m[0]);

let database: TestDatabase;
let child: ChildProcess | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'mirror-ops-'));
let exposition = '';

beforeAll(async () => {
  database = await createTestDatabase();
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), LOG_FORMAT: 'json', LOG_LEVEL: 'warn', MIRROR_DEMO_RATE: '5' };
  for (const name of ['DATABASE_URL', 'ECWID_STORES', 'ECWID_CLIENT_SECRET', 'MIRROR_ADMIN_TOKEN']) delete env[name];
  // Postgres when the tests have one; otherwise embedded PGlite in a folder of its own.
  if (database.url) env.DATABASE_URL = database.url;
  else env.MIRROR_DATA_DIR = join(dataDir, 'pgdata');
  child = spawn(process.execPath, ['--import', 'tsx', cliPath, 'start'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  // Once the demo store is in the database, its per-store series exist too.
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
      (res) => (res.ok ? res.text() : ''),
      () => '',
    );
    if (/mirror_store_status\{store_id="\d+",status="active"\} 1/.test(text)) {
      exposition = text;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(exposition, 'the server served /metrics with the demo store').not.toBe('');
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await exited(child);
  }
  await database?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Names a query may use: every `# TYPE`, with a histogram's and a summary's series suffixes. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name! + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name! + suffix);
  }
  return names;
}

test('the alert rules cover what an operator must hear about, each with a severity and advice', () => {
  expect(rules.map((r) => r.alert)).toEqual(
    expect.arrayContaining([
      'MirrorLagHigh',
      'MirrorStorePaused',
      'MirrorStoreBlocked',
      'MirrorParkedWebhooksGrowing',
      'MirrorReconcileFoundDifferences',
      'MirrorIngestUnavailable',
    ]),
  );
  for (const rule of rules) {
    expect(rule.labels?.severity, rule.alert).toMatch(/^(warning|critical)$/);
    expect(rule.annotations?.summary, rule.alert).toBeTruthy();
    expect(rule.annotations?.description, rule.alert).toBeTruthy();
    expect(metricNames(rule.expr).length, rule.alert).toBeGreaterThan(0);
  }
});

test('every metric the alert rules use is in /metrics', () => {
  const exported = exportedNames(exposition);
  const missing = rules.flatMap((r) =>
    metricNames(r.expr)
      .filter((name) => !exported.has(name))
      .map((name) => `${r.alert}: ${name}`),
  );
  expect(missing).toEqual([]);
});

test('every metric the Grafana dashboard uses is in /metrics', () => {
  const exported = exportedNames(exposition);
  const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
  expect(queries.length).toBeGreaterThan(10);
  const missing = queries.flatMap((q) =>
    metricNames(q.expr)
      .filter((name) => !exported.has(name))
      .map((name) => `${q.title}: ${name}`),
  );
  expect(missing).toEqual([]);
});

test('the series the store alerts watch exist for every status, before a store is ever paused or blocked', () => {
  const statuses = [...exposition.matchAll(/^mirror_store_status\{store_id="(\d+)",status="([a-z_]+)"\} ([01])$/gm)].map((m) => m[2]);
  expect(statuses).toEqual(expect.arrayContaining(['active', 'paused', 'blocked', 'waiting_for_token']));
  expect(exposition).toMatch(/^mirror_store_parked_events\{store_id="\d+"\} 0$/m);
  expect(exposition).toMatch(/^# TYPE mirror_reconcile_differences gauge$/m);
  // The erasures waiting for an operator (decision 0026): a series before there is any.
  for (const status of ['awaiting_confirmation', 'received', 'running', 'failed']) {
    expect(exposition).toMatch(new RegExp(`^mirror_personal_data_requests\\{status="${status}"\\} 0$`, 'm'));
  }
});
