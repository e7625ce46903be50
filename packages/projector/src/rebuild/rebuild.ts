import { sql } from 'drizzle-orm';
import { AppError } from '@mirror/core';
import { execRows, type Db, type Executor, type Tx } from '@mirror/db';
import { worklistStatement } from '../projection/build-statements.ts';
import { kinds as allKinds, renderedKinds, renderStatementText, shareRowsWhere, type Kind } from '@mirror/catalog';
import { projectionSpecs, storeProfileTimelineStatements, tablesOf, takesStoreProfile } from '../projection/entity-specs.ts';
import { projectBatchInTransaction, projectNextBatch } from '../projection/project-batch.ts';
import { bulkLoad } from './bulk-load.ts';
import { captureDependentViews, dropViews, recreateViews } from './dependent-views.ts';

export type RebuildPhase = 'build' | 'index' | 'catch-up' | 'swap' | 'done';

export type RebuildProgress = {
  phase: RebuildPhase;
  /** Position projected into the shadow tables so far. */
  position: number;
  /** The head of the log when the phase started. */
  head: number;
  /** Snapshot/tombstone records read so far. */
  records: number;
  /**
   * The records the rebuild goes through, counted before it starts: `records` reaches it when
   * it is done. It grows only by records appended while it runs (which the catch-up applies),
   * never shrinks. The build applies the records of most keys in bulk, out of log order, so
   * `position` stays behind until its end: `records` of `total` is the figure to show.
   */
  total: number;
};

export type RebuildOptions = {
  /** Table families to rebuild (default: all). */
  entities?: readonly Kind[];
  /** Called as the rebuild advances; awaited, so a slow callback slows the rebuild. */
  onProgress?: (progress: RebuildProgress) => void | Promise<void>;
  /** Records per batch while building (default 10,000). */
  batchSize?: number;
  /** How long the swap waits for the live tables' locks before giving up (default 10 s). */
  lockTimeoutMs?: number;
  /** The live projector's checkpoint (default `projection`). */
  liveCheckpoint?: string;
  /** Take over from a rebuild that looks alive (its lease was renewed recently). */
  force?: boolean;
  /**
   * Connections building at once (default 2), each projecting its own share of every kind's
   * keys (by hash) under its own checkpoint: the work is CPU-bound in Postgres, one core per
   * connection. On PGlite (one connection) the shares simply take turns.
   */
  parallel?: number;
  /**
   * How one rebuild at a time is ensured. `lease` (default, any database): the rebuild's
   * checkpoint rows, alive while one moved within 10 minutes (`force` takes over sooner).
   * `session` (Postgres, not the embedded PGlite, whose one session everyone shares): an advisory
   * lock held on a connection of its own, which ends with the process, so a rebuild that
   * crashed is resumed by the next one at once.
   */
  lock?: 'lease' | 'session';
};

export type RebuildResult = {
  tables: string[];
  records: number;
  position: number;
  /** The rebuild went on from where a crashed or failed one stopped, instead of starting over. */
  resumed: boolean;
};

const shadowSchema = 'mirror_rebuild';
// What a rebuild resumes from: its plan (one row), and how far each share's bulk load got.
const planTable = `${shadowSchema}.plan`;
const bulkProgressTable = `${shadowSchema}.bulk_progress`;
const sessionLockKey = 7262431000424244;
const retiredSchema = 'mirror_retired';
const checkpoint = 'rebuild';
// A rebuild renews its lease (the checkpoint row) with every batch and between index builds.
const leaseExpiry = '10 minutes';

/**
 * Recomputes entity tables from the log alone (no Ecwid call can happen: projection reads only
 * event_log) and swaps them in atomically:
 *
 * 1. shadow tables `mirror_rebuild.<table>` are created like the live ones (primary key only);
 * 2. the whole log is projected into them in batches, under the `rebuild` checkpoints, with
 *    synchronous_commit off; every chunk moves its checkpoint in the transaction that writes
 *    it, so a rebuild that crashed (or failed) is resumed from there by the next one, asked
 *    for the same tables (a crash of Postgres itself may lose the last chunks, and their
 *    checkpoints with them; never live data);
 * 3. secondary indexes are built and statistics gathered, then the shadow catches up again;
 * 4. one transaction locks the live projector's checkpoint row and the live tables, projects the
 *    last records into the shadow, moves the live tables aside and the shadow ones into `public`
 *    (same names, indexes, constraints, grants), drops the old ones, and recreates the views that
 *    read them (e.g. `reporting.*`) from their captured definitions.
 *
 * Readers see the old tables until that transaction commits, then the new ones. The live
 * projector may keep running: the swap waits for its batch in flight, and its next batch, from
 * its unchanged checkpoint, re-applies records the shadow already holds, which changes nothing
 * (newer wins, tombstones final). After a full rebuild its checkpoint is moved to the head the
 * shadow reached, skipping that redundant work.
 */
export async function rebuild(db: Db, options: RebuildOptions = {}): Promise<RebuildResult> {
  const kinds = options.entities ?? allKinds;
  const tables = [...new Set(kinds.flatMap((kind) => tablesOf(kind)))];
  const isFull = allKinds.every((kind) => kinds.includes(kind));
  const batchSize = options.batchSize ?? 10_000;
  let total = 0;
  const progress = async (phase: RebuildPhase, position: number, head: number, records: number) =>
    options.onProgress?.({ phase, position, head, records, total });

  const release = await claimLease(db, options.force ?? false, options.lock ?? 'lease');
  let records = 0;
  let position = 0;
  let resumed = false;
  try {
    const n = Math.max(1, options.parallel ?? 2);
    let head = await readHead(db);
    let plan = await readPlan(db, tables, kinds, n);
    resumed = plan !== undefined;
    // Of a total counted before the build starts or goes on (it grows only by what is appended
    // meanwhile, which the catch-up applies). Both this count and the search for internal-id
    // tombstones read the whole log, one core each: side by side.
    const fresh = plan === undefined;
    const [counted, internalTombstones] = await Promise.all([
      countRecords(db, kinds, 0, plan?.until ?? head),
      fresh && kinds.includes('order') ? hasInternalOrderTombstones(db, head) : false,
    ]);
    total = counted;
    let profilesMade = false;
    if (!plan) {
      await db.execute(sql`delete from consumer_checkpoints where name like ${`${checkpoint}:%`}`);
      await createShadowTables(db, tables);
      // Each connection projects every kind, for its share of the keys (by hash), so all of them
      // stay busy to the end whatever the mix of kinds. An order tombstone naming only the internal
      // id matches orders by another key, so when the log holds one, orders go whole to share 0.
      const unsplit: Kind[] = internalTombstones ? ['order'] : [];
      await progress('build', position, head, records);
      const until = head;
      const listed =
        sharesOf(kinds, unsplit, n).length > 1
          ? await buildWorklist(db, unsplit, sharesOf(kinds, unsplit, n), head, async () => {
              // Made while the worklist is vacuumed, on another core (it reads the log's profiles).
              if (!kinds.some(takesStoreProfile)) return;
              await createStoreProfileTimeline(db, until);
              profilesMade = true;
            })
          : undefined;
      const considered = listed?.shares.reduce((sum, share) => sum + share.considered, 0);
      // Superseded snapshots are done with: the worklist left them out.
      const superseded = listed?.shares.reduce((sum, share) => sum + share.considered - share.bulk - share.regular, 0) ?? 0;
      // The rows the worklist statements inserted: what a resumed rebuild checks it still holds.
      const worklistRows = listed ? listed.shares.reduce((sum, share) => sum + share.bulk + share.regular, 0) : null;
      plan = { until, unsplit, worklistRows, considered, superseded };
      await writePlan(db, kinds, n, plan);
    } else {
      await progress('build', position, head, records);
    }
    const { until, unsplit } = plan;
    const shares = sharesOf(kinds, unsplit, n);
    const worklist = plan.worklistRows === null ? undefined : worklistTable;
    records += plan.superseded + (resumed && worklist ? await countDone(db, worklist) : 0);
    if (worklist && kinds.some(takesStoreProfile) && !profilesMade) await createStoreProfileTimeline(db, until);
    // Each share advances under its own checkpoint up to the same head; the slowest one is the
    // overall position.
    const reached = shares.map(() => 0);
    let phase: RebuildPhase = 'build';
    await Promise.all(
      shares.map(async (share, i) => {
        // First the keys that need just their newest snapshot, in any order; then the rest in
        // log order. The two touch disjoint keys.
        if (worklist) {
          await bulkLoad(
            db,
            {
              schema: shadowSchema,
              worklist,
              share: share.share.index,
              kinds: share.kinds,
              batchSize,
              checkpoint: share.checkpoint,
              progress: bulkProgressTable,
            },
            async (n) => {
              records += n;
              await progress(phase, position, head, records);
            },
          );
        }
        for (;;) {
          const outcome = await projectNextBatch(db, {
            schema: shadowSchema,
            checkpoint: share.checkpoint,
            limit: batchSize,
            kinds: share.kinds,
            share: { ...share.share, ...(worklist && { worklist }) },
            unsplit,
            until,
            synchronousCommit: false,
            workMem: '256MB',
          });
          if (outcome.conflict) throw new AppError('UNAVAILABLE', 'another rebuild took over the rebuild checkpoints');
          records += outcome.records;
          reached[i] = outcome.to;
          position = Math.min(...reached);
          await progress(phase, position, head, records);
          if (outcome.caughtUp || outcome.to >= until) return;
        }
      }),
    );
    // From here on one checkpoint, every kind whole: the shares all stopped at `until`.
    const tail = `${checkpoint}:tail`;
    await db.execute(sql`insert into consumer_checkpoints (name, position) values (${tail}, ${until}) on conflict (name) do nothing`);

    phase = 'index';
    await progress('index', position, head, records);
    await renderShadowTables(db, kinds, n);
    await createSecondaryIndexes(db, tables, n);

    phase = 'catch-up';
    head = await readHead(db);
    total += await countRecords(db, kinds, until, head);
    await progress('catch-up', position, head, records);
    for (;;) {
      const outcome = await projectNextBatch(db, { schema: shadowSchema, checkpoint: tail, limit: batchSize, kinds, workMem: '256MB' });
      if (outcome.conflict) throw new AppError('UNAVAILABLE', 'another rebuild took over the rebuild checkpoints');
      records += outcome.records;
      position = outcome.to;
      // Records appended after the count above: the total grows with them, never back.
      total = Math.max(total, records);
      await progress(phase, position, head, records);
      if (outcome.caughtUp) break;
    }

    await progress('swap', position, head, records);
    position = await db.transaction(async (t) => {
      const tx: Tx = t;
      await tx.execute(sql.raw(`set local lock_timeout = ${Math.max(1, Math.round(options.lockTimeoutMs ?? 10_000))}`));
      const live = options.liveCheckpoint ?? 'projection';
      // The live projector takes this row first and the tables second; so does the swap, so
      // it waits for the projector's batch in flight and the projector then waits for it.
      await tx.execute(sql`insert into consumer_checkpoints (name, position) values (${live}, 0) on conflict (name) do nothing`);
      await tx.execute(sql`select position from consumer_checkpoints where name = ${live} for update`);
      await tx.execute(sql.raw(`lock table ${tables.map((t) => `public."${t}"`).join(', ')} in access exclusive mode`));

      let last = position;
      for (;;) {
        const outcome = await projectBatchInTransaction(tx, { schema: shadowSchema, checkpoint: tail, limit: batchSize, kinds });
        // Appended since the catch-up: counted as they are applied (no report until the swap ends).
        records += outcome.records;
        total += outcome.records;
        last = outcome.to;
        if (outcome.caughtUp) break;
      }

      const views = await captureDependentViews(
        tx,
        tables.map((t) => `public."${t}"`),
      );
      await dropViews(tx, views);
      await tx.execute(sql.raw(`create schema if not exists ${retiredSchema}`));
      for (const table of tables) {
        await tx.execute(sql.raw(`alter table public."${table}" set schema ${retiredSchema}`));
        await tx.execute(sql.raw(`alter table ${shadowSchema}."${table}" set schema public`));
        await copyPrivileges(tx, `${retiredSchema}."${table}"`, `public."${table}"`);
        await tx.execute(sql.raw(`drop table ${retiredSchema}."${table}"`));
      }
      await recreateViews(tx, views);
      if (isFull) {
        await tx.execute(
          sql`update consumer_checkpoints set position = greatest(position, ${last}), updated_at = now() where name = ${live}`,
        );
      }
      await tx.execute(sql`delete from consumer_checkpoints where name = ${checkpoint} or name like ${`${checkpoint}:%`}`);
      // Nothing left to resume, even if the process dies before the schema is dropped.
      await tx.execute(sql.raw(`drop table ${planTable}`));
      return last;
    });
  } catch (err) {
    // Keep the shadow tables and the checkpoints: the next rebuild of the same tables resumes
    // from them (any other starts over). Release the lease: age its rows out, keep positions.
    await db
      .execute(sql`update consumer_checkpoints set updated_at = 'epoch' where name = ${checkpoint} or name like ${`${checkpoint}:%`}`)
      .catch(() => {});
    throw err;
  } finally {
    await release();
  }
  await db.execute(sql.raw(`drop schema if exists ${shadowSchema} cascade`));
  await db.execute(sql.raw(`drop schema if exists ${retiredSchema} cascade`));
  await progress('done', position, position, records);
  return { tables, records, position, resumed };
}

/**
 * The built shadow tables' rows printed as the API's lists print them (decision 0022): the bulk
 * load and the shares' batches leave that to here, one statement per share of a kind's keys on
 * each connection. A resumed rebuild prints them again (it replaces what is there). The
 * catch-up's and the swap's batches print what they write, as the live projection does.
 */
async function renderShadowTables(db: Db, kinds: readonly Kind[], n: number): Promise<void> {
  const rendered = renderedKinds.filter((kind) => kinds.includes(kind));
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      for (const kind of rendered) {
        await db.transaction(async (tx) => {
          await tx.execute(sql`set local synchronous_commit = off`);
          await tx.execute(sql.raw(renderStatementText(kind, shadowSchema, shareRowsWhere(kind, i, n))));
        });
      }
    }),
  );
}

/**
 * What the bulk load of orders and carts reads their currency and time zone from (profileOf). One
 * transaction: a resumed rebuild finds it whole or not at all.
 */
async function createStoreProfileTimeline(db: Db, until: number): Promise<void> {
  await db.transaction(async (tx) => {
    for (const statement of storeProfileTimelineStatements(shadowSchema, until)) await tx.execute(sql.raw(statement));
  });
}

type Plan = {
  /** The head of the log the build goes to. */
  until: number;
  unsplit: Kind[];
  /** Rows of the worklist when it was made (an unlogged table: a crash of Postgres empties it). */
  worklistRows: number | null;
  /** Records the build goes through (the worklist's count, superseded snapshots included). */
  considered: number | undefined;
  /** Superseded snapshots the worklist left out. */
  superseded: number;
};

const sharesOf = (kinds: readonly Kind[], unsplit: readonly Kind[], n: number) =>
  Array.from({ length: n }, (_, i) => ({
    checkpoint: `${checkpoint}:${i}`,
    kinds: i === 0 ? kinds : kinds.filter((kind) => !unsplit.includes(kind)),
    share: { index: i, count: n },
  })).filter((share) => share.kinds.length > 0);

async function writePlan(db: Db, kinds: readonly Kind[], n: number, plan: Plan): Promise<void> {
  await db.execute(
    sql.raw(`create table ${planTable} (kinds text not null, shares int not null, until bigint not null, unsplit text not null,
             worklist_rows bigint, considered bigint, superseded bigint not null)`),
  );
  await db.execute(
    sql.raw(`create table ${bulkProgressTable} (share int, entity_kind text, position bigint not null, primary key (share, entity_kind))`),
  );
  await db.execute(
    sql`insert into ${sql.raw(planTable)} values (${[...kinds].sort().join(',')}, ${n}, ${plan.until}, ${plan.unsplit.join(',')},
          ${plan.worklistRows}, ${plan.considered ?? null}, ${plan.superseded})`,
  );
}

/**
 * The plan of an unfinished rebuild this one can go on with: same tables and connections, its
 * shadow tables all there, its worklist whole. Otherwise undefined, and the rebuild starts over.
 */
async function readPlan(db: Db, tables: readonly string[], kinds: readonly Kind[], n: number): Promise<Plan | undefined> {
  const [exists] = await execRows<{ found: boolean }>(
    db,
    sql`select to_regclass(${planTable}) is not null and to_regclass(${bulkProgressTable}) is not null as found`,
  );
  if (!exists?.found) return undefined;
  type Row = {
    kinds: string;
    shares: number;
    until: string | number;
    unsplit: string;
    worklist_rows: string | number | null;
    considered: string | number | null;
    superseded: string | number;
  };
  const [row] = await execRows<Row>(db, sql.raw(`select * from ${planTable}`));
  if (!row || row.kinds !== [...kinds].sort().join(',') || Number(row.shares) !== n) return undefined;
  const missing = await execRows<{ t: string }>(
    db,
    sql`select t from unnest(${sql.raw(`array[${tables.map((t) => `'${t}'`).join(', ')}]::text[]`)}) t
        where to_regclass(${shadowSchema} || '."' || t || '"') is null`,
  );
  if (missing.length > 0) return undefined;
  const worklistRows = row.worklist_rows === null ? null : Number(row.worklist_rows);
  if (worklistRows !== null) {
    // A worklist made by an older version (without first_snapshot) cannot be gone on with.
    const [found] = await execRows<{ found: boolean }>(
      db,
      sql`select exists (select 1 from pg_attribute where attrelid = to_regclass(${worklistTable}) and attname = 'first_snapshot') as found`,
    );
    if (!found?.found || (await countRows(db, worklistTable)) !== worklistRows) return undefined;
  }
  return {
    until: Number(row.until),
    unsplit: row.unsplit === '' ? [] : (row.unsplit.split(',') as Kind[]),
    worklistRows,
    considered: row.considered === null ? undefined : Number(row.considered),
    superseded: Number(row.superseded),
  };
}

async function countRows(db: Db, table: string): Promise<number> {
  const [row] = await execRows<{ n: string | number }>(db, sql.raw(`select count(*) as n from ${table}`));
  return Number(row?.n ?? 0);
}

/** Worklist records an earlier run of this rebuild applied: bulk ones up to each kind's progress, the rest up to their share's checkpoint. */
async function countDone(db: Db, worklist: string): Promise<number> {
  const [row] = await execRows<{ n: string | number | null }>(
    db,
    sql.raw(`select
      (select count(*) from ${worklist} w join ${bulkProgressTable} p on p.share = w.share and p.entity_kind = w.entity_kind
        where w.bulk and w.kind = 'snapshot' and w.position <= p.position)
      + (select count(*) from ${worklist} w join consumer_checkpoints c on c.name = '${checkpoint}:' || w.share
        where not w.bulk and w.position <= c.position) as n`),
  );
  return Number(row?.n ?? 0);
}

/** Snapshot and tombstone records of these kinds in (from, to]: what projecting that range goes through. */
async function countRecords(db: Db, kinds: readonly Kind[], from: number, to: number): Promise<number> {
  if (to <= from) return 0;
  const [row] = await execRows<{ n: string | number }>(
    db,
    sql`select count(*) as n from event_log
        where position > ${from} and position <= ${to} and kind in ('snapshot', 'tombstone')
          and entity_kind in (${sql.join(
            kinds.map((kind) => sql`${kind}`),
            sql`, `,
          )})`,
  );
  return Number(row?.n ?? 0);
}

async function readHead(db: Db): Promise<number> {
  const [row] = await execRows<{ head: string | number | null }>(db, sql`select max(position) as head from event_log`);
  return Number(row?.head ?? 0);
}

/**
 * One rebuild at a time; returns what releases it. With `lease`, the lease is the set of
 * `rebuild` checkpoint rows: every batch renews its share's row, so a rebuild is alive while one
 * of them moved within the expiry. With `session`, an advisory lock on a connection held for the
 * whole rebuild: whoever gets it knows any earlier rebuild is gone.
 */
async function claimLease(db: Db, force: boolean, lock: 'lease' | 'session'): Promise<() => Promise<void>> {
  const mine = sql`(name = ${checkpoint} or name like ${`${checkpoint}:%`})`;
  const release = lock === 'session' ? await holdSessionLock(db) : async () => {};
  if (lock === 'lease' && !force) {
    const [alive] = await execRows<{ ago: number; takeover: number }>(
      db,
      sql`select extract(epoch from now() - max(updated_at))::float8 as ago,
                 extract(epoch from max(updated_at) + ${sql.raw(`interval '${leaseExpiry}'`)} - now())::float8 as takeover
          from consumer_checkpoints where ${mine}
          having max(updated_at) > now() - ${sql.raw(`interval '${leaseExpiry}'`)}`,
    );
    if (alive) {
      // A rebuild killed a moment ago looks exactly like one running: say both, and what to do.
      throw new AppError(
        'UNAVAILABLE',
        `a rebuild wrote its last batch ${Math.round(alive.ago)} s ago: if it is still running, let it finish; if it was ` +
          `stopped, it is taken over in ${Math.ceil(alive.takeover)} s (${leaseExpiry} after that batch), or now with --force, ` +
          'which goes on from where it stopped',
      );
    }
  }
  // The share rows stay: they are where a resumed rebuild goes on from.
  await db.execute(sql`delete from consumer_checkpoints where name = ${checkpoint}`);
  const claimed = await execRows<{ name: string }>(
    db,
    sql`insert into consumer_checkpoints (name, position) values (${checkpoint}, 0) on conflict (name) do nothing returning name`,
  );
  if (claimed.length === 0) {
    await release();
    throw new AppError('UNAVAILABLE', 'another rebuild started at the same time');
  }
  // Renewed: a resumed rebuild's share rows may have been aged out when it failed.
  await db.execute(sql`update consumer_checkpoints set updated_at = now() where ${mine}`);
  return release;
}

type ReservedConnection = {
  <T>(strings: TemplateStringsArray, ...values: unknown[]): Promise<T[]>;
  release(): void;
};

/** Takes the rebuild's session advisory lock on a connection reserved from the pool (postgres.js). */
async function holdSessionLock(db: Db): Promise<() => Promise<void>> {
  const client = (db as unknown as { $client?: { reserve?: () => Promise<ReservedConnection> } }).$client;
  if (typeof client?.reserve !== 'function') throw new Error('the session lock needs Postgres through postgres.js');
  const connection = await client.reserve();
  try {
    const [row] = await connection<{ locked: boolean }>`select pg_try_advisory_lock(${sessionLockKey}) as locked`;
    if (!row?.locked) throw new AppError('UNAVAILABLE', 'a rebuild is already running (another session holds its lock)');
  } catch (err) {
    connection.release();
    throw err;
  }
  return async () => {
    await connection`select pg_advisory_unlock(${sessionLockKey})`.catch(() => {});
    connection.release();
  };
}

const worklistTable = `${shadowSchema}.worklist`;

/**
 * Lists, each share in parallel, the records up to `head` the build must apply, so that each
 * statement reads only its own records instead of filtering the whole range, and leaves out
 * the snapshots a later one of the same key supersedes (about half of a log of repeatedly
 * fetched orders and products): the build never reads or writes their documents. Skippable
 * are entity kinds whose row is just the newest snapshot: not `store` (its install times span
 * all its snapshots), not sets, not orders while tombstones by internal id exist (they match
 * orders by another key). Returns undefined when a document is not an object (the build then
 * filters the log itself and reads every record).
 */
async function buildWorklist(
  db: Db,
  unsplit: readonly Kind[],
  shares: readonly { kinds: readonly Kind[]; share: { index: number; count: number } }[],
  head: number,
  alongside: () => Promise<void>,
): Promise<{ table: string; shares: WorklistCounts[] } | undefined> {
  const skippable = allKinds.filter((kind) => {
    const spec = projectionSpecs[kind];
    return spec.shape === 'entity' && kind !== 'store' && !unsplit.includes(kind);
  });
  await db.execute(
    sql.raw(
      `create unlogged table ${worklistTable} (share int not null, kind text not null, entity_kind text not null, position bigint not null, bulk boolean not null,
         first_snapshot bigint)`,
    ),
  );
  let counts: WorklistCounts[];
  try {
    counts = await Promise.all(
      shares.map(async ({ kinds, share }) => {
        const specs = kinds.map((kind) => projectionSpecs[kind]);
        const text = worklistStatement(specs, skippable, unsplit, worklistTable, share).replaceAll('{{to}}', String(head));
        return db.transaction(async (tx) => {
          await tx.execute(sql`select set_config('work_mem', '256MB', true), set_config('jit', 'off', true)`);
          const [row] = await execRows<WorklistCounts>(tx, sql.raw(text));
          return { considered: row?.considered ?? 0, bulk: row?.bulk ?? 0, regular: row?.regular ?? 0 };
        });
      }),
    );
  } catch (err) {
    const e = err as { code?: unknown; cause?: { code?: unknown } };
    if ((e.code ?? e.cause?.code) !== '22023') throw err;
    await db.execute(sql.raw(`drop table ${worklistTable}`));
    return undefined;
  }
  // For the batch statements (by kind), the bulk load (by kind) and the batches' summary (by
  // position). Two connections build them side by side (both take a share lock), one core each;
  // then the vacuum, while `alongside` has the other core.
  await Promise.all([
    db.execute(sql.raw(`create index on ${worklistTable} (share, bulk, entity_kind, kind, position)`)),
    db.execute(sql.raw(`create index on ${worklistTable} (share, bulk, position)`)),
  ]);
  await Promise.all([db.execute(sql.raw(`vacuum analyze ${worklistTable}`)), alongside()]);
  return { table: worklistTable, shares: counts };
}

type WorklistCounts = { considered: number; bulk: number; regular: number };

/** Whether the log up to `head` holds an order tombstone that names only the internal id. */
async function hasInternalOrderTombstones(db: Db, head: number): Promise<boolean> {
  const rows = await execRows<{ found: boolean }>(
    db,
    sql`select exists (select 1 from event_log where position <= ${head} and kind = 'tombstone'
          and entity_kind = 'order' and entity_id like 'internal:%') as found`,
  );
  return rows[0]?.found === true;
}

async function createShadowTables(db: Db, tables: readonly string[]): Promise<void> {
  await db.execute(sql.raw(`drop schema if exists ${shadowSchema} cascade`));
  await db.execute(sql.raw(`create schema ${shadowSchema}`));
  for (const table of tables) {
    // Everything but indexes: the primary key now (conflict target of the upserts), secondary
    // indexes after the bulk load, where building them once is cheaper than maintaining them.
    await db.execute(sql.raw(`create table ${shadowSchema}."${table}" (like public."${table}" including all excluding indexes)`));
    const constraints = await execRows<{ name: string; definition: string }>(
      db,
      sql`select conname as name, pg_get_constraintdef(oid) as definition from pg_constraint
          where conrelid = ${`public."${table}"`}::regclass and contype in ('p', 'u', 'x')`,
    );
    for (const c of constraints) {
      await db.execute(sql.raw(`alter table ${shadowSchema}."${table}" add constraint "${c.name}" ${c.definition}`));
    }
    // `like` copies neither per-column statistics targets nor storage parameters (fillfactor,
    // autovacuum settings an operator tuned): the swapped-in table must be configured as the old one.
    const targets = await execRows<{ column: string; target: number }>(
      db,
      sql`select attname as column, attstattarget as target from pg_attribute
          where attrelid = ${`public."${table}"`}::regclass and attnum > 0 and not attisdropped and attstattarget >= 0`,
    );
    for (const t of targets) {
      await db.execute(sql.raw(`alter table ${shadowSchema}."${table}" alter column "${t.column}" set statistics ${Number(t.target)}`));
    }
    const [options] = await execRows<{ reloptions: string[] | null }>(
      db,
      sql`select reloptions from pg_class where oid = ${`public."${table}"`}::regclass`,
    );
    if (options?.reloptions?.length) {
      await db.execute(sql.raw(`alter table ${shadowSchema}."${table}" set (${options.reloptions.join(', ')})`));
    }
  }
}

/**
 * Builds the shadow tables' secondary indexes and gathers their statistics: one job per index or
 * table, biggest tables first, spread over `parallel` connections (one core each), each with a
 * generous maintenance_work_mem so the sorts stay in memory.
 */
async function createSecondaryIndexes(db: Db, tables: readonly string[], parallel: number): Promise<void> {
  const sizes = await execRows<{ table: string; bytes: string | number }>(
    db,
    sql.raw(tables.map((t) => `select '${t}' as table, pg_total_relation_size('${shadowSchema}."${t}"') as bytes`).join(' union all ')),
  );
  const bySize = [...sizes].sort((a, b) => Number(b.bytes) - Number(a.bytes)).map((row) => row.table);
  type Job = { sql: string; after: Promise<void>[]; finished: () => void; done: Promise<void> };
  const job = (text: string, after: Promise<void>[] = []): Job => {
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    return { sql: text, after, finished, done };
  };
  const jobs: Job[] = [];
  for (const table of bySize) {
    const tableIndexes: Job[] = [];
    const indexes = await execRows<{ definition: string }>(
      db,
      sql`select pg_get_indexdef(i.indexrelid) as definition from pg_index i
          where i.indrelid = ${`public."${table}"`}::regclass
            and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)`,
    );
    for (const { definition } of indexes) {
      // Same index names: indexes live in their table's schema, and move with it on the swap.
      // `if not exists`: a resumed rebuild skips the indexes its first run built.
      const shadow = definition
        .replace(/ ON (ONLY )?public\.("?)([a-z_]+)\2 /, ` ON $1${shadowSchema}."$3" `)
        .replace(/^CREATE (UNIQUE )?INDEX /, 'CREATE $1INDEX IF NOT EXISTS ');
      if (!shadow.includes(`${shadowSchema}.`) || !shadow.includes('IF NOT EXISTS'))
        throw new Error(`cannot retarget index definition: ${definition}`);
      tableIndexes.push(job(shadow));
    }
    jobs.push(...tableIndexes);
    // After every index of its table is built, not merely started: statistics of an expression
    // index (the orders' sale day, which the reports' day filters need) are gathered only if the
    // index exists when ANALYZE runs. Picked up the moment another connection starts the table's
    // last index, it could otherwise run first and take its lock before that index's build.
    jobs.push(
      job(
        `analyze ${shadowSchema}."${table}"`,
        tableIndexes.map((index) => index.done),
      ),
    );
  }
  let next = 0;
  const worker = async () => {
    for (let current = jobs[next++]; current !== undefined; current = jobs[next++]) {
      const { sql: text, after, finished } = current;
      await Promise.all(after);
      try {
        await db.transaction(async (tx) => {
          await tx.execute(sql`select set_config('maintenance_work_mem', '256MB', true)`);
          await tx.execute(sql.raw(text));
        });
      } finally {
        finished();
      }
      await db.execute(sql`update consumer_checkpoints set updated_at = now() where name = ${checkpoint}`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, worker));
}

/** Owner and grants of the old table onto the new one (`create table like` copies neither). */
async function copyPrivileges(tx: Executor, from: string, to: string): Promise<void> {
  const rows = await execRows<{ owner: string; me: string; grants: { grantee: string; privilege: string; grantable: boolean }[] | null }>(
    tx,
    sql`select pg_get_userbyid(c.relowner) as owner, current_user as me,
               (select json_agg(json_build_object(
                  'grantee', case when a.grantee = 0 then 'public' else quote_ident(pg_get_userbyid(a.grantee)) end,
                  'privilege', a.privilege_type, 'grantable', a.is_grantable))
                from aclexplode(c.relacl) a) as grants
        from pg_class c where c.oid = ${from}::regclass`,
  );
  const row = rows[0];
  if (!row) return;
  if (row.owner !== row.me) await tx.execute(sql.raw(`alter table ${to} owner to "${row.owner}"`));
  for (const grant of row.grants ?? []) {
    await tx.execute(sql.raw(`grant ${grant.privilege} on ${to} to ${grant.grantee}${grant.grantable ? ' with grant option' : ''}`));
  }
}
