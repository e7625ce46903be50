import { createGroupCommitter } from '@mirror/core';
import { Hono } from 'hono';
import postgres from 'postgres';

/**
 * The floor under any durable ingest: the cheapest server that answers 200 only after the
 * request's body is on disk in Postgres. It reads the body as text and group-commits it into a
 * table with nothing but an identity primary key, each group one `insert … select unnest($1)`
 * committed synchronously (the commit waits for the WAL flush), `maxInFlight` groups at once.
 * No signature check, no parsing, no dedupe by eventId, no commit-order lock, no notify: every
 * one of those is work ingest must do on top. So what this answers per second (and per CPU
 * second) bounds what any design of ingest can answer on this machine: if the floor is below
 * the ratio target, no ingest reaches it here.
 */
export async function createIngestFloor(url: string, options: { maxInFlight: number; maxBatch: number }) {
  const sql = postgres(url, { max: options.maxInFlight, onnotice: () => {} });
  await sql`create table if not exists bench_floor_log (position bigint generated always as identity primary key, body text not null)`;
  const committer = createGroupCommitter<string, null>({
    flush: async (bodies) => {
      await sql`insert into bench_floor_log (body) select unnest(${sql.array(bodies)}::text[])`;
      return bodies.map(() => null);
    },
    maxBatch: options.maxBatch,
    maxInFlight: options.maxInFlight,
  });
  const app = new Hono();
  app.post('*', async (c) => {
    await committer.submit(await c.req.text());
    return c.body(null, 200);
  });
  return {
    app,
    /** Rows the floor has committed so far. */
    rows: async () => Number((await sql<{ n: string }[]>`select count(*) as n from bench_floor_log`)[0]!.n),
    close: async () => {
      await committer.drain();
      await sql.end();
    },
  };
}
