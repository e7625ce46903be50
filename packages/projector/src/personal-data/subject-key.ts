import { createHmac, randomBytes } from 'node:crypto';
import { execRows, normalizeEmail, type Executor } from '@mirror/db';
import { sql } from 'drizzle-orm';

/*
 * Erased subjects are remembered as keyed hashes (HMAC-SHA256), never in clear: enough to
 * recognise a customer id or an email when Ecwid sends its documents again, useless for listing
 * who was erased. The key is made once per database, on first use, and lives in `mirror_keys`; a
 * dump of the database holds it too, so the hashes protect against reading, not against guessing
 * one known email (docs/personal-data.md).
 */

export type SubjectHasher = {
  customer(storeId: number, customerId: number): string;
  email(storeId: number, email: string): string;
  store(storeId: number): string;
  /** An email's stand-in in erased documents: the same for the same email, nothing in it. */
  pseudonym(storeId: number, email: string): string;
};

const keyName = 'personal_data_subjects';

async function loadKey(db: Executor): Promise<Buffer> {
  const read = async () => (await execRows<{ secret: string }>(db, sql`select secret from mirror_keys where name = ${keyName}`))[0]?.secret;
  let secret = await read();
  if (!secret) {
    await db.execute(
      sql`insert into mirror_keys (name, secret) values (${keyName}, ${randomBytes(32).toString('base64')}) on conflict (name) do nothing`,
    );
    secret = await read();
  }
  if (!secret) throw new Error('the personal-data key could not be made');
  return Buffer.from(secret, 'base64');
}

export async function subjectHasher(db: Executor): Promise<SubjectHasher> {
  const key = await loadKey(db);
  const hash = (text: string) => createHmac('sha256', key).update(text).digest('base64url');
  return {
    customer: (storeId, customerId) => hash(`${storeId}:customer:${customerId}`),
    email: (storeId, email) => hash(`${storeId}:email:${normalizeEmail(email)}`),
    store: (storeId) => hash(`${storeId}:store`),
    pseudonym: (storeId, email) =>
      `erased-${hash(`${storeId}:pseudonym:${normalizeEmail(email)}`)
        .slice(0, 16)
        .toLowerCase()}@erased.invalid`,
  };
}
