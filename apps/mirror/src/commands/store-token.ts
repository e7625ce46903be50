import { ConfigError, UnsealError } from '@mirror/core';
import { storeTokensTable, type Db } from '@mirror/db';
import { openStoreToken } from '@mirror/projector';
import { eq } from 'drizzle-orm';
import { requireSecretBox, type EcwidOptions, type SecretKeyOptions } from '../config.ts';
import { usageError } from './command-kit.ts';

/**
 * A store's token for a one-off command (backfill, reconcile, verify): store_tokens first (opened
 * with MIRROR_SECRET_KEY), then ECWID_STORES; a usage error (exit 2) when there is none.
 */
export async function tokenForStore(db: Db, secretKey: SecretKeyOptions, ecwid: EcwidOptions, storeId: number): Promise<string> {
  const [row] = await db.select().from(storeTokensTable).where(eq(storeTokensTable.storeId, storeId));
  // The demo's store lives in `pnpm start`'s own simulated Ecwid, which no other process reaches
  // (its token is sealed with a key that process made): a key would not help, so none is asked for.
  if (row?.source === 'demo')
    throw new ConfigError(
      `store ${storeId} is the demo's simulated store: only the \`pnpm start\` that runs it can call it. ` +
        'Use the console there (Verify, Retry), or mirror a real store.',
    );
  if (row) {
    const box = requireSecretBox(secretKey, `to open the token of store ${storeId}`);
    try {
      return openStoreToken(box, row);
    } catch (err) {
      if (!(err instanceof UnsealError)) throw err;
      throw new ConfigError(`the token of store ${storeId} does not open with MIRROR_SECRET_KEY: ${err.message}`);
    }
  }
  const fromEnv = ecwid.stores.find((s) => s.storeId === storeId)?.token;
  if (fromEnv) return fromEnv;
  throw usageError(`no access token for store ${storeId}: add one with \`mirror stores add ${storeId} --token-env VAR\``);
}
