import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRows } from '../create-db.ts';
import { createTestDatabase, type TestDatabase } from '../../testing/index.ts';

/*
 * Distributing the mirror by store (docs/decisions/0013-past-one-machine.md) needs every key to
 * lead with store_id: Citus accepts a unique index on a table distributed by store_id only if it
 * contains store_id, and a key that leads with it keeps each store's rows together on one node and
 * in one index range. These tests read the migrated schema's catalog, so a new table or index that
 * breaks the rule fails here, unless it is added below with its reason (which the decision record
 * explains too).
 */

/** Unique indexes (primary keys included) that do not lead with store_id, and why. */
const exceptions: Record<string, string> = {
  // Global by design: reference tables (one copy on every node), tiny and rarely written.
  'drizzle.__drizzle_migrations.__drizzle_migrations_pkey': 'migration bookkeeping: one schema for the whole cluster',
  'public.api_keys.api_keys_pkey': 'an API key is found by its hash before the store is known: a reference table',
  'public.api_keys.api_keys_key_hash_unique': 'the same lookup: a reference table',
  'public.mirror_keys.mirror_keys_pkey': "the mirror's own secrets (the subject-hash key): a reference table",
  'public.oauth_states.oauth_states_pkey': 'an install attempt, made before any store id is known: a reference table',
  // Keyed by today's global log position: each becomes store-scoped with the per-store position.
  'public.event_log.event_log_pkey': 'the global position: becomes (store_id, store_position)',
  'public.event_log.event_log_event_uq': "Ecwid's eventId unique across stores: becomes (store_id, event_id)",
  'public.consumer_checkpoints.consumer_checkpoints_pkey': 'the projection checkpoint on the global position: becomes (store_id, name)',
  'public.parked_events.parked_events_pkey': 'a serial id: becomes (store_id, id)',
  'public.parked_events.parked_events_position_uq': 'a global log position: becomes (store_id, position)',
  'public.personal_data_requests.personal_data_requests_position_uq': 'a global log position: becomes (store_id, requested_position)',
};

/** Tables without a store_id column: reference tables, global by design. */
const globalTables = ['public.consumer_checkpoints', 'public.mirror_keys', 'public.oauth_states'];

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

describe('keys for distribution by store', () => {
  it('leads every primary key and unique index with store_id, apart from the listed exceptions', async () => {
    const rows = await execRows<{ name: string; columns: string[] }>(
      database.db,
      sql`select n.nspname || '.' || t.relname || '.' || i.relname as name,
                 array(select a.attname::text from unnest(x.indkey) with ordinality k(attnum, ord)
                       join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum order by k.ord) as columns
          from pg_index x
          join pg_class t on t.oid = x.indrelid
          join pg_class i on i.oid = x.indexrelid
          join pg_namespace n on n.oid = t.relnamespace
          where x.indisunique and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
          order by 1`,
    );
    // The query must see the schema, or the assertion below proves nothing.
    expect(rows.map((r) => r.name)).toContain('public.orders.orders_store_id_order_id_pk');
    expect(rows.length).toBeGreaterThan(30);
    const notLeading = rows.filter((r) => r.columns[0] !== 'store_id').map((r) => r.name);
    expect(notLeading.sort()).toEqual(Object.keys(exceptions).sort());
  });

  it('gives every table a store_id that is never null, apart from the global ones', async () => {
    const rows = await execRows<{ name: string; has_store_id: boolean }>(
      database.db,
      sql`select n.nspname || '.' || c.relname as name,
                 exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'store_id'
                         and a.attnotnull and not a.attisdropped and a.atttypid = 'int8'::regtype) as has_store_id
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where c.relkind in ('r', 'p') and n.nspname = 'public'
          order by 1`,
    );
    expect(rows.length).toBeGreaterThan(25);
    expect(rows.filter((r) => !r.has_store_id).map((r) => r.name)).toEqual(globalTables);
  });

  it('lets no reporting view join or aggregate across stores', async () => {
    const views = await execRows<{ name: string; definition: string; has_store_id: boolean }>(
      database.db,
      sql`select c.relname as name, pg_get_viewdef(c.oid) as definition,
                 exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'store_id') as has_store_id
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where c.relkind in ('v', 'm') and n.nspname = 'reporting' order by 1`,
    );
    expect(views.length).toBeGreaterThanOrEqual(6);
    for (const view of views) {
      expect(view.has_store_id, `${view.name} has a store_id column`).toBe(true);
      for (const problem of crossStoreClauses(view.definition)) expect.fail(`reporting.${view.name}: ${problem}`);
    }
    // The check itself must catch what it looks for.
    expect(crossStoreClauses('SELECT 1 FROM (a x JOIN b y ON ((y.id = x.id)))')).toHaveLength(1);
    expect(crossStoreClauses('SELECT 1 FROM (a x JOIN b y ON (((y.store_id = x.store_id) AND (y.id = x.id))))')).toHaveLength(0);
    expect(crossStoreClauses('SELECT x.day, count(*) FROM a x GROUP BY x.day')).toHaveLength(1);
    expect(crossStoreClauses('SELECT 1 FROM a x CROSS JOIN b y')).toHaveLength(1);
    expect(crossStoreClauses('SELECT 1 FROM (a x JOIN b y USING (id))')).toHaveLength(1);
  });
});

/**
 * Joins and groupings in a view's definition, as Postgres prints it (pg_get_viewdef: every ON
 * condition in parentheses), that do not hold store_id: each JOIN's condition must equate the
 * store_id of its two sides, and each GROUP BY must group by store_id first. What this cannot see
 * (a correlated subquery, a comma join filtered in WHERE) the isolation test catches by running
 * every view with a second store's copy of the data (apps/mirror/src/scale-out).
 */
function crossStoreClauses(definition: string): string[] {
  const problems: string[] = [];
  const text = definition.replace(/\s+/g, ' ');
  if (/\bCROSS JOIN\b/i.test(text)) problems.push('a CROSS JOIN');
  for (const match of text.matchAll(/\bJOIN\s+\S+(?:\s+\w+)?\s+(ON|USING)\s*\(/gi)) {
    const condition = balanced(text, match.index + match[0].length - 1);
    if (match[1]!.toUpperCase() === 'USING') {
      if (!/\bstore_id\b/.test(condition)) problems.push(`a join USING ${condition} without store_id`);
    } else if (!/\b\w+\.store_id = \w+\.store_id\b/.test(condition)) {
      problems.push(`a join ON ${condition} without store_id equality`);
    }
  }
  // Each grouping lists store_id first (as every view is written), so it is read off the text.
  for (const match of text.matchAll(/\bGROUP BY\s+(\S+)/gi)) {
    if (!/^(?:\w+\.)?store_id,?$/.test(match[1]!)) problems.push(`GROUP BY ${match[1]} …, not by store_id first`);
  }
  return problems;
}

/** The parenthesised text starting at `open` (which must be a '('), parentheses included. */
function balanced(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return text.slice(open, i + 1);
  }
  return text.slice(open);
}
