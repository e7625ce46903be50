import { createApiApp } from '@mirror/api';
import { randomBytes } from 'node:crypto';
import { createSecretBox, createSilentLogger } from '@mirror/core';
import { execRows } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { createSimulator, type SimServer, type Simulator } from '@mirror/ecwid-sim';
import { addStoreToken, backfill, createClientFactory, projectBatch } from '@mirror/projector';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * No query joins across stores (docs/decisions/0013-past-one-machine.md): once the data is
 * distributed by store_id, a join without store_id equality would need rows from other nodes, and
 * on one machine it leaks another store's rows into this one's answers. The test mirrors store A
 * from the simulator (backfill and projection, the production path), records every reporting
 * view's rows for A and every GET of the query API under /v1/stores/{A} (found in its OpenAPI
 * document, so a new route is covered without touching this file), then copies all of A's rows and
 * log records to store B with the same ids (so any join or subquery that does not hold store_id
 * finds B's rows) and different figures and times (so it would show), and asks everything again:
 * A's answers must not change by one byte.
 */

const storeA = 7101;
const storeB = 7102;
const token = 'secret_isolation_token';
const adminToken = 'isolation-admin-token-0123456789';

let database: TestDatabase;
let sim: Simulator;
let server: SimServer;

describe('store isolation', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    sim = createSimulator({
      stores: [{ storeId: storeA, token, seed: 71, size: { orders: 60, products: 25, customers: 20, carts: 10, reviews: 10 } }],
    });
    server = await sim.listen(0);
    // The simulator's orders carry no coupon; a few do here, so coupon_usage has rows to compare.
    const store = sim.store(storeA);
    const coupon = store.coupons.values()[0]!;
    for (const order of store.orders.values().slice(0, 8)) {
      store.update('orders', order.internalId, (doc) => {
        doc.discountCoupon = {
          id: coupon.id,
          name: coupon.name,
          code: coupon.code,
          discountType: coupon.discountType,
          discount: coupon.discount,
        };
      });
    }
    const clientFor = createClientFactory({ baseUrl: server.url, log: createSilentLogger() });
    await addStoreToken(database.db, createSecretBox(randomBytes(32)), storeA, token);
    await backfill({ db: database.db, storeId: storeA, client: clientFor(storeA, token) });
    while ((await projectBatch(database.db)) > 0);
  });
  afterAll(async () => {
    await server?.close();
    await database?.close();
  });

  it('answers every reporting view and API route for one store the same when another store holds a copy of its data', async () => {
    const db = database.db;
    const app = createApiApp({
      db,
      adminToken,
      log: createSilentLogger(),
      cursorSecret: 'isolation-cursor-secret-0123456789',
      keyCacheMs: 0,
    });

    const views = (
      await execRows<{ name: string }>(
        db,
        sql`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'reporting' and c.relkind in ('v', 'm') order by 1`,
      )
    ).map((v) => v.name);
    expect(views.length).toBeGreaterThanOrEqual(6);
    const readViews = async (storeId: number) =>
      Object.fromEntries(
        await Promise.all(
          views.map(async (view) => {
            const rows = await execRows<{ r: string }>(
              db,
              sql`select row_to_json(v)::text as r from ${sql.raw(`reporting.${view}`)} v where v.store_id = ${storeId} order by 1`,
            );
            return [view, rows.map((row) => row.r)] as const;
          }),
        ),
      );

    const get = async (path: string) => {
      const res = await app.request(path, { headers: { authorization: `Bearer ${adminToken}` } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const openapi = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, { get?: unknown }> };
    // The console's verify state and lag samples live in the server's memory and move with the
    // clock, not with the store's data: left out.
    const operatorState = new Set(['/v1/stores/{storeId}/verify', '/v1/stores/{storeId}/lag-history']);
    const routes = Object.keys(openapi.paths).filter(
      (p) => p.startsWith('/v1/stores/{storeId}/') && openapi.paths[p]!.get && !operatorState.has(p),
    );
    expect(routes.length).toBeGreaterThan(20);

    /** Every GET route of store A: lists walked to the end, then each id route for the first ids a list gave. */
    async function readApi(): Promise<Record<string, unknown>> {
      const answers: Record<string, unknown> = {};
      const listed = new Map<string, Record<string, unknown>[]>();
      for (const route of routes.filter((r) => !/\{(?!storeId)/.test(r))) {
        const base = route.replace('{storeId}', String(storeA));
        const rows: unknown[] = [];
        if (route.endsWith('/events')) {
          for (let after = 0; ;) {
            const { status, body } = await get(`${base}?after=${after}&limit=100`);
            expect(status, base).toBe(200);
            const data = body['data'] as unknown[];
            if (data.length === 0) break;
            rows.push(...data);
            after = body['nextAfter'] as number;
          }
        } else {
          let cursor: string | null = null;
          do {
            const sep = base.includes('?') ? '&' : '?';
            const { status, body }: { status: number; body: Record<string, unknown> } = await get(
              cursor ? `${base}${sep}cursor=${encodeURIComponent(cursor)}` : base,
            );
            expect(status, base).toBe(200);
            if (!Array.isArray(body['data'])) {
              rows.push(body); // a singleton (profile, subscription, storage)
              break;
            }
            rows.push(...body['data']);
            cursor = (body['nextCursor'] as string | null) ?? null;
          } while (cursor);
          listed.set(route, rows as Record<string, unknown>[]);
        }
        answers[route] = rows;
      }
      for (const route of routes.filter((r) => /\{(?!storeId)/.test(r))) {
        const [, parent, param] = /^(.*?)\/\{(\w+)\}/.exec(route.replace('{storeId}', '#'))!;
        const rows = listed.get(parent!.replace('#', '{storeId}')) ?? [];
        for (const row of rows.slice(0, 3)) {
          const id = row[param!];
          if (id === undefined) continue;
          const path = route.replace('{storeId}', String(storeA)).replace(`{${param}}`, encodeURIComponent(String(id)));
          answers[path] = await get(path);
        }
      }
      return answers;
    }

    const viewsBefore = await readViews(storeA);
    // Every view has rows for A: an empty answer could not show a leak.
    for (const view of views) expect(viewsBefore[view]!.length, `reporting.${view} has rows for store A`).toBeGreaterThan(0);
    const apiBefore = await readApi();
    const idRoutes = Object.keys(apiBefore).filter((p) => /\/v1\/stores\/\d+\/[\w-]+\/[^/]+(\/history)?$/.test(p));
    expect(idRoutes.length, 'get-by-id and history routes were read').toBeGreaterThan(20);
    const leakyJoin = sql`select count(*)::int as n from order_items i join orders o on o.order_id = i.order_id where i.store_id = ${storeA}`;
    const [leakyBefore] = await execRows<{ n: number }>(db, leakyJoin);
    expect(leakyBefore!.n).toBeGreaterThan(0);

    await copyStore(storeA, storeB);

    // The copy must be one a leak would show in: a join on the ids alone now doubles.
    const [leakyAfter] = await execRows<{ n: number }>(db, leakyJoin);
    expect(leakyAfter!.n).toBe(2 * leakyBefore!.n);
    const viewsOfB = await readViews(storeB);
    for (const view of views) expect(viewsOfB[view]!.length, `reporting.${view} has rows for store B`).toBeGreaterThan(0);
    expect(viewsOfB['daily_sales']).not.toEqual(viewsBefore['daily_sales']!.map((r) => r.replace(String(storeA), String(storeB))));

    expect(await readViews(storeA)).toEqual(viewsBefore);
    expect(await readApi()).toEqual(apiBefore);
  }, 120_000);
});

/**
 * Copies a store's table rows (every table the projection writes: those with source_position) and
 * log records to another store id, keeping every key but the store, with money times three plus
 * one, times a day later and documents marked, so a query that mixes the two stores answers
 * differently.
 */
async function copyStore(from: number, to: number): Promise<void> {
  const db = database.db;
  const columns = await execRows<{ table: string; column: string; type: string }>(
    db,
    sql`select c.relname as table, a.attname as column, format_type(a.atttypid, a.atttypmod) as type
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = 'public' and c.relkind = 'r'
          and exists (select 1 from pg_attribute s where s.attrelid = c.oid and s.attname = 'source_position')
        order by c.relname, a.attnum`,
  );
  const tables = new Map<string, { column: string; type: string }[]>();
  for (const c of columns) tables.set(c.table, [...(tables.get(c.table) ?? []), c]);
  expect(tables.size).toBeGreaterThan(15);
  for (const [table, cols] of tables) {
    const list = cols.map((c) => `"${c.column}"`).join(', ');
    const values = cols.map(({ column, type }) => perturbed(`"${column}"`, column, type, to)).join(', ');
    await db.execute(sql.raw(`insert into public."${table}" (${list}) select ${values} from public."${table}" where store_id = ${from}`));
  }
  await db.execute(
    sql.raw(`insert into event_log (kind, store_id, event_id, event_type, entity_kind, entity_id, is_known_type, event_created_at,
               received_at, payload, caused_by, fetched_at, entity_updated_at, note)
             select kind, ${to}, 'copy-' || event_id, event_type, entity_kind, entity_id, is_known_type, event_created_at + interval '1 day',
               received_at, ${perturbed('payload', 'payload', 'jsonb', to)}, caused_by, fetched_at + interval '1 day',
               entity_updated_at + interval '1 day', note
             from event_log where store_id = ${from} order by position`),
  );
}

function perturbed(expression: string, column: string, type: string, storeId: number): string {
  if (column === 'store_id') return String(storeId);
  if (type === 'numeric') return `${expression} * 3 + 1`;
  if (type === 'timestamp with time zone') return `${expression} + interval '1 day'`;
  if (type === 'jsonb')
    return `case when jsonb_typeof(${expression}) = 'object' then ${expression} || '{"copiedTo": ${storeId}}' else ${expression} end`;
  return expression;
}
