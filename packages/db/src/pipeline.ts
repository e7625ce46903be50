import { sql, type SQL } from 'drizzle-orm';
import { postgresJsClientOf, type Tx } from './create-db.ts';
import { sqlState } from './sql-state.ts';

/**
 * `mirror_require(condition, reason)` (migrations/0019_require.sql): true, or the statement fails
 * with SQLSTATE P0001 and `reason` as its message, which {@link failedRequirement} recognises.
 * `reason` is a fixed text of the caller's, never data: it is spliced into the statement.
 */
export function requireSql(condition: SQL, reason: string): SQL {
  if (!/^[a-z][a-z ,:]*$/.test(reason)) throw new RangeError(`requireSql: reason must be plain words: ${reason}`);
  return sql`mirror_require(${condition}, ${sql.raw(`'${reason}'`)})`;
}

/** The reason of a `mirror_require` that failed, when `err` is one; undefined for any other error. */
export function failedRequirement(err: unknown): string | undefined {
  if (sqlState(err) !== 'P0001') return undefined;
  const e = err as { message?: unknown; cause?: { message?: unknown } };
  const message = e.cause?.message ?? e.message;
  return typeof message === 'string' ? message : undefined;
}

/**
 * Sends COMMIT on `tx` (a transaction, not a savepoint in one) now, behind the statements already sent in it, without waiting for their
 * answers, and resolves once it has run. A statement among them that failed (a `mirror_require`,
 * say) has already turned the transaction into a failed one, and Postgres then answers this
 * COMMIT with a rollback; that statement's own promise rejects. So a transaction whose checks run
 * in SQL commits in the same round trip as its statements: locks they took are held for the
 * server's work only, never across a round trip to this process.
 *
 * Only on postgres.js, whose transactions send statements as they are made, in the order they
 * are made (prepared ones pipeline, see execPrepared): call it after the transaction's last
 * statement, with nothing awaited in between. It sends `commit; begin` as one simple query: the
 * empty transaction it opens is what the driver's own COMMIT (or ROLLBACK), sent when the
 * callback returns, ends. Two reasons for it: that COMMIT would otherwise find no transaction and
 * leave a warning in Postgres's log for every commit; and postgres.js gives a transaction's
 * connection back to its pool when the connection reports itself idle with nothing left in
 * flight, so the session must never be idle before the callback returns. Elsewhere (PGlite: one
 * backend in this process, no round trip to save) it sends nothing and resolves to false; the
 * driver commits when the callback returns, as usual.
 */
export async function pipelineCommit(tx: Tx): Promise<boolean> {
  const client = postgresJsClientOf(tx);
  if (!client) return false;
  await client.unsafe('commit; begin', [], { simple: true });
  return true;
}
