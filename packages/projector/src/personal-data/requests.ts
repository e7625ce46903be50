import { eventCatalog } from '@mirror/catalog';
import { describeError, sleep, type Logger } from '@mirror/core';
import {
  execRows,
  getRequest,
  normalizeEmail,
  personalDataRequestsTable,
  type Db,
  type PersonalDataRequest,
  type RequestKind,
  type RequestScope,
} from '@mirror/db';
import { and, asc, eq, sql } from 'drizzle-orm';
import { runErase } from './erase.ts';
import { runExport } from './export.ts';
import { subjectHasher } from './subject-key.ts';

/*
 * Personal-data requests as rows (docs/personal-data.md): Ecwid's four `*.personalData*Request`
 * webhooks become requests as the worker reads them from the log (its own checkpoint,
 * `personal_data`, moves in the same transaction as the rows it writes), and an operator makes
 * the same requests with `mirror personal-data` or the admin API. A worker takes them one at a
 * time in order; each keeps its place, so a crash resumes it.
 */

export type RequestRow = PersonalDataRequest;

/** Every spelling of the four request events, and what each asks. */
const requestEvents = new Map<string, { kind: RequestKind; scope: RequestScope }>(
  [...eventCatalog.values()]
    .filter((info) => info.entity === 'personal_data_request')
    .flatMap((info) => {
      const what = {
        kind: info.action === 'removal_requested' ? 'erase' : 'export',
        scope: info.eventType.startsWith('profile.') ? 'store' : 'customer',
      } as const;
      return [info.eventType, ...info.aliases].map((spelling) => [spelling, what] as const);
    }),
);

const checkpointName = 'personal_data';

/**
 * What becomes of an erasure a webhook asks for: `confirm` (the default), it waits for an
 * operator (`awaiting_confirmation`); `run`, it runs like one an operator made. A webhook's body
 * is not signed (decision 0004: no consequence on a webhook's word alone), and an erasure cannot
 * be undone (decision 0026). Exports run either way: they copy nothing out of the database.
 */
export type ErasureWebhooks = 'confirm' | 'run';

/** Turns the request webhooks committed since the checkpoint into rows; returns how many. */
export async function intakeRequests(db: Db, options: { limit?: number; erasureWebhooks?: ErasureWebhooks } = {}): Promise<number> {
  const { limit = 1000, erasureWebhooks = 'confirm' } = options;
  return db.transaction(async (tx) => {
    await tx.execute(sql`insert into consumer_checkpoints (name, position) values (${checkpointName}, 0) on conflict (name) do nothing`);
    const [cp] = await execRows<{ position: string | number }>(
      tx,
      sql`select position from consumer_checkpoints where name = ${checkpointName} for update`,
    );
    const from = Number(cp?.position ?? 0);
    const [headRow] = await execRows<{ head: string | number | null }>(tx, sql`select max(position) as head from event_log`);
    const head = Number(headRow?.head ?? 0);
    if (head <= from) return 0;
    const spellings = JSON.stringify([...requestEvents.keys()]);
    const rows = await execRows<{
      position: string | number;
      store_id: string | number;
      event_type: string;
      entity_id: string | null;
      data: unknown;
    }>(
      tx,
      sql`select position, store_id, event_type, entity_id, payload -> 'data' as data from event_log
          where position > ${from} and position <= ${head} and kind = 'webhook'
            and event_type in (select jsonb_array_elements_text(${spellings}::jsonb))
          order by position limit ${limit}`,
    );
    for (const row of rows) {
      const what = requestEvents.get(row.event_type)!;
      const data = (typeof row.data === 'object' && row.data !== null ? row.data : {}) as Record<string, unknown>;
      // Ecwid does not document these bodies: the customer is the entityId, and an email in
      // `data` (under any of the names seen for it) is taken too. The body stays in the log.
      const email = [data.email, data.customerEmail, data.emailAddress].find((v): v is string => typeof v === 'string' && v.includes('@'));
      const id = row.entity_id !== null && /^\d{1,15}$/.test(row.entity_id) ? Number(row.entity_id) : undefined;
      const named = what.scope === 'store' || (id !== undefined && id > 0) || email !== undefined;
      await tx
        .insert(personalDataRequestsTable)
        .values({
          storeId: Number(row.store_id),
          kind: what.kind,
          scope: what.scope,
          source: 'webhook',
          subjectCustomerId: what.scope === 'customer' && id !== undefined && id > 0 ? id : null,
          subjectEmail: what.scope === 'customer' && email ? normalizeEmail(email) : null,
          requestedPosition: Number(row.position),
          ...(what.kind === 'erase' && erasureWebhooks === 'confirm' && { status: 'awaiting_confirmation' as const }),
          ...(!named && { status: 'failed' as const, reason: 'the webhook names no customer id or email', finishedAt: sql`now()` }),
        })
        .onConflictDoNothing();
    }
    const to = rows.length < limit ? head : Number(rows.at(-1)!.position);
    await tx.execute(sql`update consumer_checkpoints set position = ${to}, updated_at = now() where name = ${checkpointName}`);
    return rows.length;
  });
}

/** A request left running longer ago than this by a worker that died is taken over. */
const leaseSeconds = 120;

/** The next request to work on (received, or running without a live worker), marked running. */
export async function claimNext(db: Db): Promise<RequestRow | undefined> {
  const [row] = await execRows<{ store_id: string | number; id: string | number }>(
    db,
    sql`update personal_data_requests r set status = 'running', started_at = coalesce(r.started_at, now()), heartbeat_at = now()
        where (r.store_id, r.id) = (
          select store_id, id from personal_data_requests
          where status = 'received' or (status = 'running' and heartbeat_at < now() - make_interval(secs => ${leaseSeconds}))
          order by id limit 1 for update skip locked)
        returning r.store_id, r.id`,
  );
  return row ? getRequest(db, Number(row.store_id), Number(row.id)) : undefined;
}

/** Claims one request for this process (the CLI runs the request it made); undefined when a worker has it. */
export async function claimRequest(db: Db, storeId: number, id: number): Promise<RequestRow | undefined> {
  const [row] = await execRows<{ id: string | number }>(
    db,
    sql`update personal_data_requests set status = 'running', started_at = coalesce(started_at, now()), heartbeat_at = now()
        where store_id = ${storeId} and id = ${id}
          and (status = 'received' or (status = 'running' and heartbeat_at < now() - make_interval(secs => ${leaseSeconds})))
        returning id`,
  );
  return row ? getRequest(db, storeId, id) : undefined;
}

export type RunRequestDeps = {
  db: Db;
  log: Logger;
  signal?: AbortSignal | undefined;
  /** Erasure batch size (tests, benchmarks). */
  batchSize?: number | undefined;
  onBatch?: (() => void) | undefined;
};

/** Runs a claimed request to its end: done with its counts, or failed with a reason. */
export async function runRequest(deps: RunRequestDeps, request: RequestRow): Promise<RequestRow> {
  const { db } = deps;
  const where = and(eq(personalDataRequestsTable.storeId, request.storeId), eq(personalDataRequestsTable.id, request.id));
  try {
    if (request.kind === 'erase') {
      const counts = await runErase(
        { db, hasher: await subjectHasher(db), signal: deps.signal, batchSize: deps.batchSize, onBatch: deps.onBatch },
        request,
      );
      // The subject is kept only as its keyed hashes from now on.
      await db
        .update(personalDataRequestsTable)
        .set({ status: 'done', counts, progress: null, subjectCustomerId: null, subjectEmail: null, finishedAt: sql`now()` })
        .where(where);
      // Ids and counts only: never the subject (docs/personal-data.md).
      deps.log.info({ storeId: request.storeId, request: request.id, scope: request.scope, counts }, 'personal data erased');
    } else {
      const parts = await runExport(db, request, deps.signal);
      await db
        .update(personalDataRequestsTable)
        .set({ status: 'done', exportParts: parts, progress: null, finishedAt: sql`now()` })
        .where(where);
      deps.log.info({ storeId: request.storeId, request: request.id, scope: request.scope, parts }, 'personal data exported');
    }
  } catch (err) {
    if (deps.signal?.aborted) throw err;
    // Kept as a row with its reason. The innermost error's message: a failed statement's wrapper
    // (drizzle's) quotes the statement's parameters, which name the subject; Postgres's own
    // message does not.
    const reason = describeError(err, { innermost: true });
    await db
      .update(personalDataRequestsTable)
      .set({ status: 'failed', reason, finishedAt: sql`now()` })
      .where(where);
    deps.log.error({ storeId: request.storeId, request: request.id, error: reason }, 'personal-data request failed');
  }
  return (await getRequest(db, request.storeId, request.id))!;
}

/** Runs every waiting request, one after another; returns how many ran. */
export async function processRequests(deps: RunRequestDeps): Promise<number> {
  let n = 0;
  for (;;) {
    if (deps.signal?.aborted) return n;
    const request = await claimNext(deps.db);
    if (!request) return n;
    await runRequest(deps, request);
    n++;
  }
}

export type PersonalDataWorkerOptions = RunRequestDeps & { signal: AbortSignal; pollMs?: number; erasureWebhooks?: ErasureWebhooks };

/** The worker in `mirror project` and `mirror start`: takes request webhooks from the log and runs requests. */
export async function runPersonalDataWorker(options: PersonalDataWorkerOptions): Promise<void> {
  const { log, signal, pollMs = 1000 } = options;
  while (!signal.aborted) {
    try {
      while ((await intakeRequests(options.db, { erasureWebhooks: options.erasureWebhooks })) > 0);
      await processRequests(options);
    } catch (err) {
      if (signal.aborted) break;
      log.error({ error: describeError(err) }, 'personal-data worker failed; retrying');
    }
    await sleep(pollMs, signal);
  }
}

/** Requests waiting (for a worker or for confirmation) or running, oldest first (status, metrics). */
export async function openRequests(db: Db): Promise<RequestRow[]> {
  return db
    .select()
    .from(personalDataRequestsTable)
    .where(sql`${personalDataRequestsTable.status} in ('awaiting_confirmation', 'received', 'running')`)
    .orderBy(asc(personalDataRequestsTable.id));
}
