import { publicKindName } from '@mirror/catalog';
import { parkedEventsTable } from '@mirror/db';
import { createClientFactory, retryParked } from '@mirror/projector';
import type { Command } from 'commander';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { baseSections, ecwidSection, loadConfig, requireSecretBox, secretKeySection } from '../config.ts';
import { openDatabase } from '../runtime.ts';
import { createQuietLogger, exitTwoOnBadArguments, formatTable, positionArgument } from './command-kit.ts';

/** `mirror parked [retry [--id N]]`: webhooks whose fetch kept failing, and sending them again. */
export function registerParked(program: Command): void {
  const parked = exitTwoOnBadArguments(
    program.command('parked').description('list open parked webhooks (fetches that kept failing)').option('--json', 'print JSON'),
  ).action(async (options: { json?: boolean }) => {
    const config = loadConfig(process.env, { ...baseSections, ecwid: ecwidSection });
    const log = createQuietLogger(config.log);
    const database = await openDatabase(config.database, log);
    try {
      const rows = await database.db
        .select()
        .from(parkedEventsTable)
        .where(isNull(parkedEventsTable.resolvedAt))
        .orderBy(asc(parkedEventsTable.id));
      // The public name (`orders`), as the API and the other commands say it; the log's own
      // `entityKind` stays in the JSON beside it, as verify's `kind` does.
      if (options.json)
        process.stdout.write(
          `${JSON.stringify(
            rows.map((r) => ({ ...r, entity: publicKindName(r.entityKind) })),
            null,
            2,
          )}\n`,
        );
      else if (rows.length === 0) process.stdout.write('no open parked events\n');
      else
        process.stdout.write(
          `${formatTable([
            ['id', 'store', 'position', 'entity', 'attempts', 'parked at', 'error'],
            ...rows.map((r) => [
              String(r.id),
              String(r.storeId),
              String(r.position),
              `${publicKindName(r.entityKind) ?? '?'} ${r.entityId ?? ''}`,
              String(r.attempts),
              r.parkedAt.toISOString(),
              r.error,
            ]),
          ])}\n`,
        );
    } finally {
      await database.close();
    }
  });

  exitTwoOnBadArguments(
    parked
      .command('retry')
      .description('re-fetch the entity of each open parked webhook (or one), append its snapshot/tombstone and mark it resolved')
      .option('--id <id>', 'retry only this parked event', positionArgument),
  ).action(async (options: { id?: number }) => {
    const config = loadConfig(process.env, { ...baseSections, ecwid: ecwidSection, secretKey: secretKeySection });
    const log = createQuietLogger(config.log);
    const database = await openDatabase(config.database, log);
    try {
      // Nothing to retry needs no store's token, so no key (beside the demo, which has its own).
      const open = await database.db.$count(
        parkedEventsTable,
        and(isNull(parkedEventsTable.resolvedAt), options.id === undefined ? undefined : eq(parkedEventsTable.id, options.id)),
      );
      if (open === 0) {
        process.stdout.write(options.id === undefined ? 'no open parked events\n' : `no open parked event with id ${options.id}\n`);
        return;
      }
      const box = requireSecretBox(config.secretKey);
      const clientFor = createClientFactory({ baseUrl: config.ecwid.apiBaseUrl, ratePerMinute: config.ecwid.ratePerMinute, log });
      const results = await retryParked({ db: database.db, clientFor, box, log, ...(options.id !== undefined && { id: options.id }) });
      if (options.id !== undefined && results.length === 0) process.stdout.write(`no open parked event with id ${options.id}\n`);
      for (const r of results)
        process.stdout.write(`#${r.id} store ${r.storeId} position ${r.position}: ${r.outcome}${r.error ? ` (${r.error})` : ''}\n`);
      const failed = results.filter((r) => r.outcome === 'failed').length;
      process.stdout.write(`${results.length - failed} resolved, ${failed} still failing\n`);
      if (failed > 0) process.exitCode = 1;
    } finally {
      await database.close();
    }
  });
}
