import { execRows, readStoreOverview, type StoreOverview } from '@mirror/db';
import { addStoreToken, removeStoreToken } from '@mirror/projector';
import type { Command } from 'commander';
import { sql } from 'drizzle-orm';
import { baseSections, loadConfig, requireSecretBox, secretKeySection } from '../config.ts';
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
    const config = loadConfig(process.env, { ...baseSections, secretKey: secretKeySection });
    const box = requireSecretBox(config.secretKey);
    const log = createQuietLogger(config.log);
    const database = await openDatabase(config.database, log);
    try {
      await database.migrate();
      const outcome = await addStoreToken(database.db, box, storeId, token);
      const next =
        outcome.catchUp === 'backfill'
          ? '; `mirror project` (or `pnpm start`) backfills it'
          : outcome.catchUp === 'reconcile'
            ? '; reinstalled: `mirror project` (or `pnpm start`) catches up what changed meanwhile'
            : '';
      process.stdout.write(`store ${storeId}: token ${outcome.changed ? 'saved (sealed)' : 'unchanged'}${next}\n`);
    } finally {
      await database.close();
    }
  });

  exitTwoOnBadArguments(
    stores
      .command('list')
      .description(
        'list the stores: status, install times, scopes, token fingerprint (never the token), last webhook, fetch and reconcile, lag',
      )
      .option('--json', 'print JSON'),
  ).action(async (options: { json?: boolean }) => {
    const config = loadConfig(process.env, baseSections);
    const log = createQuietLogger(config.log);
    const database = await openDatabase(config.database, log);
    try {
      const ids = await execRows<{ store_id: string | number }>(
        database.db,
        sql`select store_id from store_tokens union select store_id from stores union select store_id from enrichment_state order by 1`,
      );
      const rows = await readStoreOverview(
        database.db,
        ids.map((r) => Number(r.store_id)),
      );
      if (options.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else if (rows.length === 0) process.stdout.write('no stores (add one with: mirror stores add <storeId> --token-env VAR)\n');
      else process.stdout.write(`${formatStores(rows)}\n`);
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

const time = (d: Date | null) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');

function formatStores(rows: StoreOverview[]): string {
  return formatTable([
    ['store', 'status', 'installed', 'uninstalled', 'token', 'source', 'scopes', 'last webhook', 'last fetch', 'last reconcile', 'lag'],
    ...rows.map((r) => [
      String(r.storeId),
      r.statusReason ? `${r.status} (${r.statusReason.slice(0, 60)})` : r.catchUp ? `${r.status} (${r.catchUp} pending)` : r.status,
      time(r.installedAt),
      time(r.uninstalledAt),
      r.tokenFingerprint ?? '-',
      r.tokenSource ?? '-',
      r.scopes ? String(r.scopes.length) : '-',
      time(r.lastWebhookAt),
      time(r.lastFetchAt),
      time(r.lastReconcileAt),
      `${r.lagRecords} (${Math.round(r.lagSeconds)}s)`,
    ]),
  ]);
}
