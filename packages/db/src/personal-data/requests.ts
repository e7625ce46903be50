import { AppError } from '@mirror/core';
import { and, asc, desc, eq, lt, sql } from 'drizzle-orm';
import { execRows } from '../create-db.ts';
import type { Db } from '../create-db.ts';
import { personalDataExportPartsTable, personalDataRequestsTable } from '../schema/operations.ts';

/*
 * Personal-data requests as rows (docs/personal-data.md): what the API, the CLI and the worker
 * share. The worker that runs them is in @mirror/projector (personal-data/).
 */

export type PersonalDataRequest = typeof personalDataRequestsTable.$inferSelect;
export type RequestKind = 'erase' | 'export';
export type RequestScope = 'customer' | 'store';

export type NewRequest = {
  storeId: number;
  kind: RequestKind;
  scope: RequestScope;
  source: 'webhook' | 'cli' | 'api';
  customerId?: number | undefined;
  email?: string | undefined;
  requestedPosition?: number;
};

/** A request an operator made is refused when it names nobody. */
export class RequestInputError extends Error {
  override readonly name = 'RequestInputError';
}

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/**
 * What every way in (CLI, API, the request itself) takes for an email: one `@` with something on
 * each side and no spaces. Loose on purpose: an address with letters beyond ASCII (`josé@…`) is
 * someone's, and a request for it must not be refused by one way in and taken by another.
 */
export const emailShape = /^[^\s@]+@[^\s@]+$/;

/**
 * How a done export's `reason` begins once an erasure of its subject deleted it: its parts are
 * gone, and it is not to be served as an export that found nothing.
 */
export const exportDeletedReason = 'deleted';
/** Whether an export's document can still be read. */
export const exportReadable = (row: PersonalDataRequest) =>
  row.kind === 'export' && row.status === 'done' && !row.reason?.startsWith(exportDeletedReason);

export async function createRequest(db: Db, input: NewRequest): Promise<PersonalDataRequest> {
  if (input.scope === 'customer' && input.customerId === undefined && !input.email) {
    throw new RequestInputError('a customer request needs a customer id or an email');
  }
  if (input.customerId !== undefined && !(Number.isSafeInteger(input.customerId) && input.customerId > 0)) {
    throw new RequestInputError('the customer id must be a positive integer');
  }
  if (input.email !== undefined && !emailShape.test(input.email.trim())) throw new RequestInputError('the email is not an email address');
  const [row] = await db
    .insert(personalDataRequestsTable)
    .values({
      storeId: input.storeId,
      kind: input.kind,
      scope: input.scope,
      source: input.source,
      subjectCustomerId: input.customerId ?? null,
      subjectEmail: input.email ? normalizeEmail(input.email) : null,
      requestedPosition: input.requestedPosition ?? null,
    })
    .returning();
  return row!;
}

export async function getRequest(db: Db, storeId: number, id: number): Promise<PersonalDataRequest | undefined> {
  const [row] = await db
    .select()
    .from(personalDataRequestsTable)
    .where(and(eq(personalDataRequestsTable.storeId, storeId), eq(personalDataRequestsTable.id, id)));
  return row;
}

export async function listRequests(db: Db, storeId: number, limit = 100, before?: number): Promise<PersonalDataRequest[]> {
  return db
    .select()
    .from(personalDataRequestsTable)
    .where(and(eq(personalDataRequestsTable.storeId, storeId), before === undefined ? undefined : lt(personalDataRequestsTable.id, before)))
    .orderBy(desc(personalDataRequestsTable.id))
    .limit(limit);
}

/** An export's document, assembled from its parts (a generator of JSON text chunks, for streaming). */
export async function* readExport(db: Db, request: PersonalDataRequest): AsyncGenerator<string> {
  const header = {
    request: {
      id: request.id,
      storeId: request.storeId,
      kind: request.kind,
      scope: request.scope,
      source: request.source,
      createdAt: request.createdAt,
    },
    subject:
      request.scope === 'store' ? { store: request.storeId } : { customerId: request.subjectCustomerId, email: request.subjectEmail },
    generatedAt: request.finishedAt,
  };
  yield `${JSON.stringify(header).slice(0, -1)},"items":[`;
  let first = true;
  for (let part = 0; part < (request.exportParts ?? 0); part++) {
    const [row] = await db
      .select({ items: sql<string>`${personalDataExportPartsTable.items}::text` })
      .from(personalDataExportPartsTable)
      .where(
        and(
          eq(personalDataExportPartsTable.storeId, request.storeId),
          eq(personalDataExportPartsTable.requestId, request.id),
          eq(personalDataExportPartsTable.part, part),
        ),
      )
      .orderBy(asc(personalDataExportPartsTable.part));
    const inner = row?.items.slice(1, -1).trim() ?? '';
    if (inner.length === 0) continue;
    yield `${first ? '' : ','}${inner}`;
    first = false;
  }
  yield ']}';
}

/**
 * An operator's answer to an erasure awaiting confirmation: `confirm` lets a worker (or the
 * caller, with claimRequest) run it, `cancel` ends it unrun. A request in any other state is a
 * 409 (a 404 when there is none).
 */
export async function answerRequest(db: Db, storeId: number, id: number, answer: 'confirm' | 'cancel'): Promise<PersonalDataRequest> {
  const [row] = await execRows<{ id: string | number }>(
    db,
    answer === 'confirm'
      ? sql`update personal_data_requests set status = 'received'
            where store_id = ${storeId} and id = ${id} and status = 'awaiting_confirmation' returning id`
      : sql`update personal_data_requests set status = 'cancelled', reason = 'cancelled by an operator', finished_at = now()
            where store_id = ${storeId} and id = ${id} and status = 'awaiting_confirmation' returning id`,
  );
  const now = await getRequest(db, storeId, id);
  if (!now) throw new AppError('NOT_FOUND', `personal-data request ${id} not found`);
  if (!row) throw new AppError('CONFLICT', `personal-data request ${id} is ${now.status}, not awaiting confirmation`);
  return now;
}
