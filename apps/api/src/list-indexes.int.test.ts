import { execRows } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { getTableName, sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { entities } from './entities.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

/*
 * A list page is read off an index from its cursor (keyset.ts): the store, the sort column, then
 * the key. A sort without such an index makes every page sort all of the store's rows first: on
 * 100,000 products, 95–116 ms a page instead of 3–11 (bench:api --filters). So every sort a list
 * offers, on every collection, has an index that leads with store_id and the sort column (a sort
 * by the key itself is the primary key's).
 */
test("every sort a list offers is read off an index that leads with store_id and the sort's column", async () => {
  const indexes = await execRows<{ table: string; columns: string[] }>(
    database.db,
    sql`select c.relname as table,
          array(select a.attname from unnest(i.indkey) with ordinality k(attnum, n)
                join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum order by k.n) as columns
        from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace s on s.oid = c.relnamespace
        where s.nspname = 'public' and i.indpred is null`,
  );
  const missing: string[] = [];
  let sorts = 0;
  for (const def of entities) {
    const table = getTableName(def.table);
    for (const [sort, column] of Object.entries(def.sorts)) {
      sorts++;
      const leading = ['store_id', (column ?? def.key[0]!).name];
      const found = indexes.some((index) => index.table === table && leading.every((name, i) => index.columns[i] === name));
      if (!found) missing.push(`${def.path}?sort=${sort} (${table}: ${leading.join(', ')})`);
    }
  }
  expect(sorts).toBeGreaterThan(30);
  expect(missing).toEqual([]);
});
