import { createHash, randomBytes } from 'node:crypto';
import { apiKeysTable, type Db } from '@mirror/db';
import { and, asc, eq, isNull, like, or, type SQL } from 'drizzle-orm';

const keyPrefix = 'mk_';
/** Characters of the key kept in clear for listings: `mk_` and 8 of its 43 random ones. */
const shownLength = 11;

/** SHA-256 is enough here: keys are 256 random bits, so there is nothing to brute-force. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export type ApiKeyInfo = {
  id: number;
  storeId: number;
  prefix: string;
  label: string | null;
  createdAt: Date;
  revokedAt: Date | null;
};

const info = {
  id: apiKeysTable.id,
  storeId: apiKeysTable.storeId,
  prefix: apiKeysTable.prefix,
  label: apiKeysTable.label,
  createdAt: apiKeysTable.createdAt,
  revokedAt: apiKeysTable.revokedAt,
};

/** Makes a key that reads one store. The key itself is returned once and stored only as a hash. */
export async function createApiKey(
  db: Db,
  input: { storeId: number; label?: string | undefined },
): Promise<{ key: string; info: ApiKeyInfo }> {
  const key = keyPrefix + randomBytes(32).toString('base64url');
  const [row] = await db
    .insert(apiKeysTable)
    .values({ storeId: input.storeId, prefix: key.slice(0, shownLength), keyHash: hashApiKey(key), label: input.label ?? null })
    .returning(info);
  return { key, info: row! };
}

export async function listApiKeys(db: Db, filter: { storeId?: number | undefined } = {}): Promise<ApiKeyInfo[]> {
  return db
    .select(info)
    .from(apiKeysTable)
    .where(filter.storeId === undefined ? undefined : eq(apiKeysTable.storeId, filter.storeId))
    .orderBy(asc(apiKeysTable.storeId), asc(apiKeysTable.id));
}

/**
 * Revokes the key with this id, or the one whose prefix starts with this text. Refuses a prefix
 * that matches several live keys (returns them, revokes none).
 */
export async function revokeApiKey(
  db: Db,
  idOrPrefix: string,
  now: Date = new Date(),
): Promise<
  | { status: 'revoked'; key: ApiKeyInfo }
  | { status: 'not_found' }
  | { status: 'ambiguous'; keys: ApiKeyInfo[] }
  | { status: 'already_revoked'; key: ApiKeyInfo }
> {
  const byId = /^\d{1,9}$/.test(idOrPrefix) ? eq(apiKeysTable.id, Number(idOrPrefix)) : undefined;
  const escaped = idOrPrefix.replace(/[\\%_]/g, (ch) => `\\${ch}`);
  const byPrefix: SQL | undefined = idOrPrefix.length >= 4 ? like(apiKeysTable.prefix, `${escaped}%`) : undefined;
  if (!byId && !byPrefix) return { status: 'not_found' };
  const matches = await db.select(info).from(apiKeysTable).where(or(byId, byPrefix));
  const exact = matches.filter((k) => String(k.id) === idOrPrefix);
  const candidates = exact.length === 1 ? exact : matches;
  if (candidates.length === 0) return { status: 'not_found' };
  const live = candidates.filter((k) => k.revokedAt === null);
  if (live.length === 0) return { status: 'already_revoked', key: candidates[0]! };
  if (live.length > 1) return { status: 'ambiguous', keys: live };
  const [revoked] = await db
    .update(apiKeysTable)
    .set({ revokedAt: now })
    .where(and(eq(apiKeysTable.id, live[0]!.id), isNull(apiKeysTable.revokedAt)))
    .returning(info);
  return revoked ? { status: 'revoked', key: revoked } : { status: 'already_revoked', key: live[0]! };
}

/** The store a live key reads, or undefined for an unknown or revoked key. */
export async function findApiKeyStore(db: Db, key: string): Promise<number | undefined> {
  const [row] = await db
    .select({ storeId: apiKeysTable.storeId })
    .from(apiKeysTable)
    .where(and(eq(apiKeysTable.keyHash, hashApiKey(key)), isNull(apiKeysTable.revokedAt)))
    .limit(1);
  return row?.storeId;
}
