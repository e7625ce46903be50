import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDb, execPrepared, execRows } from '../create-db.ts';
import { serveEmbedded, type EmbeddedServer } from './embedded-server.ts';

/*
 * One PGlite served to many postgres.js clients over the wire protocol. PGlite is one backend,
 * so the server must give each client whole turns: an extended-protocol exchange (postgres.js
 * waits a round trip inside one) and a transaction belong to one client at a time. These are
 * the failures of @electric-sql/pglite-socket's own queue under concurrent clients (wrong
 * statements bound, hangs); they need no TEST_DATABASE_URL.
 */

let pglite: PGlite;
let server: EmbeddedServer;
beforeAll(async () => {
  pglite = await PGlite.create('memory://');
  server = await serveEmbedded(pglite);
});
afterAll(async () => {
  await server?.stop();
  await pglite?.close();
});

const client = (options: postgres.Options<Record<string, postgres.PostgresType>> = {}) =>
  postgres(server.url, { max: 1, onnotice: () => {}, ...options });

describe('the embedded server', () => {
  test('is a Postgres for any client: user postgres, database postgres, whatever the URL asks for', async () => {
    const sql = postgres(server.url.replace('postgres@', 'someone@').replace('/postgres', '/other'), { max: 1 });
    try {
      expect(await sql`select current_user as u, current_database() as d`).toEqual([{ u: 'postgres', d: 'postgres' }]);
    } finally {
      await sql.end();
    }
  });

  test.each([true, false])(
    'answers concurrent clients with their own results, errors and all (prepared statements: %s)',
    async (prepare) => {
      const clients = [0, 1, 2, 3].map(() => client({ prepare }));
      let wrong = 0;
      let errors = 0;
      try {
        await Promise.all(
          clients.map(async (sql, c) => {
            for (let i = 0; i < 150; i++) {
              // A new text each time: postgres.js describes it first (Parse, Describe, Flush), waits
              // for the parameter types, then binds: a round trip in the middle of the exchange.
              if (c === 3 && i % 10 === 0) {
                await sql.unsafe(`select syntax error ${i} $1`, [1]).then(
                  () => wrong++,
                  () => errors++,
                );
                continue;
              }
              const [row] = await sql.unsafe<{ v: number }[]>(`select $1::int as v, ${i} as i`, [c * 1000 + i]);
              if (row?.v !== c * 1000 + i) wrong++;
            }
          }),
        );
      } finally {
        await Promise.all(clients.map((c) => c.end()));
      }
      expect({ wrong, errors }).toEqual({ wrong: 0, errors: 15 });
    },
    30_000,
  );

  test("keeps a transaction to its client: nobody else's statement runs inside it", async () => {
    await pglite.exec('create table if not exists tx_probe (id int primary key)');
    const a = client();
    const b = client();
    try {
      let seenByB: number | undefined;
      await Promise.all([
        a
          .begin(async (tx) => {
            await tx`insert into tx_probe values (1)`;
            await new Promise((r) => setTimeout(r, 200));
            throw new Error('roll back');
          })
          .catch(() => {}),
        (async () => {
          await new Promise((r) => setTimeout(r, 50));
          // Waits for a's transaction to end, then sees nothing of it.
          seenByB = (await b`select count(*)::int as n from tx_probe`)[0]!.n as number;
        })(),
      ]);
      expect(seenByB).toBe(0);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  test('ends the transaction, statements and settings of a client that goes away', async () => {
    await pglite.exec('create table if not exists gone_probe (id int primary key)');
    const gone = client();
    const reserved = await gone.reserve();
    await reserved`set search_path = pg_catalog`;
    await reserved`select ${1}::int as gone_statement`;
    await reserved`begin`;
    await reserved`insert into public.gone_probe values (1)`;
    const other = client();
    try {
      // Queued behind the open transaction...
      const pending = other`select count(*)::int as n from public.gone_probe`;
      await new Promise((r) => setTimeout(r, 100));
      await gone.end({ timeout: 0 });
      // ... which is rolled back when its client disappears.
      expect((await pending)[0]!.n).toBe(0);
      expect((await other`show search_path`)[0]!.search_path).toBe('public');
      // (The pattern is split so that this statement does not match itself.)
      const statements = await other`select count(*)::int as n from pg_prepared_statements where statement like '%gone_' || 'statement%'`;
      expect(statements[0]!.n).toBe(0);
    } finally {
      await other.end();
    }
  });

  test('migrates once when two processes migrate at the same time (no advisory lock in one session)', async () => {
    const fresh = await PGlite.create('memory://');
    const served = await serveEmbedded(fresh);
    const [one, two] = await Promise.all([createDb({ url: served.url, embedded: true }), createDb({ url: served.url, embedded: true })]);
    try {
      expect(one.kind).toBe('pglite');
      await Promise.all([one.migrate(), two.migrate()]);
      expect(await one.checkReady()).toEqual({ ready: true });
      const [row] = await execRows<{ n: number; distinct: number }>(
        one.db,
        sql`select count(*)::int as n, count(distinct hash)::int as distinct from drizzle.__drizzle_migrations`,
      );
      expect(row!.n).toBe(row!.distinct);
    } finally {
      await Promise.all([one.close(), two.close()]);
      await served.stop();
      await fresh.close();
    }
  }, 60_000);

  test('a database opened on it prepares each statement at most twice in the one backend', async () => {
    // Each postgres.js connection prepares its own copy of a statement, and in the embedded server
    // every copy lives in the one backend for good (with ten connections, 48 MB of the demo's
    // PGlite memory). Concurrent statements spread over the pool's connections.
    const database = await createDb({ url: server.url, embedded: true });
    try {
      const text = 'select $1::int as v, pg_sleep(0.01) as pause_for_the_pool_size_test';
      await Promise.all(Array.from({ length: 12 }, (_, i) => execPrepared(database.db, text, [i])));
      const [row] = await execRows<{ n: number }>(
        database.db,
        sql`select count(*)::int as n from pg_prepared_statements where statement like '%' || 'pause_for_the_pool_size_test%'`,
      );
      expect(row!.n).toBeGreaterThanOrEqual(1);
      expect(row!.n).toBeLessThanOrEqual(2);
    } finally {
      await database.close();
    }
  });

  test('refuses a connection over the limit with a Postgres error', async () => {
    const fresh = await PGlite.create('memory://');
    const served = await serveEmbedded(fresh, { maxConnections: 1 });
    const first = postgres(served.url, { max: 1 });
    const second = postgres(served.url, { max: 1 });
    try {
      await first`select 1`;
      await expect(second`select 1`).rejects.toMatchObject({ code: '53300' });
    } finally {
      await Promise.all([first.end(), second.end()]);
      await served.stop();
      await fresh.close();
    }
  });
});
