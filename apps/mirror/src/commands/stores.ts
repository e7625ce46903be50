import { addStoreToken, listStoreTokens, removeStoreToken } from '@mirror/projector';
import type { Command } from 'commander';
import { baseSections, loadConfig } from '../config.ts';
import { openDatabase } from '../runtime.ts';
import { createQuietLogger, exitTwoOnBadArguments, formatTable, storeIdArgument, usageError } from './command-kit.ts';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('access token (input is not echoed when piped): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** `mirror stores add|list|remove`: the tokens enrichment and backfill call Ecwid with. */
export function registerStores(program: Command): void {
  const stores = exitTwoOnBadArguments(
    program.command('stores').description('manage the Ecwid stores the mirror may call (access tokens in store_tokens)'),
  );

  exitTwoOnBadArguments(
    stores
      .command('add')
      .argument('<storeId>', 'Ecwid store id', storeIdArgument)
      .description(
        "add or replace a store's access token; without --token/--token-env it is read from stdin (keeps it out of shell history)",
      )
      .option('--token <token>', 'the secret_… access token (visible in shell history: prefer --token-env or stdin)')
      .option('--token-env <VAR>', 'read the token from this environment variable'),
  ).action(async (storeId: number, options: { token?: string; tokenEnv?: string }) => {
    if (options.token && options.tokenEnv) throw usageError('give either --token or --token-env, not both');
    let token = options.token;
    if (options.tokenEnv) {
      token = process.env[options.tokenEnv];
      if (!token) throw usageError(`environment variable ${options.tokenEnv} is empty or not set`);
    }
    token ??= await readStdin();
    if (!token || /\s/.test(token)) throw usageError('the access token is empty or contains whitespace');
    const config = loadConfig(process.env, baseSections);
    const log = createQuietLogger(config.log);
    const database = await openDatabase(config.database, log);
    try {
      await database.migrate();
      await addStoreToken(database.db, storeId, token);
      process.stdout.write(`store ${storeId}: token saved\n`);
    } finally {
      await database.close();
    }
  });

  exitTwoOnBadArguments(
    stores.command('list').description('list stores with a token (tokens are masked)').option('--json', 'print JSON'),
  ).action(async (options: { json?: boolean }) => {
    const config = loadConfig(process.env, baseSections);
    const log = createQuietLogger(config.log);
    const database = await openDatabase(config.database, log);
    try {
      const rows = await listStoreTokens(database.db);
      if (options.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else if (rows.length === 0) process.stdout.write('no stores (add one with: mirror stores add <storeId> --token-env VAR)\n');
      else
        process.stdout.write(
          `${formatTable([['store', 'token', 'source', 'added'], ...rows.map((r) => [String(r.storeId), r.tokenMasked, r.source, r.addedAt.toISOString()])])}\n`,
        );
    } finally {
      await database.close();
    }
  });

  exitTwoOnBadArguments(
    stores
      .command('remove')
      .argument('<storeId>', 'Ecwid store id', storeIdArgument)
      .description("remove a store's token (its webhooks then wait for one)"),
  ).action(async (storeId: number) => {
    const config = loadConfig(process.env, baseSections);
    const log = createQuietLogger(config.log);
    const database = await openDatabase(config.database, log);
    try {
      const removed = await removeStoreToken(database.db, storeId);
      process.stdout.write(removed ? `store ${storeId}: token removed\n` : `store ${storeId} had no token\n`);
    } finally {
      await database.close();
    }
  });
}
