import { enrichmentStateTable, storeTokensTable, type Db } from '@mirror/db';
import { and, eq, notInArray, sql } from 'drizzle-orm';

export type StoreToken = { storeId: number; token: string };

/** A token as listings show it: enough to tell two apart, never enough to use. */
export function maskToken(token: string): string {
  const visible = token.startsWith('secret_') || token.startsWith('public_') ? 9 : 2;
  return `${token.slice(0, Math.min(visible, Math.floor(token.length / 3)))}…(${token.length} chars)`;
}

export class StoreTokensFormatError extends Error {
  override readonly name = 'StoreTokensFormatError';
}

/**
 * Parses `ECWID_STORES=<storeId>:<token>,…`. Errors name the entry by position only, so a
 * malformed value never echoes a token.
 */
export function parseEcwidStores(value: string | undefined): StoreToken[] {
  if (!value?.trim()) return [];
  return value.split(',').map((entry, index) => {
    const match = /^\s*(\d+)\s*:\s*(\S+)\s*$/.exec(entry);
    if (!match) throw new StoreTokensFormatError(`ECWID_STORES entry ${index + 1} is not <storeId>:<token>`);
    return { storeId: Number(match[1]), token: match[2]! };
  });
}

/**
 * Makes `store_tokens` match ECWID_STORES for the rows that came from it (source `env`):
 * upserts the given ones and drops env rows no longer listed. Tokens added with the CLI stay.
 * An empty list changes nothing: a worker started without ECWID_STORES must not delete the
 * tokens another process was configured with (remove one with `mirror stores remove`).
 */
export async function syncEnvTokens(db: Db, tokens: readonly StoreToken[]): Promise<void> {
  if (tokens.length === 0) return;
  await db.transaction(async (tx) => {
    for (const { storeId, token } of tokens) {
      await tx
        .insert(storeTokensTable)
        .values({ storeId, token, source: 'env' })
        .onConflictDoUpdate({ target: storeTokensTable.storeId, set: { token, source: 'env', addedAt: sql`now()` } });
    }
    const listed = tokens.map((t) => t.storeId);
    await tx.delete(storeTokensTable).where(and(eq(storeTokensTable.source, 'env'), notInArray(storeTokensTable.storeId, listed)));
  });
}

/**
 * Adds or replaces a store's token (source `cli`). A store blocked by its old token (403) is
 * retried at once rather than at its backed-off retry time.
 */
export async function addStoreToken(db: Db, storeId: number, token: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .insert(storeTokensTable)
      .values({ storeId, token, source: 'cli' })
      .onConflictDoUpdate({ target: storeTokensTable.storeId, set: { token, source: 'cli', addedAt: sql`now()` } });
    await tx
      .update(enrichmentStateTable)
      .set({ retryAt: null })
      .where(and(eq(enrichmentStateTable.storeId, storeId), eq(enrichmentStateTable.status, 'blocked')));
  });
}

/** Removes a store's token; its webhooks then wait (`waiting_for_token`). */
export async function removeStoreToken(db: Db, storeId: number): Promise<boolean> {
  const rows = await db
    .delete(storeTokensTable)
    .where(eq(storeTokensTable.storeId, storeId))
    .returning({ storeId: storeTokensTable.storeId });
  return rows.length > 0;
}

export type StoreTokenListing = { storeId: number; tokenMasked: string; source: string; addedAt: Date };

/** Every store with a token; the token itself is masked. */
export async function listStoreTokens(db: Db): Promise<StoreTokenListing[]> {
  const rows = await db.select().from(storeTokensTable).orderBy(storeTokensTable.storeId);
  return rows.map((r) => ({ storeId: r.storeId, tokenMasked: maskToken(r.token), source: r.source, addedAt: r.addedAt }));
}
