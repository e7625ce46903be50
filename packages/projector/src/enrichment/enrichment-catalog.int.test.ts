import { enrichmentStateTable } from '@mirror/db';
import { eventCatalog, type EventTypeInfo } from '@mirror/catalog';
import type { SimStore } from '@mirror/ecwid-sim';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStoreToken, registerStoreToken } from '../stores/store-tokens.ts';
import { createKit, storeA, type Kit } from '../../testing/enrichment-kit.ts';

type Expected = { kind: 'snapshot' | 'tombstone'; entityKind: string; entityId: string; reason?: string };
type Case = { entityId: number | string; data?: Record<string, unknown>; expected: Expected[] };

const snap = (entityKind: string, entityId: string | number): Expected => ({ kind: 'snapshot', entityKind, entityId: String(entityId) });
const gone = (entityKind: string, entityId: string | number): Expected => ({
  kind: 'tombstone',
  entityKind,
  entityId: String(entityId),
  reason: 'deleted',
});

// Simple CRUD families: [event prefix, entity kind, sim table, webhook data].
const crudFamilies = {
  product: ['product', 'products'],
  category: ['category', 'categories'],
  customer: ['customer', 'customers'],
  customer_group: ['customer_group', 'customerGroups'],
  discount_coupon: ['discount_coupon', 'coupons'],
  promotion: ['promotion', 'promotions'],
  product_class: ['product_type', 'productTypes'],
  review: ['review', 'reviews'],
} as const;

/** A webhook as Ecwid would send it for this event type, and the records it must produce. */
function caseFor(info: EventTypeInfo, store: SimStore): Case {
  const [prefix] = info.eventType.split('.') as [string];
  const deleted = info.action === 'deleted';
  const storeId = store.storeId;
  // personalData* requests: logged, nothing to fetch.
  if (info.entity === 'personal_data_request') return { entityId: 123, expected: [] };
  if (prefix in crudFamilies) {
    const [entityKind, table] = crudFamilies[prefix as keyof typeof crudFamilies];
    // Deletes take the last document (and remove it, as Ecwid would); changes the first.
    const values = store.table(table).values() as { id: number }[];
    const doc = deleted ? values.at(-1)! : values[0]!;
    if (deleted) store.remove(table, doc.id as never);
    const data = prefix === 'customer' ? { customerEmail: 'x@example.com' } : prefix === 'promotion' ? { version: 1 } : undefined;
    return { entityId: doc.id, ...(data && { data }), expected: [deleted ? gone(entityKind, doc.id) : snap(entityKind, doc.id)] };
  }
  switch (prefix) {
    case 'order': {
      const order = deleted ? store.orders.values().at(-1)! : store.orders.values()[0]!;
      if (deleted) store.remove('orders', order.internalId);
      return {
        entityId: order.internalId,
        data: { orderId: order.id },
        expected: [deleted ? gone('order', order.id) : snap('order', order.id)],
      };
    }
    case 'unfinished_order': {
      const cart = deleted ? store.carts.values().at(-1)! : store.carts.values()[0]!;
      if (deleted) store.remove('carts', cart.cartId);
      return {
        entityId: cart.unfinishedOrder.internalId,
        data: { orderId: cart.unfinishedOrder.id, cartId: cart.cartId },
        expected: [deleted ? gone('abandoned_cart', cart.cartId) : snap('abandoned_cart', cart.cartId)],
      };
    }
    case 'invoice': {
      const order = store.orders.values()[1]!;
      // An order's invoices are one list: created and deleted alike re-fetch it, and the order
      // with it (an invoice changes its order).
      return { entityId: 777, data: { orderId: order.id }, expected: [snap('invoice', order.id), snap('order', order.id)] };
    }
    case 'profile':
      if (info.entity === 'store_profile') return { entityId: storeId, expected: [snap('store_profile', storeId)] };
      return { entityId: storeId, expected: [] };
    case 'application':
      switch (info.eventType) {
        case 'application.installed':
          return {
            entityId: storeId,
            expected: [snap('store', storeId), snap('store_profile', storeId), snap('app_subscription', storeId)],
          };
        case 'application.uninstalled':
          // Believed once Ecwid refuses the token, as it does for an uninstalled app; the app's
          // subscription ends with it.
          store.uninstall();
          return {
            entityId: storeId,
            expected: [
              snap('store', storeId),
              { kind: 'tombstone', entityKind: 'app_subscription', entityId: String(storeId), reason: 'uninstalled' },
            ],
          };
        case 'application.subscriptionStatusChanged':
          return {
            entityId: storeId,
            data: { oldSubscriptionStatus: 'TRIAL', newSubscriptionStatus: 'ACTIVE' },
            expected: [snap('app_subscription', storeId)],
          };
        case 'application.storageChanged':
          return { entityId: storeId, expected: [snap('app_storage', storeId)] };
      }
      break;
    case 'size_chart':
      return { entityId: 5, expected: [] };
  }
  throw new Error(`no case for ${info.eventType}`);
}

describe('enrichment of every catalog event type', () => {
  let kit: Kit;
  beforeAll(async () => {
    kit = await createKit();
  });
  afterAll(() => kit.close());

  it('covers all 45 catalog types', () => {
    expect(eventCatalog.size).toBe(45);
  });

  it.each([...eventCatalog.keys()])('%s → the right record', async (eventType) => {
    const info = eventCatalog.get(eventType)!;
    const store = kit.sim.store(storeA);
    const token = store.token!;
    const c = caseFor(info, store);
    // The lifecycle follows event times, and an install wins a tie: the uninstall comes later.
    const later = eventType === 'application.uninstalled' ? { eventCreated: Math.floor(Date.now() / 1000) + 1 } : {};
    const position = await kit.send({ eventType, entityId: c.entityId, ...(c.data && { data: c.data }), ...later });
    expect(position).toBeGreaterThan(0);

    const result = await kit.pass();
    expect(result.status).toBe('progressed');
    expect(result.position).toBe(position);

    const records = (await kit.records()).filter((r) => r.causedBy?.includes(position!));
    const got = records.map((r) => ({
      kind: r.kind,
      entityKind: r.entityKind,
      entityId: r.entityId,
      ...(r.kind === 'tombstone' && { reason: (r.payload as { reason: string }).reason }),
    }));
    expect(got).toEqual(c.expected);
    for (const r of records) {
      expect(r.eventType).toBe(r.entityKind);
      expect(r.eventId).toBeNull();
      expect(r.fetchedAt).toBeInstanceOf(Date);
      expect(r.causedBy).toEqual([position]);
    }
    if (c.expected[0]?.kind === 'snapshot' && c.expected[0].entityKind === 'order') {
      expect((records[0]!.payload as { id: string }).id).toBe(c.expected[0].entityId);
    }

    if (eventType === 'application.uninstalled') {
      const [state] = await kit.db.select().from(enrichmentStateTable).where(eq(enrichmentStateTable.storeId, storeA));
      expect(state?.status).toBe('uninstalled');
      // The refused token is destroyed with the uninstall.
      expect(await readStoreToken(kit.db, kit.box, storeA)).toBeUndefined();
      // Reinstall with a new token, so the remaining cases run against an installed app.
      const newToken = `${token}_reinstalled`;
      store.install(newToken);
      await registerStoreToken(kit.db, kit.box, { storeId: storeA, token: newToken, source: 'oauth' });
      await kit.send({ eventType: 'application.installed', entityId: storeA, eventCreated: Math.floor(Date.now() / 1000) + 2 });
      expect((await kit.pass()).status).toBe('progressed');
      const [after] = await kit.db.select().from(enrichmentStateTable).where(eq(enrichmentStateTable.storeId, storeA));
      expect(after?.status).toBe('active');
    }
  });
});
