import { kindName } from '@mirror/catalog';
import { backfill, backfillKinds, createClientFactory, type BackfillKind } from '@mirror/projector';
import type { Command } from 'commander';
import { baseSections, ecwidSection, loadConfig, secretKeySection } from '../config.ts';
import { onShutdown, openDatabase } from '../runtime.ts';
import {
  createProgressBar,
  createQuietLogger,
  entitiesArgument,
  exitTwoOnBadArguments,
  kindNames,
  storeIdArgument,
} from './command-kit.ts';
import { tokenForStore } from './store-token.ts';

/** `mirror backfill --store <id>`: walk Ecwid's listings into the log, resumable. */
export function registerBackfill(program: Command): void {
  exitTwoOnBadArguments(
    program
      .command('backfill')
      .description(
        "append snapshots of every entity of a store from Ecwid's listings; resumes after a crash, re-runs fetch only what changed",
      )
      .requiredOption('--store <id>', 'Ecwid store id', storeIdArgument)
      .option('--entities <list>', `comma list (default all): ${kindNames(backfillKinds)}`, entitiesArgument(backfillKinds)),
  ).action(async (options: { store: number; entities?: BackfillKind[] }) => {
    const config = loadConfig(process.env, { ...baseSections, ecwid: ecwidSection, secretKey: secretKeySection });
    const log = createQuietLogger(config.log);
    const database = await openDatabase(config.database, log);
    const controller = new AbortController();
    const bar = createProgressBar('backfill', { unit: 'items' });
    const work = run();
    // Ctrl-C: stop after the page in hand, which is committed whole; then close the database
    // (on embedded PGlite this process may own it: it is released, not abandoned).
    onShutdown(log, async () => {
      controller.abort();
      bar.stop();
      await work.catch(() => {});
    });
    await work;

    async function run() {
      try {
        await database.migrate();
        const token = await tokenForStore(database.db, config.secretKey, config.ecwid, options.store);
        const clientFor = createClientFactory({ baseUrl: config.ecwid.apiBaseUrl, ratePerMinute: config.ecwid.ratePerMinute, log });
        const summary = await backfill({
          db: database.db,
          storeId: options.store,
          client: clientFor(options.store, token),
          ...(options.entities && { entities: options.entities }),
          signal: controller.signal,
          // Every kind's total first, so the bar is one bar for the whole run with a time left.
          plan: true,
          onProgress: (p) => {
            const kind = `${kindName(p.entity)} ${p.phase === 'done' ? 'done' : `${p.phase} ${p.done}/${p.total}`}`;
            if (p.overall) bar.update(p.overall.done, p.overall.total, kind);
            if (p.phase === 'done') bar.note(`${kindName(p.entity)} done (${p.done} listed)`);
          },
        });
        bar.stop();
        for (const s of summary) {
          process.stdout.write(
            `${kindName(s.entity).padEnd(16)} ${String(s.snapshots).padStart(7)} snapshots ${String(s.tombstones).padStart(5)} tombstones ${s.incremental ? '(changes since last run)' : '(full scan)'}\n`,
          );
        }
        if (controller.signal.aborted) process.stdout.write('interrupted: run the same command again to resume\n');
      } finally {
        bar.stop();
        await database.close();
      }
    }
  });
}
