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
  'public.oauth_states.oauth_states_code_hash_key': 'an install code, used once, before any store id is known: the same table',
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
    // The check itself must catch what it looks for: in the real product_sales, a refund's items
    // found by order alone (another store's order of the same id), or weighed across stores.
    const productSales = views.find((v) => v.name === 'product_sales')!.definition.replace(/\s+/g, ' ');
    const uncorrelated = productSales.replace(/\(\w+\.store_id = r\.store_id\) AND (\(\w+\.order_id = r\.order_id\))/, '$1');
    expect(uncorrelated).not.toBe(productSales);
    expect(crossStoreClauses(uncorrelated)).toEqual([expect.stringContaining('LATERAL subquery not correlated by store_id')]);
    const unpartitioned = productSales.replace(/PARTITION BY weighted\.store_id, /, 'PARTITION BY ');
    expect(unpartitioned).not.toBe(productSales);
    expect(crossStoreClauses(unpartitioned)).toEqual([expect.stringContaining('not partitioned by store_id first')]);
    expect(crossStoreClauses('SELECT 1 FROM (a x JOIN b y ON ((y.id = x.id)))')).toHaveLength(1);
    expect(crossStoreClauses('SELECT 1 FROM (a x JOIN b y ON (((y.store_id = x.store_id) AND (y.id = x.id))))')).toHaveLength(0);
    expect(crossStoreClauses('SELECT x.day, count(*) FROM a x GROUP BY x.day')).toHaveLength(1);
    expect(crossStoreClauses('SELECT 1 FROM a x CROSS JOIN b y')).toHaveLength(1);
    expect(crossStoreClauses('SELECT 1 FROM (a x JOIN b y USING (id))')).toHaveLength(1);
    expect(crossStoreClauses('SELECT 1 FROM (a x NATURAL JOIN b y)')).toHaveLength(1);
    // A subquery or LATERAL subquery on the right: its ON is read, and a LATERAL's body too.
    expect(crossStoreClauses('SELECT 1 FROM (a x JOIN ( SELECT y.id FROM b y) z ON ((z.id = x.id)))')).toHaveLength(1);
    expect(crossStoreClauses('SELECT 1 FROM (a x JOIN ( SELECT y.store_id, y.id FROM b y) z ON ((z.store_id = x.store_id)))')).toHaveLength(
      0,
    );
    const lateral = (inner: string, on: string) =>
      `SELECT 1 FROM (a x JOIN LATERAL ( SELECT y.id, sum(y.w) OVER (ORDER BY y.id) AS cum FROM b y WHERE ${inner}) z ON ${on})`;
    expect(crossStoreClauses(lateral('((y.store_id = x.store_id) AND (y.id = x.id))', '(z.store_id = x.store_id)'))).toHaveLength(0);
    expect(crossStoreClauses(lateral('(y.id = x.id)', '(z.store_id = x.store_id)'))).toHaveLength(1);
    expect(crossStoreClauses(lateral('((y.store_id = x.store_id) AND (y.id = x.id))', 'true'))).toHaveLength(1);
    expect(crossStoreClauses('SELECT 1 FROM (a x JOIN b y)')).toEqual([expect.stringContaining('cannot read')]);
    // Windows outside a LATERAL subquery.
    expect(crossStoreClauses('SELECT sum(x.w) OVER (PARTITION BY x.store_id, x.day) FROM a x')).toHaveLength(0);
    expect(crossStoreClauses('SELECT sum(x.w) OVER (PARTITION BY x.day) FROM a x')).toHaveLength(1);
    expect(crossStoreClauses('SELECT sum(x.w) OVER () FROM a x')).toHaveLength(1);
    expect(crossStoreClauses('SELECT sum(x.w) OVER o FROM a x WINDOW o AS (PARTITION BY x.order_id)')).toHaveLength(1);
  });
});

/**
 * Joins, windows and groupings in a view's definition, as Postgres prints it (pg_get_viewdef:
 * every ON condition and window in parentheses), that do not hold store_id:
 * - each JOIN's condition must equate the store_id of its two sides; its right side may be a
 *   table, a subquery or a LATERAL subquery, and a LATERAL subquery must also be correlated by
 *   store_id inside. A join whose condition cannot be read here is a problem too (fail closed);
 * - each window must be partitioned by store_id first, except inside a LATERAL subquery, whose
 *   rows are those of one outer row (one order's items, say);
 * - each GROUP BY must group by store_id first.
 * What this cannot see (a correlated subquery in a select list, a comma join filtered in WHERE)
 * the isolation test catches by running every view with a second store's copy of the data
 * (apps/mirror/src/scale-out).
 */
function crossStoreClauses(definition: string): string[] {
  const problems: string[] = [];
  const text = definition.replace(/\s+/g, ' ');
  const equatesStores = /\b\w+\.store_id = \w+\.store_id\b/;
  const excerpt = (at: number) => `${text.slice(at, at + 60)}…`;
  /** Where LATERAL subqueries' bodies start and end. */
  const laterals: [number, number][] = [];
  for (const match of text.matchAll(/\b(CROSS |NATURAL )?JOIN\b/gi)) {
    if (match[1]) {
      problems.push(`a ${match[1].trim().toUpperCase()} JOIN`);
      continue;
    }
    let at = match.index + match[0].length;
    const skipSpace = () => {
      while (text[at] === ' ') at++;
    };
    skipSpace();
    const lateral = /^LATERAL\b/i.test(text.slice(at));
    if (lateral) {
      at += 'LATERAL'.length;
      skipSpace();
    }
    if (text[at] === '(') {
      const body = balanced(text, at);
      if (lateral) {
        laterals.push([at, at + body.length]);
        if (!equatesStores.test(body)) problems.push(`a LATERAL subquery not correlated by store_id: ${excerpt(at)}`);
      }
      at += body.length;
    } else {
      at += /^[^\s(]+/.exec(text.slice(at))?.[0].length ?? 0;
    }
    skipSpace();
    // An alias, unless the condition follows at once.
    const alias = /^(?:AS )?(\w+)(?:\([^)]*\))?/i.exec(text.slice(at));
    if (alias && !/^(ON|USING)$/i.test(alias[1]!)) {
      at += alias[0].length;
      skipSpace();
    }
    const kind = /^(ON|USING)\b/i.exec(text.slice(at))?.[1]?.toUpperCase();
    if (!kind) {
      problems.push(`a join whose condition this check cannot read: ${excerpt(match.index)}`);
      continue;
    }
    at += kind.length;
    skipSpace();
    const condition = text[at] === '(' ? balanced(text, at) : (/^\S+/.exec(text.slice(at))?.[0] ?? '');
    if (kind === 'USING') {
      if (!/\bstore_id\b/.test(condition)) problems.push(`a join USING ${condition} without store_id`);
    } else if (!equatesStores.test(condition)) {
      problems.push(`a join ON ${condition} without store_id equality`);
    }
  }
  // Windows: `OVER (…)` and `WINDOW name AS (…)`; `OVER name` is checked where the name is defined.
  for (const match of text.matchAll(/\b(?:OVER|WINDOW \w+ AS) ?\(/gi)) {
    const open = match.index + match[0].length - 1;
    if (laterals.some(([from, to]) => open > from && open < to)) continue;
    const spec = balanced(text, open);
    if (!/^\(PARTITION BY (?:\w+\.)?store_id\b/i.test(spec)) problems.push(`a window ${spec} not partitioned by store_id first`);
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
