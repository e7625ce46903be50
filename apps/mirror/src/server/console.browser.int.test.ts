import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { apiSection } from '@mirror/api';
import { createLogger, createSecretBox, loadConfig as loadSections, tokenFingerprint } from '@mirror/core';
import {
  appendWebhooks,
  enrichmentStateTable,
  execRows,
  parkedEventsTable,
  personalDataRequestsTable,
  storesTable,
  storeTokensTable,
  type Db,
} from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { createSimulator, type SimServer } from '@mirror/ecwid-sim';
import { ingestSection } from '@mirror/ingest';
import { backfill, createClientFactory, projectNextBatch, reconcile } from '@mirror/projector';
import { eq, sql } from 'drizzle-orm';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { demoSection, ecwidSection, enrichmentSection, httpSection, projectionSection, reconcileSection } from '../config.ts';
import { startAll, type RunningMirror } from './start-all.ts';

/*
 * The operator console and the API docs in a real browser: Debian's Chromium driven by
 * playwright-core, against the all-in-one server (`pnpm start`'s startAll) on the test database,
 * Ecwid played by the simulator. A screenshot of each page is left in test-artifacts/console/
 * for a person to look at.
 */

const chromiumPath = '/usr/bin/chromium';
const missingChromium = existsSync(chromiumPath) ? undefined : `${chromiumPath} is missing (apt-get install chromium)`;
if (missingChromium) console.warn(`skipping the browser tests: ${missingChromium}`);

const artifacts = join(import.meta.dirname, '../../../../test-artifacts/console');
const adminToken = 'console-test-admin-token-0123456789';
const mirrored = { storeId: 5101, token: 'secret_console_mirrored' };
/** In the log, but without a token: its webhooks wait, so its lag grows. */
const tokenless = 5102;
/** Installed once, then uninstalled (Ecwid confirmed it): its token is gone, its data stays. */
const uninstalled = { storeId: 5103, installedAt: new Date('2026-03-01T10:00:00Z'), uninstalledAt: new Date('2026-04-02T12:30:00Z') };
const mirroredScopes = ['read_orders', 'read_catalog'];
const log = createLogger({ level: 'silent' });

let database: TestDatabase;
let simServer: SimServer;
let mirror: RunningMirror;
let browser: Browser;
let base: string;
let parkedId: number;
/** Requests the pages made to anywhere but the server under test. */
const foreign: string[] = [];
const pageErrors: string[] = [];
/** URLs a test asks for knowing they answer 404 (what a store key gets for another store). */
const deliberate = new Set<string>();

async function webhook(db: Db, storeId: number, eventType: string, entityKind: string, entityId: string, n: number): Promise<number> {
  const eventId = `console-test-${storeId}-${n}`;
  const eventCreated = Math.floor(Date.now() / 1000) - 90;
  // Order webhooks name the order in data.orderId (their entityId is Ecwid's internal id).
  const data = entityKind === 'order' ? { orderId: entityId } : {};
  const body = JSON.stringify({ eventId, eventCreated, storeId, entityId, eventType, data });
  const [outcome] = await appendWebhooks(db, [
    { storeId, eventId, eventType, entityKind, entityId, isKnownType: true, eventCreated, body },
  ]);
  if (outcome?.status !== 'inserted') throw new Error(`webhook not appended: ${JSON.stringify(outcome)}`);
  return outcome.position;
}

beforeAll(async () => {
  if (missingChromium) return;
  mkdirSync(artifacts, { recursive: true });
  database = await createTestDatabase();
  const { db } = database;
  const sim = createSimulator({ stores: [{ ...mirrored, seed: 51, size: { orders: 60, products: 20, customers: 15 } }] });
  simServer = await sim.listen(0);

  // The mirrored store's history, as `mirror backfill` copies it.
  const client = createClientFactory({ baseUrl: simServer.url })(mirrored.storeId, mirrored.token);
  await backfill({ db, storeId: mirrored.storeId, client });
  // Reconcile compares Ecwid with the tables, so project the backfill first.
  while (!(await projectNextBatch(db, { limit: 500 })).caughtUp);
  // Then a product deleted and another changed behind the mirror's back, found and repaired by a reconcile run.
  const simStore = sim.store(mirrored.storeId);
  const [gone, changed] = simStore.products.values();
  simStore.remove('products', gone!.id);
  simStore.update('products', changed!.id, (p) => void (p.name = `${p.name} (renamed)`));
  const [run] = await reconcile({ db, storeId: mirrored.storeId, client, requestCount: () => 0, mode: 'full', kinds: ['product'] });
  expect(run).toMatchObject({ status: 'done', missedDeletes: 1, stale: 1 });
  // A webhook whose fetch kept failing (Ecwid has the order now, so a retry succeeds), parked, with enrichment past it.
  const [order] = await execRows<{ order_id: string }>(
    db,
    sql`select entity_id as order_id from event_log where store_id = ${mirrored.storeId} and kind = 'snapshot' and entity_kind = 'order' limit 1`,
  );
  const position = await webhook(db, mirrored.storeId, 'order.updated', 'order', order!.order_id, 1);
  await db
    .insert(enrichmentStateTable)
    .values({ storeId: mirrored.storeId, position })
    .onConflictDoUpdate({ target: enrichmentStateTable.storeId, set: { position } });
  const [row] = await db
    .insert(parkedEventsTable)
    .values({
      storeId: mirrored.storeId,
      position,
      entityKind: 'order',
      entityId: order!.order_id,
      error: 'Ecwid answered 400 Bad Request',
      attempts: 5,
    })
    .returning({ id: parkedEventsTable.id });
  parkedId = row!.id;
  // Two webhooks of a store the mirror has no token for.
  await webhook(db, tokenless, 'product.updated', 'product', '11', 2);
  await webhook(db, tokenless, 'product.updated', 'product', '12', 3);
  // The uninstalled store as the uninstall leaves it: its one webhook handled before, enrichment
  // stopped with `uninstalled`, the lifecycle row with both times.
  const handled = await webhook(db, uninstalled.storeId, 'order.updated', 'order', '21', 4);
  await db.insert(enrichmentStateTable).values({ storeId: uninstalled.storeId, position: handled, status: 'uninstalled' });
  await db.insert(storesTable).values({
    storeId: uninstalled.storeId,
    status: 'uninstalled',
    installedAt: uninstalled.installedAt,
    uninstalledAt: uninstalled.uninstalledAt,
    doc: {},
    sourcePosition: handled,
    syncedAt: new Date(),
  });

  const env = {
    ECWID_STORES: `${mirrored.storeId}:${mirrored.token}`,
    ECWID_API_BASE_URL: simServer.url,
    ECWID_CLIENT_SECRET: 'console-test-client-secret',
    MIRROR_ADMIN_TOKEN: adminToken,
    API_KEY_CACHE_MS: '0',
    PORT: '0',
    HOST: '127.0.0.1',
    RECONCILE_INTERVAL: '0',
  };
  const config = loadSections(env, {
    http: httpSection,
    ecwid: ecwidSection,
    api: apiSection,
    ingest: ingestSection,
    enrichment: enrichmentSection,
    projection: projectionSection,
    reconcile: reconcileSection,
    demo: demoSection,
  });
  mirror = await startAll(
    database,
    { ...config, oauth: undefined, box: createSecretBox(randomBytes(32)), demoMode: false, lagSampleMs: 300 },
    log,
  );
  base = `http://127.0.0.1:${mirror.port}`;
  // ECWID_STORES tokens come without scopes; an OAuth install records the granted ones.
  await db.update(storeTokensTable).set({ scopes: mirroredScopes }).where(eq(storeTokensTable.storeId, mirrored.storeId));

  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await mirror?.close();
  await simServer?.close();
  await database?.close();
});

async function openPage(width = 1280, height = 900): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.on('request', (req) => {
    if (!req.url().startsWith(`${base}/`) && !req.url().startsWith('data:')) foreign.push(req.url());
  });
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  page.on('console', (msg) => {
    // A sign-in with a bad token (401), a store key's refused actions (403) and the requests in
    // `deliberate` are the tests' own doing; no other 404 is expected on any page (no favicon
    // request, no polling of what is not there).
    const own = /status of 40[13]/.test(msg.text()) || (/status of 404/.test(msg.text()) && deliberate.has(msg.location().url));
    if (msg.type() === 'error' && !own) pageErrors.push(msg.text());
  });
  return page;
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('nav.tabs');
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

async function apiCall(path: string, token: string, init: RequestInit = {}) {
  const res = await fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as any };
}

describe.skipIf(missingChromium !== undefined)('the operator console in Chromium', () => {
  test('signs in with the admin token and reads every store with its lag per stage', async () => {
    const page = await openPage();
    await page.goto(`${base}/`);
    await page.waitForSelector('input[name=token]');
    await shot(page, '01-sign-in');
    // A wrong token is refused with the server's message.
    await page.fill('input[name=token]', 'not-a-key');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('.problem')).toContain('invalid or revoked API key');

    await page.fill('input[name=token]', adminToken);
    await page.click('button[type=submit]');
    const card = page.locator(`section.store[data-store-id="${tokenless}"]`);
    await card.waitFor();
    await page.locator(`section.store[data-store-id="${mirrored.storeId}"]`).waitFor();
    // The tokenless store: two webhooks waiting for a token, the oldest about 90 s old.
    await expect.poll(() => card.locator('tr[data-stage=enrichment]').textContent()).toContain('2 webhooks');
    expect(await card.locator('tr[data-stage=enrichment] .lag-seconds').textContent()).toMatch(/^\d+ s$|min$/);
    expect(await card.locator('.badge').textContent()).toBe('waiting for token');
    expect(await page.locator(`section.store[data-store-id="${mirrored.storeId}"] .badge`).textContent()).toBe('active');
    // The app's lifecycle: the token's fingerprint (never the token), the granted scopes, the install
    // time (the token's registration appended the install, projected into `stores`).
    const mirroredCard = page.locator(`section.store[data-store-id="${mirrored.storeId}"]`);
    expect(await mirroredCard.locator('.fingerprint').textContent()).toBe(tokenFingerprint(mirrored.token));
    expect(await mirroredCard.locator('.scope').allTextContents()).toEqual(mirroredScopes);
    await expect.poll(() => mirroredCard.locator('.installed-at').textContent(), { timeout: 10_000 }).not.toBe('unknown');
    expect(await mirroredCard.locator('.uninstalled-at').count()).toBe(0);
    expect(await page.textContent('main')).not.toContain(mirrored.token);
    // The uninstalled store is shown as such, with when it was installed and uninstalled.
    const gone = page.locator(`section.store[data-store-id="${uninstalled.storeId}"]`);
    expect(await gone.locator('.badge').textContent()).toBe('uninstalled');
    expect(await gone.locator('.uninstalled-note').textContent()).toContain('The app was uninstalled');
    const shown = (d: Date) =>
      page.evaluate((iso) => {
        const at = new Date(iso);
        return `${at.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' })} ${at.toLocaleTimeString()}`;
      }, d.toISOString());
    expect(await gone.locator('.installed-at').textContent()).toBe(await shown(uninstalled.installedAt));
    expect(await gone.locator('.uninstalled-at').textContent()).toBe(await shown(uninstalled.uninstalledAt));
    expect(await gone.locator('.fingerprint').count()).toBe(0);
    expect(await gone.locator('.token').textContent()).toBe('missing');
    await shot(page, '02-stores');

    // Phone width: one column, nothing cut off sideways.
    const phone = await openPage(390, 844);
    await signIn(phone, adminToken);
    await phone.locator(`section.store[data-store-id="${tokenless}"]`).waitFor();
    expect(await phone.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await shot(phone, '03-stores-phone');
    await phone.context().close();

    // The lag chart: uPlot canvases per store once two samples are in.
    await page.click('a[href="#/lag"]');
    const chart = page.locator(`section[data-store-id="${tokenless}"] .chart canvas`);
    await chart.first().waitFor({ timeout: 20_000 });
    expect(await chart.count()).toBe(2);
    expect(await page.locator(`section[data-store-id="${tokenless}"] .now-lag`).textContent()).toContain('2 webhooks');
    await page.waitForTimeout(1500);
    await shot(page, '04-lag');
    await page.context().close();
  });

  test('retries a parked webhook, which leaves the list', async () => {
    const page = await openPage();
    await signIn(page, adminToken);
    await page.click('a[href="#/parked"]');
    const row = page.locator(`tr[data-parked-id="${parkedId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('order.updated');
    await shot(page, '05-parked');
    await row.locator('button').click();
    await expect.poll(() => page.textContent('.notice'), { timeout: 20_000 }).toContain('1 resolved, 0 still failing');
    await expect.poll(() => row.count()).toBe(0);
    expect(await page.locator(`section[data-store-id="${mirrored.storeId}"] .parked-count`).textContent()).toBe('0');
    await shot(page, '06-parked-after-retry');
    const [resolved] = await execRows<{ resolved: boolean }>(
      database.db,
      sql`select resolved_at is not null as resolved from parked_events where id = ${parkedId}`,
    );
    expect(resolved?.resolved).toBe(true);
    await page.context().close();
  });

  test('verifies a store against Ecwid and shows the reconcile runs', async () => {
    const page = await openPage();
    await signIn(page, adminToken);
    await page.click('a[href="#/reconcile"]');
    await page.click('text=Verify now');
    const result = page.locator('.verify-result[data-status=done]');
    await result.waitFor({ timeout: 90_000 }).catch(async (err: unknown) => {
      await shot(page, '07-reconcile-verify-failed');
      throw new Error(`verify did not finish: ${await page.textContent('main')}`, { cause: err });
    });
    // Backfilled and caught up: every kind equals Ecwid's.
    expect(await result.locator('.badge').first().textContent()).toBe('identical');
    expect(await result.locator('tbody tr').count()).toBeGreaterThan(5);
    // The reconcile run before the server started, with what it found.
    const runRow = page.locator('tr.found', { hasText: 'products' });
    await runRow.waitFor().catch(async (err: unknown) => {
      const runs = await apiCall(`/v1/stores/${mirrored.storeId}/reconcile-runs`, adminToken);
      const rows = await execRows(database.db, sql`select store_id, kind, status from reconcile_runs`);
      throw new Error(`no products run: ${JSON.stringify(runs)} ${JSON.stringify(rows)}`, { cause: err });
    });
    expect(await runRow.locator('td.num').allTextContents()).toEqual(['0', '1', '1', '0', '2']);
    await shot(page, '07-reconcile-verify');
    await page.click('a[href="#/runs"]');
    await page.locator(`section[data-store-id="${mirrored.storeId}"] tbody tr`).first().waitFor();
    expect(await page.locator(`section[data-store-id="${mirrored.storeId}"] .badge`).first().textContent()).toBe('done');
    await shot(page, '08-backfill-rebuild');
    await page.context().close();
  }, 120_000);

  test('a verify in which a kind could not be compared is incomplete, not identical', async () => {
    const page = await openPage();
    // The server's answer for a verify whose reviews failed (Ecwid unreachable for them): the
    // shape GET /v1/stores/{id}/verify answers (operations-routes.int.test.ts tests the route).
    const kind = (entity: string, status: string, reason?: string) => ({
      entity,
      status,
      ...(reason && { reason }),
      checked: status === 'done' ? 20 : 0,
      missing: 0,
      stale: 0,
      missedDeletes: 0,
      healedTombstones: 0,
      samples: { missing: [], stale: [], missedDeletes: [], healedTombstones: [] },
    });
    await page.route(`**/v1/stores/${mirrored.storeId}/verify`, (route) =>
      route.request().method() === 'GET'
        ? route.fulfill({
            json: {
              status: 'done',
              startedAt: new Date(Date.now() - 5000).toISOString(),
              finishedAt: new Date().toISOString(),
              error: null,
              kinds: [kind('products', 'done'), kind('reviews', 'failed', 'Ecwid answered 503')],
            },
          })
        : route.continue(),
    );
    await signIn(page, adminToken);
    await page.click('a[href="#/reconcile"]');
    const result = page.locator('.verify-result[data-status=done]');
    await result.waitFor();
    expect(await result.locator('.badge').first().textContent()).toBe('incomplete');
    expect(await result.locator('p').first().textContent()).toContain('not compared: reviews');
    expect(await result.locator('tr', { hasText: 'reviews' }).textContent()).toContain('Ecwid answered 503');
    await shot(page, '07b-reconcile-verify-incomplete');
    await page.context().close();
  });

  test('lists personal-data requests', async () => {
    const asked = await apiCall(`/v1/stores/${mirrored.storeId}/personal-data-requests`, adminToken, {
      method: 'POST',
      body: JSON.stringify({ kind: 'export', customerId: 1 }),
    });
    expect(asked.status).toBe(202);
    const page = await openPage();
    await signIn(page, adminToken);
    await page.click('a[href="#/personal-data"]');
    await page.locator('main tbody tr').first().waitFor();
    expect(await page.locator('main tbody tr').first().textContent()).toContain('export');
    await shot(page, '09-personal-data');
    await page.context().close();
  });

  test('confirms one erasure a webhook asked for and cancels another', async () => {
    // Two erasures as the worker records Ecwid's removal requests: awaiting confirmation. Written
    // so at once (not asked for, then changed), or the server's worker may take one first.
    const ids: number[] = [];
    for (const customerId of [2, 3]) {
      const [row] = await database.db
        .insert(personalDataRequestsTable)
        .values({
          storeId: mirrored.storeId,
          kind: 'erase',
          scope: 'customer',
          source: 'webhook',
          status: 'awaiting_confirmation',
          subjectCustomerId: customerId,
        })
        .returning({ id: personalDataRequestsTable.id });
      ids.push(row!.id);
    }
    const [confirmId, cancelId] = ids as [number, number];
    const page = await openPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    await signIn(page, adminToken);
    await page.click('a[href="#/personal-data"]');
    const row = (id: number) => page.locator('main tbody tr', { has: page.locator(`td:text-is("${id}")`) });
    await row(cancelId).locator('text=Cancel').waitFor();
    await shot(page, '09b-personal-data-awaiting');
    await row(cancelId).locator('text=Cancel').click();
    await row(cancelId).locator('.badge', { hasText: 'cancelled' }).waitFor();
    await row(confirmId).locator('text=Confirm erasure').click();
    await row(confirmId).locator('text=Confirm erasure').waitFor({ state: 'detached' });
    expect(dialogs).toEqual([expect.stringMatching(/cannot be undone/)]);
    const status = async (id: number) =>
      (await apiCall(`/v1/stores/${mirrored.storeId}/personal-data-requests/${id}`, adminToken)).body as { status: string };
    expect((await status(cancelId)).status).toBe('cancelled');
    expect(['received', 'running', 'done']).toContain((await status(confirmId)).status);
    await page.context().close();
  });

  test('creates a key, shown once, and revokes it', async () => {
    const page = await openPage();
    await signIn(page, adminToken);
    await page.click('a[href="#/keys"]');
    await page.selectOption('select[name=storeId]', String(mirrored.storeId));
    await page.fill('input[name=label]', 'browser test');
    await page.click('text=Create key');
    const key = (await page.locator('.key-value').textContent())!;
    expect(key).toMatch(/^mk_/);
    expect((await apiCall('/v1/me', key)).body).toEqual({ role: 'store', storeId: mirrored.storeId });
    await shot(page, '10-keys-created');

    const row = page.locator('tr', { hasText: 'browser test' });
    await row.locator('text=Revoke').click();
    await row.locator('text=Confirm revoke').click();
    await expect.poll(() => row.locator('.badge').textContent()).toContain('revoked');
    // Gone from the screen and from the server (the key cache is off here).
    expect(await page.locator('.key-value').count()).toBe(0);
    expect((await apiCall('/v1/me', key)).status).toBe(401);
    await shot(page, '11-keys-revoked');
    await page.context().close();
  });

  test("a store key sees its own store and cannot see another's", async () => {
    const created = await apiCall('/v1/api-keys', adminToken, { method: 'POST', body: JSON.stringify({ storeId: tokenless }) });
    const page = await openPage();
    await signIn(page, created.body.key);
    await page.locator(`section.store[data-store-id="${tokenless}"]`).waitFor();
    expect(await page.locator('section.store').count()).toBe(1);
    expect(await page.locator(`[data-store-id="${mirrored.storeId}"]`).count()).toBe(0);
    expect(await page.textContent('.who')).toBe(`store ${tokenless} key`);
    // The log figures are the store's own: its newest record, not the whole log's head (the other stores' records are newer).
    const [own] = await execRows<{ head: string; all: string }>(
      database.db,
      sql`select (select max(position) from event_log where store_id = ${tokenless}) as head, (select max(position) from event_log) as all`,
    );
    expect(Number(own!.head)).toBeLessThan(Number(own!.all));
    const summary = await page.textContent('.summary');
    expect(summary).toContain(`Store's newest record ${await page.evaluate((n) => n.toLocaleString(), Number(own!.head))}`);
    expect(summary).not.toContain('Log head');
    // Asking for the other store from the page gets what a missing store gets.
    deliberate.add(`${base}/v1/stores/${mirrored.storeId}/parked`);
    const status = await page.evaluate(
      async ([storeId, key]) => (await fetch(`/v1/stores/${storeId}/parked`, { headers: { authorization: `Bearer ${key}` } })).status,
      [mirrored.storeId, created.body.key] as const,
    );
    expect(status).toBe(404);
    await shot(page, '12-store-key');
    await page.click('a[href="#/keys"]');
    // The page renders on the hash change, after the click returns: wait for it (a timeout fails the test).
    await page.locator('main', { hasText: 'Keys are managed with the admin token' }).waitFor({ timeout: 10_000 });
    expect(await page.textContent('main')).toContain('Keys are managed with the admin token');
    await page.context().close();
  });

  test(
    '/docs renders every operation from the local bundle, and "try it" calls this server with the key',
    { timeout: 60_000 },
    async () => {
      const page = await openPage();
      await page.goto(`${base}/docs`);
      await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
      const spec = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, object> };
      const operations = Object.values(spec.paths).reduce((n, item) => n + Object.keys(item).length, 0);
      expect(await page.locator('.opblock').count()).toBe(operations);
      expect(await page.textContent('body')).toContain('Read one order');
      await page.screenshot({ path: join(artifacts, '13-docs.png') });

      await page.click('button.authorize');
      await page.fill('.modal-ux input[type=text], .modal-ux input[type=password]', adminToken);
      await page.click('.modal-ux button.authorize');
      await page.click('.modal-ux button.btn-done, .modal-ux .close-modal');
      // Opens GET /v1/me, executes it and waits for its 200.
      const executeMe = async () => {
        const me = page.locator('.opblock', { hasText: '/v1/me' }).first();
        await me.locator('.opblock-summary').click();
        await me.locator('button.execute').click();
        await expect
          .poll(() => me.locator('.live-responses-table .response .response-col_status').first().textContent(), { timeout: 10_000 })
          .toContain('200');
        return me;
      };
      const me = await executeMe();
      expect(await me.locator('.live-responses-table').textContent()).toContain('"role": "admin"');
      await me.screenshot({ path: join(artifacts, '14-docs-try-it.png') });

      // The token is kept for this tab (sessionStorage), never where it outlives it (localStorage).
      expect(await page.evaluate('JSON.stringify({ ...localStorage })')).not.toContain(adminToken);
      await page.reload();
      await executeMe();

      // "Try it out" on a list sends no filter the reader did not fill in.
      const orders = page.locator('.opblock', { hasText: '/v1/stores/{storeId}/orders' }).first();
      await orders.locator('.opblock-summary').first().click();
      await orders.locator('input[placeholder="storeId"]').fill(String(mirrored.storeId));
      const sent = page.waitForRequest((request) => request.url().includes('/orders'));
      await orders.locator('button.execute').click();
      expect(new URL((await sent).url()).searchParams.toString()).toBe('limit=50');
      await page.context().close();
    },
  );

  test('no page asked any other origin for anything, and none logged an error', () => {
    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
