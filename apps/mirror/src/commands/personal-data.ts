import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import {
  answerRequest,
  createRequest,
  emailShape,
  getRequest,
  listRequests,
  readExport,
  RequestInputError,
  type Database,
  type PersonalDataRequest,
} from '@mirror/db';
import { storeExists } from '@mirror/api';
import { AppError, type Logger } from '@mirror/core';
import { claimRequest, runRequest } from '@mirror/projector';
import { InvalidArgumentError, type Command } from 'commander';
import { baseSections, loadConfig } from '../config.ts';
import { onShutdown, openDatabase } from '../runtime.ts';
import { createQuietLogger, exitTwoOnBadArguments, formatTable, storeIdArgument, usageError } from './command-kit.ts';

/*
 * `mirror personal-data erase|export|list|confirm|cancel`: the requests Ecwid makes with its
 * personalData* webhooks, made by an operator (docs/personal-data.md). erase and export run the
 * request here, to its end, and print what it touched; nothing they print names the subject.
 * confirm runs an erasure a webhook asked for (it waits for an operator), cancel drops it.
 */

type Subject = { customerId?: number; email?: string };

const customerArgument = (value: string): Subject => {
  if (/^\d{1,15}$/.test(value) && Number(value) > 0) return { customerId: Number(value) };
  if (emailShape.test(value)) return { email: value };
  throw new InvalidArgumentError('give a customer id (a positive integer) or an email address');
};

type Options = { store: number; customer?: Subject; allCustomers?: boolean; json?: boolean; out?: string };

function scopeOf(options: Options): { scope: 'customer' | 'store'; subject: Subject } {
  if (options.customer && options.allCustomers) throw usageError('give either --customer or --all-customers, not both');
  if (!options.customer && !options.allCustomers)
    throw usageError('say whose data: --customer <id|email>, or --all-customers of the store');
  return options.customer ? { scope: 'customer', subject: options.customer } : { scope: 'store', subject: {} };
}

/** Makes the request and runs it here; a worker that took it first is waited for. */
async function runHere(database: Database, log: Logger, options: Options, kind: 'erase' | 'export'): Promise<PersonalDataRequest> {
  const { scope, subject } = scopeOf(options);
  // A mistyped store id would record erased subjects (for --all-customers, the whole store) for a
  // store the mirror does not hold, erasing it on arrival should it ever be mirrored; the API
  // answers 404 here, and so does this.
  if (!(await storeExists(database.db, options.store)))
    throw usageError(`store ${options.store} is not in this mirror (nothing of it in the log or the tables): check the store id`);
  const controller = new AbortController();
  onShutdown(log, async () => controller.abort());
  let request: PersonalDataRequest;
  try {
    request = await createRequest(database.db, { storeId: options.store, kind, scope, source: 'cli', ...subject });
  } catch (err) {
    if (err instanceof RequestInputError) throw usageError(err.message);
    throw err;
  }
  return runOrAwait(database, log, controller.signal, request);
}

/** Runs a request here, or, when a worker took it first, waits for that worker to end it. */
async function runOrAwait(
  database: Database,
  log: Logger,
  signal: AbortSignal,
  request: PersonalDataRequest,
): Promise<PersonalDataRequest> {
  const claimed = await claimRequest(database.db, request.storeId, request.id);
  if (claimed) return runRequest({ db: database.db, log, signal }, claimed);
  for (;;) {
    const now = (await getRequest(database.db, request.storeId, request.id))!;
    if (now.status === 'done' || now.status === 'failed') return now;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const countsLine = (counts: Record<string, number> | null) =>
  Object.entries(counts ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([what, n]) => `${what.replaceAll('_', ' ')} ${n}`)
    .join(', ') || 'nothing';

export function registerPersonalData(program: Command): void {
  const group = exitTwoOnBadArguments(
    program
      .command('personal-data')
      .description("erase or export what the mirror holds about a store's customer, as Ecwid's personal-data requests do"),
  );
  const withSubject = (command: Command) =>
    command
      .requiredOption('--store <id>', 'Ecwid store id', storeIdArgument)
      .option('--customer <id|email>', 'the customer: their id, or an email address (all their ids and emails are found)', customerArgument)
      .option('--all-customers', 'every customer of the store');

  exitTwoOnBadArguments(
    withSubject(
      group
        .command('erase')
        .description(
          "erase the customer's personal data from the log, the tables, the history and every later rebuild; documents Ecwid sends later are erased too",
        ),
    ).option('--json', 'print the request as JSON'),
  ).action(async (options: Options) => {
    scopeOf(options);
    const config = loadConfig(process.env, baseSections);
    const log = createQuietLogger(config.log);
    const database = await openDatabase(config.database, log);
    try {
      await database.migrate();
      const done = await runHere(database, log, options, 'erase');
      if (options.json) process.stdout.write(`${JSON.stringify(publicRequest(done), null, 2)}\n`);
      else if (done.status === 'done') process.stdout.write(`request ${done.id}: erased; touched ${countsLine(done.counts)}\n`);
      else process.stdout.write(`request ${done.id}: failed: ${done.reason}\n`);
      process.exitCode = done.status === 'done' ? 0 : 1;
    } finally {
      await database.close();
    }
  });

  exitTwoOnBadArguments(
    withSubject(group.command('export').description('write everything the mirror holds about the customer as one JSON document')).option(
      '--out <file>',
      'write the document here (default: standard output)',
    ),
  ).action(async (options: Options) => {
    scopeOf(options);
    const config = loadConfig(process.env, baseSections);
    const log = createQuietLogger(config.log);
    const database = await openDatabase(config.database, log);
    try {
      await database.migrate();
      const done = await runHere(database, log, options, 'export');
      if (done.status !== 'done') {
        process.stderr.write(`mirror: request ${done.id} failed: ${done.reason}\n`);
        process.exitCode = 1;
        return;
      }
      const out = options.out ? createWriteStream(options.out, { mode: 0o600 }) : process.stdout;
      for await (const chunk of readExport(database.db, done)) if (!out.write(chunk)) await once(out, 'drain');
      out.write('\n');
      if (options.out) {
        (out as ReturnType<typeof createWriteStream>).end();
        await once(out, 'finish');
        process.stderr.write(`request ${done.id}: export written to ${options.out}\n`);
      }
    } finally {
      await database.close();
    }
  });

  const requestArgument = (value: string): number => {
    if (!/^\d{1,15}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('a request id is a positive integer');
    return Number(value);
  };
  for (const answer of ['confirm', 'cancel'] as const) {
    exitTwoOnBadArguments(
      group
        .command(answer)
        .description(
          answer === 'confirm'
            ? 'run an erasure that Ecwid asked for by webhook, which waits for your confirmation (see `list`), here to its end'
            : 'drop an erasure that Ecwid asked for by webhook, unrun',
        )
        .requiredOption('--store <id>', 'Ecwid store id', storeIdArgument)
        .requiredOption('--request <id>', 'the request id (`mirror personal-data list`)', requestArgument)
        .option('--json', 'print the request as JSON'),
    ).action(async (options: { store: number; request: number; json?: boolean }) => {
      const config = loadConfig(process.env, baseSections);
      const log = createQuietLogger(config.log);
      const database = await openDatabase(config.database, log);
      try {
        await database.migrate();
        let done: PersonalDataRequest;
        try {
          done = await answerRequest(database.db, options.store, options.request, answer);
        } catch (err) {
          // Not found, or not awaiting confirmation: the operator's input, exit code 2.
          if (err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'CONFLICT')) throw usageError(err.message);
          throw err;
        }
        if (answer === 'confirm') {
          const controller = new AbortController();
          onShutdown(log, async () => controller.abort());
          done = await runOrAwait(database, log, controller.signal, done);
        }
        if (options.json) process.stdout.write(`${JSON.stringify(publicRequest(done), null, 2)}\n`);
        else if (done.status === 'cancelled') process.stdout.write(`request ${done.id}: cancelled\n`);
        else if (done.status === 'done') process.stdout.write(`request ${done.id}: erased; touched ${countsLine(done.counts)}\n`);
        else process.stdout.write(`request ${done.id}: failed: ${done.reason}\n`);
        process.exitCode = done.status === 'failed' ? 1 : 0;
      } finally {
        await database.close();
      }
    });
  }

  exitTwoOnBadArguments(
    group
      .command('list')
      .description("the store's personal-data requests, newest first")
      .requiredOption('--store <id>', 'Ecwid store id', storeIdArgument)
      .option('--json', 'print JSON'),
  ).action(async (options: { store: number; json?: boolean }) => {
    const config = loadConfig(process.env, baseSections);
    const database = await openDatabase(config.database, createQuietLogger(config.log));
    try {
      await database.migrate();
      const rows = await listRequests(database.db, options.store);
      if (options.json) process.stdout.write(`${JSON.stringify(rows.map(publicRequest), null, 2)}\n`);
      else if (rows.length === 0) process.stdout.write(`no personal-data requests for store ${options.store}\n`);
      else
        process.stdout.write(
          `${formatTable([
            ['id', 'kind', 'scope', 'source', 'status', 'created', 'finished', 'touched'],
            ...rows.map((r) => [
              String(r.id),
              r.kind,
              r.scope,
              r.source,
              r.status === 'failed' ? `failed: ${r.reason ?? ''}` : r.status,
              r.createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
              r.finishedAt ? r.finishedAt.toISOString().replace(/\.\d{3}Z$/, 'Z') : '',
              r.kind === 'erase' ? countsLine(r.counts) : r.exportParts !== null ? `${r.exportParts} parts` : '',
            ]),
          ])}\n`,
        );
    } finally {
      await database.close();
    }
  });
}

/** A request as the CLI prints it: never its progress (which holds the subject while it runs). */
function publicRequest({ progress: _, heartbeatAt: __, ...row }: PersonalDataRequest) {
  return row;
}
