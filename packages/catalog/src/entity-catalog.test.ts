import { getTableColumns, getTableName } from 'drizzle-orm';
import { describe, expect, it, test } from 'vitest';
import { entityCatalog, fetchedKinds, kinds, requiredScopes } from './entity-catalog.ts';
import { eventCatalog } from './event-types.ts';
import { kindName, parseKindList, resolveKindName } from './kind-names.ts';

const columnsOf = (table: Parameters<typeof getTableColumns>[0]) => Object.values(getTableColumns(table));

describe('the entity catalogue', () => {
  test('declares the fifteen kinds the log holds records of', () => {
    expect([...kinds].sort()).toEqual(
      [
        'abandoned_cart',
        'app_storage',
        'app_subscription',
        'category',
        'customer',
        'customer_group',
        'discount_coupon',
        'invoice',
        'order',
        'product',
        'product_type',
        'promotion',
        'review',
        'store',
        'store_profile',
      ].sort(),
    );
    expect(fetchedKinds).not.toContain('store');
    expect(fetchedKinds).toHaveLength(14);
  });

  test('gives every kind one public name, distinct from every other name and alias', () => {
    const spellings = kinds.flatMap((kind) => [entityCatalog[kind].name, kind, ...entityCatalog[kind].aliases]);
    const owners = new Map<string, Set<string>>();
    for (const kind of kinds) {
      for (const spelling of [entityCatalog[kind].name, kind, ...entityCatalog[kind].aliases]) {
        owners.set(spelling, (owners.get(spelling) ?? new Set()).add(kind));
      }
    }
    for (const [spelling, of] of owners) expect([spelling, [...of]]).toEqual([spelling, [expect.any(String)]]);
    expect(spellings.length).toBeGreaterThan(kinds.length);
    for (const kind of kinds) expect(kindName(kind)).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  test('names the keys, child tables and API columns by columns of the tables they belong to', () => {
    for (const kind of kinds) {
      const decl = entityCatalog[kind];
      const own = columnsOf(decl.table);
      if (decl.key !== 'store') expect(own, `${kind} key`).toContain(decl.key);
      for (const child of decl.children) {
        const childColumns = columnsOf(child.table);
        expect(childColumns, `${kind} child item key`).toContain(child.itemKey);
        // A child row names its parent by the parent's key column, under the same SQL name.
        if (decl.key !== 'store')
          expect(
            childColumns.map((c) => c.name),
            `${getTableName(child.table)} parent key`,
          ).toContain(decl.key.name);
      }
      const api = decl.api;
      if (api?.shape === 'collection') {
        expect(own, `${kind} id column`).toContain(api.idColumn);
        for (const column of api.listKey) expect(own, `${kind} list key`).toContain(column);
        for (const column of Object.values(api.sorts)) if (column) expect(own, `${kind} sort`).toContain(column);
        expect(Object.keys(api.sorts)).toContain(api.defaultSort.replace(/^-/, ''));
        for (const [name, filter] of Object.entries(api.filters)) {
          const table = filter.type === 'child' ? filter.table : decl.table;
          expect(columnsOf(table), `${kind} filter ${name}`).toContain(filter.column);
        }
      }
    }
  });

  test('declares every event type once, under the kind it concerns', () => {
    const declared = kinds.flatMap((kind) => entityCatalog[kind].events.map((e) => e.eventType));
    expect(new Set(declared).size).toBe(declared.length);
    for (const eventType of declared)
      expect(eventCatalog.get(eventType)?.entity).toBe(kinds.find((k) => entityCatalog[k].events.some((e) => e.eventType === eventType)));
  });
});

describe('kind names on the command line', () => {
  test('takes public names in the given order and drops repeats', () => {
    expect(parseKindList('orders, discount-coupons,orders')).toEqual({ kinds: ['order', 'discount_coupon'], deprecated: [] });
  });

  test('takes the old spellings of backfill and rebuild, and says they are deprecated', () => {
    expect(parseKindList('coupons,abandoned_cart')).toEqual({
      kinds: ['discount_coupon', 'abandoned_cart'],
      deprecated: [
        { alias: 'coupons', name: 'discount-coupons' },
        { alias: 'abandoned_cart', name: 'abandoned-carts' },
      ],
    });
    expect(resolveKindName('carts')).toEqual({ kind: 'abandoned_cart', deprecated: { alias: 'carts', name: 'abandoned-carts' } });
    expect(resolveKindName('application')?.kind).toBe('app_subscription');
    expect(resolveKindName('profile')).toEqual({ kind: 'store_profile' });
  });

  test('refuses unknown names and kinds the command does not handle, naming the choices', () => {
    expect(() => parseKindList('orders,gift-cards')).toThrow('unknown entities: gift-cards; choose from profile, subscription');
    expect(() => parseKindList('invoices', ['order', 'product'])).toThrow('unknown entities: invoices; choose from products, orders');
    expect(() => parseKindList(' , ')).toThrow('no entities given');
  });
});

describe('requiredScopes', () => {
  it('asks for the read scope of each mirrored kind, read_store_profile first, once each', () => {
    expect(requiredScopes()).toEqual([
      'read_store_profile',
      'read_catalog',
      'read_customers',
      'read_discount_coupons',
      'read_promotion',
      'read_orders',
      'read_reviews',
      'read_invoices',
    ]);
    expect(requiredScopes(['order', 'abandoned_cart'])).toEqual(['read_store_profile', 'read_orders']);
  });
});
