import { enrichmentStateTable, execPreparedSql, requireSql, type Db, type Executor } from '@mirror/db';
import { sql } from 'drizzle-orm';

/**
 * A store's enrichment status (column `enrichment_state.status`): `blocked` is a store-level
 * refusal (401/402/403), `paused` an Ecwid outage (5xx, 429, timeouts); both wait for
 * `retry_at` without moving the checkpoint or parking anything.
 */
export type EnrichmentStatus = 'active' | 'waiting_for_token' | 'blocked' | 'paused' | 'uninstalled';

export type EnrichmentState = {
  storeId: number;
  position: number;
  status: EnrichmentStatus;
  lastError: string | null;
  retryAt: Date | null;
  /** Consecutive store-level failures (blocked or paused); 0 after a pass that moved on. */
  attempts: number;
  /** Event time of the install/uninstall webhook that set the lifecycle. */
  lifecycleAt: Date | null;
};

type StateRow = {
  store_id: string | number;
  position: string | number;
  status: string;
  last_error: string | null;
  retry_at: Date | string | null;
  attempts: number;
  lifecycle_at: Date | string | null;
};

const readState = (db: Executor, storeId: number) =>
  execPreparedSql<StateRow>(
    db,
    sql`select store_id, position, status, last_error, retry_at, attempts, lifecycle_at from enrichment_state where store_id = ${storeId}`,
  );

// Times travel as text: a prepared statement's parameter types are fixed by its first use, and
// postgres.js will not send a Date where it first saw a null.
const iso = (value: Date | null) => value?.toISOString() ?? null;
const asDate = (value: Date | string | null) => (value === null ? null : new Date(value));

/**
 * Reads a store's state, creating the row (position 0, active) the first time. One prepared
 * statement when the row exists (every pass but a store's first): this read starts every pass,
 * on the path of every webhook to its row.
 */
export async function readEnrichmentState(db: Db, storeId: number): Promise<EnrichmentState> {
  let [row] = await readState(db, storeId);
  if (!row) {
    await db.insert(enrichmentStateTable).values({ storeId }).onConflictDoNothing();
    [row] = await readState(db, storeId);
  }
  if (!row) throw new Error(`enrichment_state row for store ${storeId} vanished`);
  return {
    storeId: Number(row.store_id),
    position: Number(row.position),
    status: row.status as EnrichmentStatus,
    lastError: row.last_error,
    retryAt: asDate(row.retry_at),
    attempts: Number(row.attempts),
    lifecycleAt: asDate(row.lifecycle_at),
  };
}

/**
 * Sets status fields without moving the checkpoint, only while the checkpoint is still
 * `position` (another worker that moved it knows better). Returns whether it applied.
 */
export async function setEnrichmentStatus(
  db: Db,
  storeId: number,
  position: number,
  fields: { status: EnrichmentStatus; lastError?: string | null; retryAt?: Date | null; attempts?: number },
): Promise<boolean> {
  const rows = await db
    .update(enrichmentStateTable)
    .set({ ...fields, updatedAt: sql`now()` })
    .where(sql`${enrichmentStateTable.storeId} = ${storeId} and ${enrichmentStateTable.position} = ${position}`)
    .returning({ storeId: enrichmentStateTable.storeId });
  return rows.length > 0;
}

/** The reason a lost {@link advanceEnrichment} fails with (failedRequirement). */
export const checkpointMoved = 'enrichment checkpoint moved';

/**
 * Compare-and-set of the checkpoint, inside the caller's transaction: moves `from` → `to` only
 * if no other worker moved it meanwhile. When another did, the statement fails with
 * {@link checkpointMoved} (so the transaction cannot commit) and the promise rejects.
 */
export async function advanceEnrichment(
  tx: Executor,
  storeId: number,
  move: { from: number; to: number },
  fields: { status: EnrichmentStatus; lastError: string | null; retryAt: Date | null; attempts: number; lifecycleAt: Date | null },
): Promise<void> {
  // Prepared, so inside a transaction it pipelines with the statements sent after it (the pass's
  // append and its COMMIT): the failure is decided in SQL, so nothing waits for its answer.
  await execPreparedSql(
    tx,
    sql`with moved as (
          update enrichment_state
          set position = ${move.to}, status = ${fields.status}, last_error = ${fields.lastError},
              retry_at = ${iso(fields.retryAt)}::timestamptz, attempts = ${fields.attempts},
              lifecycle_at = ${iso(fields.lifecycleAt)}::timestamptz, updated_at = now()
          where store_id = ${storeId} and position = ${move.from}
          returning store_id)
        select ${requireSql(sql`exists (select 1 from moved)`, checkpointMoved)} as moved`,
  );
}
