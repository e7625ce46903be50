import { sql, type SQL } from 'drizzle-orm';
import { execPrepared, execPreparedSql, pipelineCommit, sqlState, type Db, type Executor } from '@mirror/db';
import { bindStatement, shareOf, snapshotStatement, tombstoneStatements, type Share } from './build-statements.ts';
import { batchRowsWhere, kinds as allKinds, renderedKinds, renderStatementText, type Kind } from '@mirror/catalog';
import { projectionSpecs } from './entity-specs.ts';

export type ProjectBatchOptions = {
  /** Schema holding the entity tables (a rebuild writes to its shadow schema). */
  schema?: string;
  /** Row in consumer_checkpoints this consumer owns. */
  checkpoint?: string;
  /** Most snapshot/tombstone records applied in one transaction. */
  limit?: number;
  /** Apply only these kinds; records of other kinds are passed over (a partial rebuild). */
  kinds?: readonly Kind[];
  /**
   * Apply only this share of each kind's keys (split by hash of the key), for rebuild's parallel
   * connections. Kinds in `unsplit` are applied whole. A split order kind skips tombstones that
   * name only an internal id: the caller must know there are none in the range.
   */
  share?: Share;
  unsplit?: readonly Kind[];
  /** Apply records up to this position at most (the batch is caught up when it gets there). */
  until?: number;
  /**
   * Plan each statement once per connection and keep the plan (`plan_cache_mode =
   * force_generic_plan`; an ANALYZE of a table it reads replans it): the live projector
   * (runProjection), whose batches are small and whose tables change size slowly. Planning an
   * order statement (~30 kB of column expressions) costs about 3 ms, several times running it
   * for one record; with `auto`, Postgres never kept the generic plan, whose guess of the range's
   * rows made it look dearer than the custom ones (decision 0015). The statements then read their
   * records bounded by the batch's limit (build-statements.ts, Bound), so the kept plan stays one
   * for a small batch however long the log grows. Off (every batch planned for the tables as
   * they are now) for rebuilds and replays, whose shadow tables grow from empty within one run.
   */
  reusePlans?: boolean;
};

export type BatchOutcome = {
  /** Snapshot and tombstone records applied (records of other kinds are passed over). */
  records: number;
  from: number;
  /** The checkpoint after the batch (== from when there was nothing to do). */
  to: number;
  /** Another projector moved the checkpoint first: nothing was applied. */
  conflict: boolean;
  /** Whether the batch reached the head of the log. */
  caughtUp: boolean;
};

/** Options only rebuild uses: its batches may lose the last commits in a crash, it restarts. */
export type BatchTuning = { synchronousCommit?: boolean; workMem?: string };

class CheckpointMoved extends Error {
  override readonly name = 'CheckpointMoved';
}

const defaultLimit = 1000;
const identifier = /^[a-z_][a-z0-9_]*$/;

/**
 * Applies the next batch of snapshot and tombstone records after the consumer's checkpoint to
 * the entity tables and moves the checkpoint, in one transaction. Returns how many records the
 * batch held; 0 when there was nothing to do or another projector got there first.
 */
export async function projectBatch(db: Db, options: ProjectBatchOptions = {}): Promise<number> {
  return (await projectNextBatch(db, options)).records;
}

/**
 * projectBatch, telling also where the checkpoint went and whether the head was reached. In a
 * transaction of its own, so the batch's entity statements are sent at once (pipelined, each
 * prepared on its connection): one round trip for all of them instead of three per statement.
 * They read documents as objects without checking; a document that is not one fails the batch
 * (SQLSTATE 22023), which then runs again with the checks.
 */
export async function projectNextBatch(db: Db, options: ProjectBatchOptions & BatchTuning = {}): Promise<BatchOutcome> {
  const run = (trustObjects: boolean) =>
    db.transaction((tx) => applyBatch(tx, options, { pipelined: true, trustObjects, commit: () => pipelineCommit(tx) }));
  try {
    try {
      return await run(true);
    } catch (err) {
      if (sqlState(err) !== '22023') throw err;
      return await run(false);
    }
  } catch (err) {
    if (err instanceof CheckpointMoved) return { records: 0, from: 0, to: 0, conflict: true, caughtUp: false };
    throw err;
  }
}

/**
 * The batch inside a transaction the caller owns (rebuild's swap runs its last batches in the
 * swap transaction). Throws CheckpointMoved, which must abort that transaction.
 */
export async function projectBatchInTransaction(tx: Executor, options: ProjectBatchOptions & BatchTuning = {}): Promise<BatchOutcome> {
  // One statement at a time: a document that is not an object costs a savepoint's retry of its
  // statement, never the caller's transaction.
  return applyBatch(tx, options, { pipelined: false });
}

/**
 * `pipelined`: the entity statements are sent together, prepared, and a failure fails the
 * transaction (projectNextBatch owns it; `commit` sends its COMMIT behind them). Otherwise one by
 * one, the optimistic reading of documents under a savepoint.
 */
type Execution = { pipelined: true; trustObjects: boolean; commit: () => Promise<boolean> } | { pipelined: false };

async function applyBatch(tx: Executor, options: ProjectBatchOptions & BatchTuning, execution: Execution): Promise<BatchOutcome> {
  const schema = options.schema ?? 'public';
  if (!identifier.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const name = options.checkpoint ?? 'projection';
  const limit = options.limit ?? defaultLimit;
  const kinds = new Set<string>(options.kinds ?? allKinds);
  for (const kind of kinds) if (!(allKinds as readonly string[]).includes(kind)) throw new Error(`not a projected kind: ${kind}`);
  const kindList = sql.raw([...kinds].map((kind) => `'${kind}'`).join(', '));
  const share = options.share && options.share.count > 1 ? options.share : undefined;
  const shareOfKind = (kind: Kind) => (share && !options.unsplit?.includes(kind) ? share : undefined);
  // Kept plans are planned without the range: bound what they expect of it (see Bound).
  const bound = options.reusePlans ? limit : undefined;
  // The share of each record, by its kind's key: the same filter as the statements'.
  const inShare = share
    ? sql.raw(
        `and (case entity_kind ${[...kinds].map((kind) => `when '${kind}' then ${shareOfKind(kind as Kind) ? shareOf(projectionSpecs[kind as Kind], 'event_log', share.count) : share.index}`).join(' ')} end) = ${share.index}`,
      )
    : sql``;

  if (options.synchronousCommit === false) await tx.execute(sql`set local synchronous_commit = off`);
  // Big rebuild batches sort whole documents (newest per key): keep those sorts in memory.
  if (options.workMem) await tx.execute(sql`select set_config('work_mem', ${options.workMem}, true)`);

  // The checkpoint, the head, the batch's records by kind and the compare-and-set of the
  // checkpoint, in one statement (prepared: its text is fixed for given options): a batch sits on
  // the path of every webhook to its row, and each round trip is one more wait for a core.
  // - The head is read in the same snapshot as the checkpoint, and the batch stays below it: a
  //   record committed after that read waits for the next batch instead of being passed over
  //   (positions are commit-ordered, 0001). A short batch ends at the head, so trailing webhooks
  //   are not scanned again on every poll.
  // - The compare-and-set comes before any entity statement: the row lock it takes queues a
  //   second projector behind this transaction, after which its own compare-and-set fails and it
  //   applies nothing. Its row (kind `moved`) carries where the checkpoint went; no such row
  //   while there was something to do: it had moved. Caught up, it writes nothing.
  // - The entity statements that follow are planned for the tables as they are now (a generic
  //   plan cached while a table was small, a fresh rebuild's shadow, would keep scanning it whole
  //   as it grows), except the live projector's, which keeps its plans (reusePlans). No JIT: it
  //   costs more to compile these statements than it saves on a batch.
  const fromSql = sql`(select position from cp)`;
  const headSql = sql`(select head from hd)`;
  // A rebuild's share with a worklist reads its records from there: a narrow table holding just
  // them, where the log would mean reading every record of the range to compute its share.
  const listed = share?.worklist
    ? sql`select position, kind, entity_kind from ${sql.raw(share.worklist)}
          where share = ${share.index} and not bulk and position > ${fromSql} and position <= ${headSql}
          order by position limit ${limit}`
    : sql`select position, kind, entity_kind from event_log
          where position > ${fromSql} and position <= ${headSql} and kind in ('snapshot', 'tombstone')
            and entity_kind in (${kindList}) ${inShare}
          order by position limit ${limit}`;
  type Row = { entity_kind: string | null; kind: string; n: number; last: string | number | null; head: string | number | null };
  const batchStatement = sql`with cp as (
          select position from consumer_checkpoints where name = ${name}
        ), hd as (
          select least(coalesce(max(position), 0), ${options.until ?? null}::bigint) as head from event_log
        ), settings as (
          select set_config('plan_cache_mode', ${options.reusePlans ? 'force_generic_plan' : 'force_custom_plan'}, true) as plans,
                 set_config('jit', 'off', true) as jit
        ), summary as (
          select entity_kind, kind, count(*)::int as n, max(position) as last from (${listed}) s group by entity_kind, kind
        ), moved as (
          update consumer_checkpoints
          set position = (select case when coalesce(sum(n), 0) < ${limit} then ${headSql} else max(last) end from summary),
              updated_at = now()
          where name = ${name} and position = ${fromSql} and ${headSql} > ${fromSql}
          returning position
        )
        select entity_kind, kind, n, last, null::bigint as head from summary
        union all
        select null, 'moved', 0, position, null from moved
        union all
        select null, 'opening', 0, ${fromSql}, ${headSql} from settings`;
  let rows = await execPreparedSql<Row>(tx, batchStatement);
  let opening = rows.find((row) => row.kind === 'opening');
  if (opening?.last === null || opening?.last === undefined) {
    // No checkpoint row yet (a new consumer): made here, then the batch as usual.
    await createCheckpoint(tx, name);
    rows = await execPreparedSql<Row>(tx, batchStatement);
    opening = rows.find((row) => row.kind === 'opening');
  }
  const from = Number(opening?.last ?? 0);
  if (Number(opening?.head ?? 0) <= from) return { records: 0, from, to: from, conflict: false, caughtUp: true };
  const movedRow = rows.find((row) => row.kind === 'moved');
  if (!movedRow) throw new CheckpointMoved(`checkpoint ${name} moved from ${from}`);
  const summary = rows.filter((row) => row.kind !== 'moved' && row.kind !== 'opening');
  const records = summary.reduce((sum, row) => sum + row.n, 0);
  const caughtUp = records < limit;
  const to = Number(movedRow.last);

  const present = new Map<string, { snapshots: boolean; tombstones: boolean }>();
  for (const row of summary) {
    if (!row.entity_kind || !kinds.has(row.entity_kind)) continue;
    const entry = present.get(row.entity_kind) ?? { snapshots: false, tombstones: false };
    if (row.kind === 'snapshot') entry.snapshots = true;
    else entry.tombstones = true;
    present.set(row.entity_kind, entry);
  }
  // Fixed kind order, keys sorted within each statement: concurrent writers (a replay next to
  // the live projector) take row locks in the same order, so they queue instead of deadlocking.
  // Pipelined statements run in the order they are sent, so the order holds there too.
  const pending: Promise<unknown>[] = [];
  const run = (text: string) => {
    if (execution.pipelined) pending.push(execPrepared(tx, placeholders(text), [from, to]));
    else return tx.execute(bind(text, from, to));
    return undefined;
  };
  for (const kind of allKinds) {
    const entry = present.get(kind);
    if (!entry) continue;
    const spec = projectionSpecs[kind];
    const kindShare = shareOfKind(kind);
    const shareKey = `${kindShare ? `${kindShare.index}/${kindShare.count}/${kindShare.worklist ?? ''}` : ''}:${bound ?? ''}`;
    // Snapshots before tombstones: a snapshot earlier in the batch than its key's tombstone is
    // applied, then deleted; one after it is filtered out by the snapshot statement.
    if (entry.snapshots) {
      const variant = (trustObjects: boolean) =>
        statement(`${schema}:${kind}:s:${entry.tombstones}:${trustObjects}:${shareKey}`, () =>
          snapshotStatement(spec, schema, {
            withTombstones: entry.tombstones,
            trustObjects,
            ...(kindShare && { share: kindShare }),
            ...(bound !== undefined && { bound }),
          }),
        );
      if (spec.shape === 'set') await run(variant(false));
      else if (execution.pipelined) await run(variant(execution.trustObjects));
      else {
        // Optimistic: documents are objects; a savepoint makes the rare exception a retry.
        try {
          await tx.transaction(async (savepoint) => void (await savepoint.execute(bind(variant(true), from, to))));
        } catch (err) {
          if (sqlState(err) !== '22023') throw err;
          await tx.execute(bind(variant(false), from, to));
        }
      }
    }
    if (entry.tombstones) {
      const texts = cached(`${schema}:${kind}:t:${shareKey}`, () => tombstoneStatements(spec, schema, kindShare, bound));
      for (const text of texts) await run(text);
    }
    // The rows just written, printed as the API's lists print them (decision 0022), in the same
    // transaction. Not in a rebuild's shares: it prints its shadow tables whole once they are built
    // (rebuild.ts), and shares printing each other's rows would lock them in no common order.
    if (!share && renderedKinds.includes(kind)) {
      await run(statement(`${schema}:${kind}:r:${limit}`, () => renderStatementText(kind, schema, batchRowsWhere(kind, limit))));
    }
  }
  // This path owns its transaction (projectNextBatch): its COMMIT goes in the same write as the
  // entity statements, so the batch is visible to readers a round trip sooner (pipelineCommit;
  // a failed statement turns it into a rollback, and the batch is retried as before).
  if (execution.pipelined && pending.length > 0) pending.push(execution.commit());
  if (pending.length > 0) {
    // Every statement settles (a failed one fails those after it): the first failure is the cause.
    const settled = await Promise.allSettled(pending);
    const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
  return { records, from, to, conflict: false, caughtUp };
}

/** Makes the consumer's checkpoint row at 0, unless another transaction made it first. */
async function createCheckpoint(tx: Executor, name: string): Promise<void> {
  await tx.execute(sql`insert into consumer_checkpoints (name, position) values (${name}, 0) on conflict (name) do nothing`);
}

const statements = new Map<string, unknown>();
function cached<T>(key: string, build: () => T): T {
  if (!statements.has(key)) statements.set(key, build());
  return statements.get(key) as T;
}
const statement = (key: string, build: () => string) => cached(key, build);

const bind = (text: string, from: number, to: number): SQL => bindStatement(text, { from, to });

/** The statement text with `{{from}}` and `{{to}}` as `$1` and `$2`, for execPrepared. */
const placeholders = (text: string): string => cached(`$:${text}`, () => text.replaceAll('{{from}}', '$1').replaceAll('{{to}}', '$2'));
