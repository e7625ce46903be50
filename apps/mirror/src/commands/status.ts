import { kindName } from '@mirror/catalog';
import { readStatus } from '@mirror/projector';
import type { Command } from 'commander';
import { baseSections, loadConfig } from '../config.ts';
import { openDatabase } from '../runtime.ts';
import { createQuietLogger, exitTwoOnBadArguments, formatTable } from './command-kit.ts';

const seconds = (s: number) => (s < 100 ? s.toFixed(1) : String(Math.round(s)));

/** `mirror status`: per store and stage, how far behind the mirror is and why. */
export function registerStatus(program: Command): void {
  exitTwoOnBadArguments(
    program
      .command('status')
      .description(
        'per store: enrichment checkpoint, lag, status and parked events; backfill and reconcile runs; projection checkpoint vs the log head',
      )
      .option('--json', 'print JSON'),
  ).action(async (options: { json?: boolean }) => {
    const config = loadConfig(process.env, baseSections);
    const log = createQuietLogger(config.log);
    const database = await openDatabase(config.database, log);
    try {
      const status = await readStatus(database.db);
      // Kinds by the catalogue's public names, as everywhere a person or a tool reads them.
      const backfill = status.backfill.map(({ kind, ...rest }) => ({ entity: kindName(kind), ...rest }));
      const reconcile = status.reconcile.map(({ kind, ...rest }) => ({ entity: kindName(kind), ...rest }));
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ ...status, backfill, reconcile }, null, 2)}\n`);
        return;
      }
      const when = (d: Date | null) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '');
      const header = ['store', 'status', 'token', 'checkpoint', 'lag records', 'lag s', 'parked', 'retry at', 'last error'];
      const rows = status.stores.map((s) => [
        String(s.storeId),
        s.status,
        s.hasToken ? 'yes' : 'no',
        String(s.position),
        String(s.lagRecords),
        seconds(s.lagSeconds),
        String(s.parkedOpen),
        s.retryAt ? s.retryAt.toISOString() : '',
        s.lastError ?? '',
      ]);
      process.stdout.write('enrichment\n');
      process.stdout.write(status.stores.length ? `${formatTable([header, ...rows])}\n` : '  no stores yet\n');
      if (backfill.length > 0) {
        process.stdout.write('\nbackfill\n');
        process.stdout.write(
          `${formatTable([
            ['store', 'entity', 'phase', 'items', 'started', 'completed', 'changes since'],
            ...backfill.map((b) => [
              String(b.storeId),
              b.entity,
              b.phase,
              String(b.offset),
              when(b.startedAt),
              when(b.completedAt),
              when(b.watermark),
            ]),
          ])}\n`,
        );
      }
      if (reconcile.length > 0) {
        // Each kind's latest run: what the webhooks missed, as Ecwid's listings show it.
        process.stdout.write('\nreconcile (latest run per entity)\n');
        process.stdout.write(
          `${formatTable([
            ['store', 'entity', 'mode', 'status', 'started', 'finished', 'missing', 'stale', 'missed deletes', 'healed', 'requests'],
            ...reconcile.map((r) => [
              String(r.storeId),
              r.entity,
              r.mode,
              r.status,
              when(r.startedAt),
              when(r.finishedAt),
              String(r.missing),
              String(r.stale),
              String(r.missedDeletes),
              String(r.healedTombstones),
              String(r.requests),
            ]),
          ])}\n`,
        );
      }
      const p = status.projection;
      process.stdout.write(
        `\nprojection\n  checkpoint ${p.position} / log head ${p.head}: ${p.lagRecords} records behind, oldest ${seconds(p.lagSeconds)} s\n`,
      );
    } finally {
      await database.close();
    }
  });
}
