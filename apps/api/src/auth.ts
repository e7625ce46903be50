import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError } from '@mirror/core';
import type { Db } from '@mirror/db';
import type { MiddlewareHandler } from 'hono';
import { findApiKeyStore } from './api-keys.ts';
import type { ApiEnv } from './api-env.ts';

/** Who is calling: the admin token reads every store, a key reads one. */
export type Principal = { kind: 'admin' } | { kind: 'store'; storeId: number };

export type AuthOptions = {
  db: Db;
  adminToken?: string | undefined;
  /** How long a key's lookup is reused; a revoked key keeps working at most this long. */
  keyCacheMs?: number;
  now?: () => number;
};

/** Requires `Authorization: Bearer <admin token or API key>` and sets `principal`. */
export function authenticate(options: AuthOptions): MiddlewareHandler<ApiEnv> {
  const { db, keyCacheMs = 5000, now = Date.now } = options;
  // Compared as digests: equal lengths for timingSafeEqual, and nothing about the length leaks.
  const adminDigest = options.adminToken ? sha256(options.adminToken) : undefined;
  const cache = new Map<string, { storeId: number; until: number }>();

  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new AppError('UNAUTHORIZED', 'send an API key: Authorization: Bearer <key>');
    const token = match[1]!;
    if (adminDigest && timingSafeEqual(sha256(token), adminDigest)) {
      c.set('principal', { kind: 'admin' });
      return next();
    }
    const cached = cache.get(token);
    let storeId = cached && cached.until > now() ? cached.storeId : undefined;
    if (storeId === undefined) {
      storeId = await findApiKeyStore(db, token);
      if (storeId === undefined) throw new AppError('UNAUTHORIZED', 'invalid or revoked API key');
      if (keyCacheMs > 0) {
        if (cache.size > 10_000) cache.clear();
        cache.set(token, { storeId, until: now() + keyCacheMs });
      }
    }
    c.set('principal', { kind: 'store', storeId });
    return next();
  };
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
