import { createApiKey, listApiKeys, revokeApiKey, storeExists, type ApiKeyInfo } from '@mirror/api';
import type { Database } from '@mirror/db';
import type { Command } from 'commander';
import { baseSections, loadConfig } from '../config.ts';
import { openDatabase } from '../runtime.ts';
import { createQuietLogger, storeIdArgument } from './command-kit.ts';

async function withDatabase<T>(run: (database: Database) => Promise<T>): Promise<T> {
  const config = loadConfig(process.env, baseSections);
  const database = await openDatabase(config.database, createQuietLogger(config.log));
  try {
    await database.migrate();
    return await run(database);
  } finally {
    await database.close();
  }
}

const describeKey = (k: ApiKeyInfo) =>
  `${String(k.id).padStart(4)}  ${String(k.storeId).padEnd(12)}  ${k.prefix}…  ${k.createdAt.toISOString().slice(0, 19)}Z  ${k.revokedAt ? `revoked ${k.revokedAt.toISOString().slice(0, 19)}Z` : 'active'}  ${k.label ?? ''}`.trimEnd();

export function registerApiKeys(program: Command): void {
  const keys = program.command('api-keys').description('per-store keys for the query API (the key is shown once; only its hash is kept)');

  keys
    .command('create')
    .description('make a key that reads one store')
    .requiredOption('--store <id>', 'the Ecwid store id the key may read', storeIdArgument)
    .option('--label <text>', 'what the key is for, shown in listings')
    .action(async (options: { store: number; label?: string }) => {
      const made = await withDatabase(async ({ db }) =>
        (await storeExists(db, options.store)) ? createApiKey(db, { storeId: options.store, label: options.label }) : undefined,
      );
      if (!made) {
        // As the API answers the same request: a key for a store the mirror has never heard of reads nothing.
        process.stderr.write(
          `mirror: store ${options.store} is not known to the mirror (no token, no data): add it first (mirror stores add, ECWID_STORES, or an install); no key was made\n`,
        );
        process.exitCode = 2;
        return;
      }
      const { key, info } = made;
      process.stdout.write(
        `created key ${info.id} for store ${info.storeId}${info.label ? ` (${info.label})` : ''}:\n\n  ${key}\n\n` +
          'Copy it now: it is not stored and cannot be shown again. Use it as  Authorization: Bearer <key>\n',
      );
    });

  keys
    .command('list')
    .description('list keys (prefix, store, label, state), never the keys themselves')
    .option('--store <id>', 'only this store', storeIdArgument)
    .action(async (options: { store?: number }) => {
      const rows = await withDatabase(({ db }) => listApiKeys(db, { storeId: options.store }));
      if (rows.length === 0) {
        process.stdout.write('no API keys\n');
        return;
      }
      process.stdout.write(`  id  store         prefix        created               state   label\n${rows.map(describeKey).join('\n')}\n`);
    });

  keys
    .command('revoke')
    .description('revoke a key by its id or prefix (takes effect within API_KEY_CACHE_MS, default 5 s)')
    .argument('<id-or-prefix>', 'the id or prefix shown by `api-keys list`')
    .action(async (idOrPrefix: string) => {
      const outcome = await withDatabase(({ db }) => revokeApiKey(db, idOrPrefix.replace(/…$/, '')));
      switch (outcome.status) {
        case 'revoked':
          process.stdout.write(`revoked key ${outcome.key.id} (${outcome.key.prefix}…) of store ${outcome.key.storeId}\n`);
          return;
        case 'already_revoked':
          process.stdout.write(`key ${outcome.key.id} (${outcome.key.prefix}…) was already revoked\n`);
          return;
        case 'ambiguous':
          throw new Error(
            `"${idOrPrefix}" matches ${outcome.keys.length} active keys (${outcome.keys.map((k) => k.id).join(', ')}); use the id`,
          );
        case 'not_found':
          throw new Error(`no API key with id or prefix "${idOrPrefix}"`);
      }
    });
}
