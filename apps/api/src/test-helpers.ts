import { createSilentLogger } from '@mirror/core';
import fc from 'fast-check';
import {
  eventLogTable,
  orderItemsTable,
  ordersTable,
  productCategoriesTable,
  productsTable,
  productVariationsTable,
  type Db,
  type NewEventLogRow,
} from '@mirror/db';
import { createApiApp, type ApiDeps } from './app.ts';
import { createApiKey } from './api-keys.ts';

export const adminToken = 'test-admin-token-0123456789';

let position = 1000;

/** The columns the projector writes on every row (docs/decisions/0002). */
export function projected(doc: Record<string, unknown> = {}, deletedAt: Date | null = null) {
  return { doc, deletedAt, sourcePosition: ++position, syncedAt: new Date('2024-06-01T00:00:00Z') };
}

export function createTestApp(db: Db, overrides: Partial<ApiDeps> = {}) {
  return createApiApp({
    db,
    adminToken,
    log: createSilentLogger(),
    cursorSecret: 'test-cursor-secret-0123456789',
    keyCacheMs: 0,
    ...overrides,
  });
}

export type TestApp = ReturnType<typeof createTestApp>;

/** GET with a bearer token; returns status and parsed JSON body. */
export async function get(app: TestApp, path: string, token: string | null = adminToken): Promise<{ status: number; body: any }> {
  const res = await app.request(path, token === null ? {} : { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // HTML or empty: keep the text
  }
  return { status: res.status, body };
}

/** Follows nextCursor from `path` to the end; returns every page's rows in order. */
export async function walk(app: TestApp, path: string, token: string = adminToken, between?: (page: number) => Promise<void>) {
  const rows: any[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await get(app, cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path, token);
    if (res.status !== 200) throw new Error(`page ${pages}: ${res.status} ${JSON.stringify(res.body)}`);
    rows.push(...res.body.data);
    cursor = res.body.nextCursor;
    pages += 1;
    if (pages > 1000) throw new Error('too many pages');
    if (cursor && between) await between(pages);
  } while (cursor);
  return { rows, pages };
}

export async function keyFor(db: Db, storeId: number, label?: string) {
  return (await createApiKey(db, { storeId, label })).key;
}

export type OrderSeed = Partial<typeof ordersTable.$inferInsert> & { orderId: string; items?: number };

/** An order row with `items` line items, as projection writes them. */
export async function insertOrders(db: Db, storeId: number, orders: OrderSeed[]) {
  if (orders.length === 0) return;
  await db.insert(ordersTable).values(
    orders.map(({ items: _, ...o }) => ({
      storeId,
      paymentStatus: 'PAID',
      fulfillmentStatus: 'AWAITING_PROCESSING',
      total: '10.00',
      currency: 'USD',
      createdAt: new Date('2024-01-01T00:00:00Z'),
      updatedAt: new Date('2024-01-01T00:00:00Z'),
      ...projected({ id: o.orderId, total: Number(o.total ?? 10) }, o.deletedAt ?? null),
      ...o,
    })),
  );
  const items = orders.flatMap((o) =>
    Array.from({ length: o.items ?? 0 }, (_, i) => ({
      storeId,
      orderId: o.orderId,
      itemId: i + 1,
      productId: 500 + i,
      sku: `SKU-${i + 1}`,
      name: `Item ${i + 1}`,
      quantity: 1,
      price: '5.00',
      ...projected({ id: i + 1 }),
    })),
  );
  if (items.length) await db.insert(orderItemsTable).values(items);
}

export async function insertProduct(
  db: Db,
  storeId: number,
  product: Partial<typeof productsTable.$inferInsert> & { productId: number; categoryIds?: number[]; variations?: number },
) {
  const { categoryIds = [], variations = 0, ...p } = product;
  await db.insert(productsTable).values({
    storeId,
    sku: `P-${p.productId}`,
    name: `Product ${p.productId}`,
    price: '19.99',
    enabled: true,
    inStock: true,
    createdAt: new Date('2024-01-01T00:00:00Z'),
    updatedAt: new Date('2024-01-01T00:00:00Z'),
    ...projected({ id: p.productId }),
    ...p,
  });
  if (categoryIds.length) {
    await db
      .insert(productCategoriesTable)
      .values(categoryIds.map((categoryId) => ({ storeId, productId: p.productId, categoryId, ...projected() })));
  }
  if (variations) {
    await db.insert(productVariationsTable).values(
      Array.from({ length: variations }, (_, i) => ({
        storeId,
        productId: p.productId,
        variationId: i + 1,
        sku: `V-${p.productId}-${i + 1}`,
        price: '21.00',
        quantity: 3,
        ...projected(),
      })),
    );
  }
}

/** Appends log records directly (the ingest and projector write them in production). */
export async function insertLog(db: Db, rows: Omit<NewEventLogRow, 'isKnownType'>[]) {
  return db
    .insert(eventLogTable)
    .values(rows.map((r) => ({ isKnownType: true, ...r })))
    .returning({ position: eventLogTable.position });
}

/** How many cases each property ran, by name: printed at the end of a test file (propertyRuns). */
export const propertyRuns = new Map<string, number>();

/**
 * Runs a fast-check property for `numRuns` cases (fast-check's seed and path are in the failure
 * report, to replay it) and records how many ran under `name`.
 */
export async function checkProperty<Ts>(name: string, property: fc.IAsyncProperty<Ts> | fc.IProperty<Ts>, numRuns: number) {
  const details = await fc.check(property as fc.IRawProperty<Ts>, { numRuns });
  if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? `property ${name} failed`);
  propertyRuns.set(name, details.numRuns);
  return details.numRuns;
}

/** The recorded property case counts as lines (`name: N cases`), for a test file's afterAll to print. */
export function propertyRunReport(): string {
  return [...propertyRuns].map(([name, runs]) => `  ${name}: ${runs} cases`).join('\n');
}

/** A well-formed Unicode string (no lone surrogates, which no UTF-8 escape can carry). */
export const unicode = (constraints: fc.StringConstraints = {}) =>
  fc.string({ unit: 'binary', ...constraints }).filter((s) => s.isWellFormed());

/**
 * Percent-encodes `s` the way a client might: always the reserved bytes, sometimes any other, in
 * upper or lower case; a space as `+` or `%20` in a query (`%20` in a path, where `+` is a `+`).
 */
export const encodeLoosely = (s: string, seed: number, where: 'query' | 'path' = 'query') =>
  [...s]
    .map((ch, i) => {
      const r = (seed >> (i % 24)) & 3;
      if (ch === ' ') return r & 1 && where === 'query' ? '+' : '%20';
      const enc = encodeURIComponent(ch);
      if (enc !== ch) return r === 0 ? enc.toLowerCase() : enc;
      return r === 3 ? `%${ch.charCodeAt(0).toString(16).padStart(2, '0')}` : ch;
    })
    .join('');
