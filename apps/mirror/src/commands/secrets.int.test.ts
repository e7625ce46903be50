import { createSecretBox, generateSecretKey, parseSecretKey } from '@mirror/core';
import { execRows, storeTokensTable } from '@mirror/db';
import { concurrencySkipReason, createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import { readStoreToken } from '@mirror/projector';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './test-process.ts';

/*
 * The key that seals the tokens, as an operator meets it: a mirror with real stores and no key
 * refuses to start and says what to set; `mirror stores add|list` seal and fingerprint;
 * `mirror secrets rotate` re-seals in place, all or nothing.
 */

const token = 'secret_cli_sealed_token_0123456789';
const oldKey = generateSecretKey();
const newKey = Buffer.from(parseSecretKey(generateSecretKey())).toString('hex');

let database: TestDatabase;
const skip = concurrencySkipReason('the CLI in a child process beside the test database');
const mirror = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(args, { DATABASE_URL: database.url, LOG_LEVEL: 'silent', MIRROR_SECRET_KEY: '', ECWID_STORES: '', ECWID_CLIENT_ID: '', ...env });

describe.skipIf(skip)('the secret key', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.close());

  it('a mirror with real stores and no key refuses to start, saying what to set', async () => {
    const argsList = [['start'], ['project'], ['stores', 'add', '1003', '--token-env', 'T']];
    const runs = await Promise.all(
      argsList.map((args) => mirror(args, { ECWID_STORES: `1003:${token}`, ECWID_CLIENT_SECRET: 'x', T: token, PORT: '0' })),
    );
    runs.forEach((run, i) => {
      expect(run.code, argsList[i]!.join(' ')).toBe(2);
      expect(run.stderr).toContain('MIRROR_SECRET_KEY is not set');
      expect(run.stderr).toContain('openssl rand -base64 32');
      expect(run.stderr + run.stdout).not.toContain(token);
    });
    const bad = await mirror(['project'], { MIRROR_SECRET_KEY: 'too-short-a-key' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('MIRROR_SECRET_KEY');
    expect(bad.stderr).not.toContain('too-short-a-key');
    const oauth = await mirror(['api'], {
      ECWID_CLIENT_ID: 'app',
      ECWID_CLIENT_SECRET: 'x',
      MIRROR_PUBLIC_URL: 'https://m.example',
      PORT: '0',
    });
    expect(oauth.code).toBe(2);
    expect(oauth.stderr).toContain('MIRROR_SECRET_KEY is not set');
    expect(await database.db.$count(storeTokensTable)).toBe(0);
  }, 180_000);

  it('stores add seals the token; stores list shows its fingerprint, never the token', async () => {
    const add = await mirror(['stores', 'add', '1003', '--token-env', 'T'], { MIRROR_SECRET_KEY: oldKey, T: token });
    expect(add.code).toBe(0);
    expect(add.stdout).toContain('store 1003: token saved (sealed)');
    const list = await mirror(['stores', 'list', '--json']);
    expect(list.code).toBe(0);
    const [row] = JSON.parse(list.stdout) as { storeId: number; tokenFingerprint: string; status: string; catchUp: string }[];
    expect(row).toMatchObject({
      storeId: 1003,
      tokenFingerprint: expect.stringMatching(/^sha256:[0-9a-f]{12}$/),
      status: 'active',
      catchUp: null,
    });
    const table = await mirror(['stores', 'list']);
    expect(table.stdout).toContain(row!.tokenFingerprint);
    for (const out of [add.stdout, list.stdout, table.stdout]) expect(out).not.toContain(token.slice(7));
    const dump = JSON.stringify(await execRows(database.db, sql`select * from store_tokens`));
    expect(dump).not.toContain(token.slice(7));
  }, 180_000);

  it('secrets rotate re-seals in place; a wrong old key changes nothing', async () => {
    const before = JSON.stringify(await execRows(database.db, sql`select * from store_tokens`));
    const wrong = await mirror(['secrets', 'rotate'], { MIRROR_SECRET_KEY: generateSecretKey(), MIRROR_SECRET_KEY_NEW: newKey });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('store 1003');
    expect(wrong.stderr).toContain('nothing was changed');
    expect(JSON.stringify(await execRows(database.db, sql`select * from store_tokens`))).toBe(before);
    expect((await mirror(['secrets', 'rotate'], { MIRROR_SECRET_KEY: oldKey })).code).toBe(2);

    const rotate = await mirror(['secrets', 'rotate'], { MIRROR_SECRET_KEY: oldKey, MIRROR_SECRET_KEY_NEW: newKey });
    expect(rotate.code).toBe(0);
    expect(rotate.stdout).toContain('1 token(s) re-sealed');
    expect(await readStoreToken(database.db, createSecretBox(parseSecretKey(newKey)), 1003)).toBe(token);
    await expect(readStoreToken(database.db, createSecretBox(parseSecretKey(oldKey)), 1003)).rejects.toThrow(/another key/);
    const again = await mirror(['secrets', 'rotate'], { MIRROR_SECRET_KEY: oldKey, MIRROR_SECRET_KEY_NEW: newKey });
    expect(again.stdout).toContain('0 token(s) re-sealed with key');
  }, 180_000);
});
