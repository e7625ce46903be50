import { sql } from 'drizzle-orm';
import { execRows, sqlState, type Db, type Tx } from '@mirror/db';
import { bindStatement, bulkSnapshotStatement } from '../projection/build-statements.ts';
import type { Kind } from '@mirror/catalog';
import { projectionSpecs } from '../projection/entity-specs.ts';

export type BulkLoadOptions = {
  schema: string;
  /** The worklist table (worklistStatement), whose rows marked `bulk` this loads. */
  worklist: string;
  share: number;
  kinds: readonly Kind[];
  /** Records per statement (and transaction). */
  batchSize: number;
  /** The share's rebuild checkpoint, whose `updated_at` each chunk renews (the rebuild's lease). */
  checkpoint: string;
  /**
   * Table (share, entity_kind, position) holding how far each kind of each share got: read
   * first, moved by each chunk in its own transaction, so a crashed load resumes after it.
   */
  progress: string;
};

/**
 * Inserts one share's bulk worklist rows into the empty shadow tables, kind by kind, in chunks
 * of `batchSize` records (one statement and transaction each, which also moves the kind's
 * progress; synchronous_commit off: a crash of Postgres may lose the last chunks, with their
 * progress). Goes on from the progress an earlier run left. Calls `onChunk` with each chunk's
 * record count.
 */
export async function bulkLoad(db: Db, options: BulkLoadOptions, onChunk: (records: number) => Promise<void>): Promise<void> {
  for (const kind of options.kinds) {
    const spec = projectionSpecs[kind];
    if (spec.shape !== 'entity' || kind === 'store') continue;
    const statement = (trustObjects: boolean) => bulkSnapshotStatement(spec, options.schema, options.worklist, options.share, trustObjects);
    const trusted = statement(true);
    const [done] = await execRows<{ position: string | number }>(
      db,
      sql`select position from ${sql.raw(options.progress)} where share = ${options.share} and entity_kind = ${kind}`,
    );
    let from = Number(done?.position ?? 0);
    for (;;) {
      const values = { from, limit: options.batchSize };
      const chunk = await db.transaction(async (t) => {
        const tx: Tx = t;
        // A chunk's documents are found by position, one index probe each: a hash join would
        // read the whole log for every chunk (the first of each kind, whose range starts at 0),
        // a merge join every record between the chunk's first and last. No memoize: the planner
        // caches a child's per-element work keyed by the element's (or the array's) jsonb, hashing
        // every document to find it again; only a log of repeated documents (the bench's) hits.
        await tx.execute(
          sql`select set_config('synchronous_commit', 'off', true), set_config('jit', 'off', true), set_config('work_mem', '256MB', true),
                     set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true),
                     set_config('enable_memoize', 'off', true)`,
        );
        // The share's row may not exist yet (its batches create it): create it at position 0.
        await tx.execute(
          sql`insert into consumer_checkpoints (name, position) values (${options.checkpoint}, 0)
              on conflict (name) do update set updated_at = now()`,
        );
        type Chunk = { n: number; last: string | number | null };
        let loaded: Chunk | undefined;
        try {
          // Optimistic: documents are objects; a savepoint makes the rare exception a retry.
          loaded = await tx.transaction(async (savepoint) => (await execRows<Chunk>(savepoint, bindStatement(trusted, values)))[0]);
        } catch (err) {
          if (sqlState(err) !== '22023') throw err;
          loaded = (await execRows<Chunk>(tx, bindStatement(statement(false), values)))[0];
        }
        if (loaded && loaded.n > 0) {
          await tx.execute(
            sql`insert into ${sql.raw(options.progress)} (share, entity_kind, position) values (${options.share}, ${kind}, ${loaded.last})
                on conflict (share, entity_kind) do update set position = excluded.position`,
          );
        }
        return loaded;
      });
      const n = chunk?.n ?? 0;
      if (n > 0) {
        from = Number(chunk!.last);
        await onChunk(n);
      }
      if (n < options.batchSize) break;
    }
  }
}
