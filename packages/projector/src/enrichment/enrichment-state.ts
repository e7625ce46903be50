import { enrichmentStateTable, type Db, type Executor } from '@mirror/db';
import { eq, sql } from 'drizzle-orm';

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

/** Reads a store's state, creating the row (position 0, active) the first time. */
export async function readEnrichmentState(db: Db, storeId: number): Promise<EnrichmentState> {
  await db.insert(enrichmentStateTable).values({ storeId }).onConflictDoNothing();
  const [row] = await db.select().from(enrichmentStateTable).where(eq(enrichmentStateTable.storeId, storeId));
  if (!row) throw new Error(`enrichment_state row for store ${storeId} vanished`);
  return { ...row, status: row.status as EnrichmentStatus };
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

/**
 * Compare-and-set of the checkpoint, inside the caller's transaction: moves `from` → `to` only
 * if no other worker moved it meanwhile. Returns false when it lost (the caller rolls back).
 */
export async function advanceEnrichment(
  tx: Executor,
  storeId: number,
  move: { from: number; to: number },
  fields: { status: EnrichmentStatus; lastError: string | null; retryAt: Date | null; attempts: number; lifecycleAt: Date | null },
): Promise<boolean> {
  const rows = await tx
    .update(enrichmentStateTable)
    .set({ position: move.to, ...fields, updatedAt: sql`now()` })
    .where(sql`${enrichmentStateTable.storeId} = ${storeId} and ${enrichmentStateTable.position} = ${move.from}`)
    .returning({ storeId: enrichmentStateTable.storeId });
  return rows.length > 0;
}
