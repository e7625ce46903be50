import { renderedKinds, renderingAuditText } from '@mirror/catalog';
import { sql } from 'drizzle-orm';
import { execRows, type Db } from '@mirror/db';
import { createSimulator } from '@mirror/ecwid-sim';
import { testStoreId, type RecordInput } from './append-records.ts';

const sim = createSimulator({
  stores: [{ storeId: testStoreId, token: 'secret_test', seed: 7, size: { orders: 20, products: 20, reviews: 10, carts: 10 } }],
});
/** A small simulated store: realistic documents of every kind. */
export const simStore = sim.store(testStoreId);

/** A mixed log: every kind, several versions, tombstones, from the fixtures and the simulator. */
export function logOfEverything(): RecordInput[] {
  const store = String(testStoreId);
  const records: RecordInput[] = [];
  for (const [i, o] of simStore.orders.values().slice(0, 8).entries()) {
    records.push({ entityKind: 'order', entityId: o.id, payload: { ...o, items: o.items } });
    // One order is partly refunded by its later version.
    const refunds =
      i === 3 ? { paymentStatus: 'PARTIALLY_REFUNDED', refunds: [{ date: o.updateDate, source: 'CP', reason: 'Damaged', amount: 1 }] } : {};
    records.push({
      entityKind: 'order',
      entityId: o.id,
      payload: { ...o, updateTimestamp: o.updateTimestamp + 10, items: o.items.slice(1), ...refunds },
    });
  }
  for (const p of simStore.products.values().slice(0, 8)) records.push({ entityKind: 'product', entityId: String(p.id), payload: p });
  for (const c of simStore.customers.values().slice(0, 4)) records.push({ entityKind: 'customer', entityId: String(c.id), payload: c });
  for (const c of simStore.categories.values().slice(0, 3)) records.push({ entityKind: 'category', entityId: String(c.id), payload: c });
  for (const c of simStore.carts.values().slice(0, 3)) records.push({ entityKind: 'abandoned_cart', entityId: c.cartId, payload: c });
  for (const r of simStore.reviews.values().slice(0, 3)) records.push({ entityKind: 'review', entityId: String(r.id), payload: r });
  for (const c of simStore.coupons.values().slice(0, 2))
    records.push({ entityKind: 'discount_coupon', entityId: String(c.id), payload: c });
  for (const p of simStore.promotions.values().slice(0, 2)) records.push({ entityKind: 'promotion', entityId: String(p.id), payload: p });
  for (const t of simStore.productTypes.values().slice(0, 2))
    records.push({ entityKind: 'product_type', entityId: String(t.id), payload: t });
  for (const g of simStore.customerGroups.values().slice(0, 2))
    records.push({ entityKind: 'customer_group', entityId: String(g.id), payload: g });
  const firstOrder = simStore.orders.values()[0]!;
  const invoice = { id: '1', type: 'SALE', created: '2024-09-04 07:22:09 +0000', link: 'https://x/1' };
  records.push(
    { entityKind: 'invoice', entityId: firstOrder.id, payload: { invoices: [invoice] } },
    { entityKind: 'invoice', entityId: firstOrder.id, payload: { invoices: [invoice, { ...invoice, id: '2' }] } },
    { entityKind: 'store_profile', entityId: store, payload: simStore.profile },
    { entityKind: 'app_subscription', entityId: store, payload: simStore.application },
    { entityKind: 'app_storage', entityId: store, payload: [{ key: 'a', value: '1' }] },
    { entityKind: 'app_storage', entityId: store, payload: [{ key: 'b', value: '2' }] },
    { entityKind: 'store', entityId: store, payload: { status: 'active', at: '2024-01-01T00:00:00.000Z' } },
    { kind: 'tombstone', entityKind: 'order', entityId: simStore.orders.values()[1]!.id },
    {
      kind: 'tombstone',
      entityKind: 'order',
      entityId: `internal:${simStore.orders.values()[2]!.internalId}`,
      payload: { reason: 'deleted', internalId: simStore.orders.values()[2]!.internalId },
    },
    { kind: 'tombstone', entityKind: 'product', entityId: String(simStore.products.values()[0]!.id) },
    { kind: 'tombstone', entityKind: 'customer', entityId: '999' },
    { entityKind: 'product', entityId: String(simStore.products.values()[0]!.id), payload: simStore.products.values()[0]! },
    { entityKind: 'store', entityId: store, payload: { status: 'uninstalled', at: '2024-02-01T00:00:00.000Z' } },
  );
  return records;
}

export const entityTables = [
  'orders',
  'order_items',
  'order_refunds',
  'abandoned_carts',
  'abandoned_cart_items',
  'products',
  'product_variations',
  'product_categories',
  'categories',
  'product_types',
  'customers',
  'customer_groups',
  'discount_coupons',
  'promotions',
  'reviews',
  'invoices',
  'store_profiles',
  'app_subscriptions',
  'app_storage',
  'stores',
];

/** The stored list renderings (decision 0022): a cache of the tables above, rebuilt with their kinds. */
export const renderedTables = ['orders_rendered', 'products_rendered', 'abandoned_carts_rendered'];

/**
 * For each kind whose rows are stored printed, its rows counted by their stored printing
 * (renderingAuditText): after a write, `missing`, `stale` and `wrong` should all be 0.
 */
export async function auditRenderings(
  target: Db,
  schema = 'public',
): Promise<Record<string, { rows: number; missing: number; stale: number; wrong: number }>> {
  const out: Record<string, { rows: number; missing: number; stale: number; wrong: number }> = {};
  for (const kind of renderedKinds) {
    const [row] = await execRows<{ rows: number; missing: number; stale: number; wrong: number }>(
      target,
      sql.raw(renderingAuditText(kind, schema)),
    );
    out[kind] = row!;
  }
  return out;
}

/** auditRenderings' answer when every row has its printing stored and right. */
export async function expectAllRendered(target: Db, schema = 'public'): Promise<void> {
  const audit = await auditRenderings(target, schema);
  for (const [kind, counts] of Object.entries(audit)) {
    if (counts.missing + counts.stale + counts.wrong > 0) throw new Error(`${kind}: stored printing ${JSON.stringify(counts)}`);
  }
}

/** Every entity table's full rows as JSON, ordered by the whole row. */
export async function snapshotTables(target: Db, schema = 'public'): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of entityTables) {
    const result = await execRows<{ row: unknown }>(target, sql.raw(`select to_jsonb(t) as row from "${schema}"."${table}" t order by 1`));
    out[table] = result.map((r) => r.row);
  }
  return out;
}
