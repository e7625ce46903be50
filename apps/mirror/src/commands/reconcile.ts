import { fetchedKinds, kindName, type FetchedKind } from '@mirror/catalog';
import { createEcwidClient, createRateLimiter } from '@mirror/ecwid';
import { reconcile, type KindReport } from '@mirror/projector';
import type { Command } from 'commander';
import { baseSections, ecwidSection, loadConfig, secretKeySection } from '../config.ts';
import { onShutdown, openDatabase } from '../runtime.ts';
import { createQuietLogger, entitiesArgument, exitTwoOnBadArguments, formatTable, kindNames, storeIdArgument } from './command-kit.ts';
import { tokenForStore } from './store-token.ts';

type RunOptions = { store: number; entities?: FetchedKind[]; json?: boolean; full?: boolean };

/** Runs reconcile (or, with dryRun, verify) from the command line: a client of its own that counts its requests. */
async function runFromCli(options: RunOptions, dryRun: boolean): Promise<KindReport[]> {
  const config = loadConfig(process.env, { ...baseSections, ecwid: ecwidSection, secretKey: secretKeySection });
  const log = createQuietLogger(config.log);
  const database = await openDatabase(config.database, log);
  const controller = new AbortController();
  onShutdown(log, async () => controller.abort());
  try {
    await database.migrate();
    const token = await tokenForStore(database.db, config.secretKey, config.ecwid, options.store);
    let requests = 0;
    const client = createEcwidClient({
      baseUrl: config.ecwid.apiBaseUrl,
      storeId: options.store,
      token,
      limiter: createRateLimiter({ perMinute: config.ecwid.ratePerMinute }),
      onAttempt: () => void requests++,
      log,
    });
    return await reconcile({
      db: database.db,
      storeId: options.store,
      client,
      requestCount: () => requests,
      mode: dryRun || options.full ? 'full' : 'incremental',
      ...(options.entities && { kinds: options.entities }),
      dryRun,
      trigger: 'cli',
      signal: controller.signal,
    });
  } finally {
    await database.close();
  }
}

const differs = (r: KindReport) => r.missing + r.stale + r.missedDeletes + r.healedTombstones > 0;

/** What each sample list is called in the printed table's columns, so a sample line reads as its column. */
const sampleLabels = {
  verify: { missing: 'missing', stale: 'stale', missedDeletes: 'gone from Ecwid', healedTombstones: 'deleted in mirror' },
  reconcile: { missing: 'missing', stale: 'stale', missedDeletes: 'missed deletes', healedTombstones: 'healed' },
} as const satisfies Record<'verify' | 'reconcile', Record<keyof KindReport['samples'], string>>;

function printReports(reports: readonly KindReport[], verb: 'verify' | 'reconcile'): void {
  const header =
    verb === 'verify'
      ? ['entity', 'checked', 'missing', 'stale', 'gone from Ecwid', 'deleted in mirror', 'requests', '']
      : ['entity', 'mode', 'checked', 'missing', 'stale', 'missed deletes', 'healed', 'appended', 'requests', ''];
  const rows = reports.map((r) => {
    const status = r.status === 'done' ? '' : `${r.status}: ${r.reason ?? ''}`;
    return verb === 'verify'
      ? [
          kindName(r.kind),
          String(r.checked),
          String(r.missing),
          String(r.stale),
          String(r.missedDeletes),
          String(r.healedTombstones),
          String(r.requests),
          status,
        ]
      : [
          kindName(r.kind),
          r.mode,
          String(r.checked),
          String(r.missing),
          String(r.stale),
          String(r.missedDeletes),
          String(r.healedTombstones),
          String(r.appended),
          String(r.requests),
          status,
        ];
  });
  process.stdout.write(`${formatTable([header, ...rows])}\n`);
  for (const r of reports) {
    for (const what of Object.keys(sampleLabels[verb]) as (keyof KindReport['samples'])[]) {
      const ids = r.samples[what];
      if (ids.length > 0)
        process.stdout.write(`  ${kindName(r.kind)} ${sampleLabels[verb][what]}: ${ids.join(', ')}${ids.length < r[what] ? ', …' : ''}\n`);
    }
  }
  const total = reports.reduce((n, r) => n + r.requests, 0);
  process.stdout.write(`${total} requests to Ecwid\n`);
}

/** `mirror verify` and `mirror reconcile`. */
export function registerReconcile(program: Command): void {
  exitTwoOnBadArguments(
    program
      .command('verify')
      .description(
        'compare the mirror with Ecwid and change nothing: per entity, what is missing, stale, gone from Ecwid, or deleted in the mirror but live in Ecwid; exit 1 when anything differs',
      )
      .requiredOption('--store <id>', 'Ecwid store id', storeIdArgument)
      .option('--entities <list>', `comma list (default all): ${kindNames(fetchedKinds)}`, entitiesArgument(fetchedKinds))
      .option('--json', 'print JSON'),
  ).action(async (options: RunOptions) => {
    const reports = await runFromCli(options, true);
    if (options.json)
      process.stdout.write(
        `${JSON.stringify(
          reports.map((r) => ({ ...r, entity: kindName(r.kind) })),
          null,
          2,
        )}\n`,
      );
    else printReports(reports, 'verify');
    process.exitCode = reports.some((r) => differs(r) || r.status === 'failed') ? 1 : 0;
  });

  exitTwoOnBadArguments(
    program
      .command('reconcile')
      .description(
        'repair what verify finds, by appending snapshots and tombstones to the log: changes since the last run (default), or with --full the whole id set of every entity',
      )
      .requiredOption('--store <id>', 'Ecwid store id', storeIdArgument)
      .option('--entities <list>', `comma list (default all): ${kindNames(fetchedKinds)}`, entitiesArgument(fetchedKinds))
      .option('--full', 'compare whole id sets (and contents) of every entity, not just what changed')
      .option('--json', 'print JSON'),
  ).action(async (options: RunOptions) => {
    const reports = await runFromCli(options, false);
    if (options.json)
      process.stdout.write(
        `${JSON.stringify(
          reports.map((r) => ({ ...r, entity: kindName(r.kind) })),
          null,
          2,
        )}\n`,
      );
    else printReports(reports, 'reconcile');
    // A kind another worker holds was not reconciled by this run: not a success to a script (a
    // crashed run holds its kind until its lease runs out; the message says when).
    process.exitCode = reports.some((r) => r.status === 'failed' || r.status === 'skipped') ? 1 : 0;
  });
}
