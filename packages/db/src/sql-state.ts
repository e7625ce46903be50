/**
 * The SQLSTATE of a database error, whether the driver put it on the error itself (postgres.js,
 * PGlite) or on its `cause` (drizzle wraps driver errors); undefined for anything else.
 */
export function sqlState(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
