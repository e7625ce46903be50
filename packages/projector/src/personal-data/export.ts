import { execRows, personalDataExportPartsTable, personalDataRequestsTable, type Db, type Executor } from '@mirror/db';
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { resolveSubject, subjectEntities, type Subject, type SubjectEntities } from './find-subject.ts';
import type { RequestRow } from './requests.ts';

/*
 * An export: one JSON document with everything the mirror holds about the subject, the rows of
 * every table and the log records that mention them (with positions and times), written in
 * parts of bounded size as it goes (a store's export can be large) and assembled when read:
 * `GET /v1/stores/{storeId}/personal-data-requests/{id}/export` or `mirror personal-data export`.
 * Items are built as JSON in SQL, so documents travel as text and keep every digit.
 */

type Stage = { name: string; next(tx: Executor, cursor: string | null): Promise<{ items: string[]; cursor: string | null }> };
type ExportProgress = { subject?: Subject; entities?: SubjectEntities; stage: number; cursor: string | null; part: number };

/** Rows or records per part of a store's export. */
const partSize = 500;

const logItem = sql.raw(`jsonb_build_object('source', 'log', 'position', position, 'kind', kind, 'eventType', event_type,
  'entityKind', entity_kind, 'entityId', entity_id, 'receivedAt', received_at, 'fetchedAt', fetched_at, 'erasedAt', erased_at,
  'payload', payload)::text`);
const rowItem = (table: string) => sql.raw(`jsonb_build_object('source', 'table', 'table', '${table}', 'row', to_jsonb(t))::text`);
const jsonTexts = (values: readonly string[]) => sql`(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`;

/** Stages over fixed key lists (one customer): each call takes the next chunk of keys. */
function keyed(name: string, keys: readonly string[], query: (chunk: string[]) => SQL): Stage {
  return {
    name,
    async next(tx, cursor) {
      const at = Number(cursor ?? 0);
      const chunk = keys.slice(at, at + 200);
      if (chunk.length === 0) return { items: [], cursor: null };
      const items = (await execRows<{ item: string }>(tx, query(chunk))).map((r) => r.item);
      return { items, cursor: at + chunk.length < keys.length ? String(at + chunk.length) : null };
    },
  };
}

function customerStages(storeId: number, subject: Subject, entities: SubjectEntities): Stage[] {
  const logOf = (entityKind: string) => (ids: string[]) =>
    sql`select ${logItem} as item from event_log where store_id = ${storeId} and entity_kind = ${entityKind} and entity_id in ${jsonTexts(ids)} order by position`;
  const rowsOf = (table: string, key: string, type: 'bigint' | 'text') => (keys: string[]) =>
    sql`select ${rowItem(table)} as item from ${sql.raw(table)} t where store_id = ${storeId}
          and ${sql.raw(key)} in (select (jsonb_array_elements_text(${JSON.stringify(keys)}::jsonb))::${sql.raw(type)})`;
  const orderNames = [...entities.order, ...entities.orderInternal, ...entities.orderInternal.map((id) => `internal:${id}`)];
  return [
    keyed('customers', entities.customer, rowsOf('customers', 'customer_id', 'bigint')),
    keyed('orders', entities.order, rowsOf('orders', 'order_id', 'text')),
    keyed('order_items', entities.order, rowsOf('order_items', 'order_id', 'text')),
    keyed('invoices', entities.order, rowsOf('invoices', 'order_id', 'text')),
    keyed('abandoned_carts', entities.abandoned_cart, rowsOf('abandoned_carts', 'cart_id', 'text')),
    keyed('reviews', entities.review, rowsOf('reviews', 'review_id', 'bigint')),
    keyed('log customers', entities.customer, logOf('customer')),
    keyed('log orders', orderNames, logOf('order')),
    keyed('log invoices', entities.order, logOf('invoice')),
    keyed('log abandoned carts', entities.abandoned_cart, logOf('abandoned_cart')),
    keyed('log reviews', entities.review, logOf('review')),
    {
      name: 'log requests',
      async next(tx) {
        const items = await execRows<{ item: string }>(
          tx,
          sql`select ${logItem} as item from event_log where position in (
                select requested_position from personal_data_requests where store_id = ${storeId} and requested_position is not null
                  and (subject_customer_id in (select (jsonb_array_elements_text(${JSON.stringify(subject.customerIds.map(String))}::jsonb))::bigint)
                    or lower(subject_email) in ${jsonTexts(subject.emails)}))
              order by position`,
        );
        return { items: items.map((r) => r.item), cursor: null };
      },
    },
  ];
}

/** Every person table of the store, key by key, then the store's records of person kinds, by position. */
function storeStages(storeId: number): Stage[] {
  const table = (name: string, key: string, type: 'bigint' | 'text', order = key): Stage => ({
    name,
    async next(tx, cursor) {
      const rows = await execRows<{ item: string; k: string }>(
        tx,
        sql`select ${rowItem(name)} as item, ${sql.raw(order)}::text as k from ${sql.raw(name)} t where store_id = ${storeId}
              and (${cursor}::text is null or ${sql.raw(key)} > ${cursor}::${sql.raw(type)})
            order by ${sql.raw(key)} limit ${partSize}`,
      );
      return { items: rows.map((r) => r.item), cursor: rows.length < partSize ? null : rows.at(-1)!.k };
    },
  });
  return [
    table('customers', 'customer_id', 'bigint'),
    table('orders', 'order_id', 'text'),
    table('abandoned_carts', 'cart_id', 'text'),
    table('reviews', 'review_id', 'bigint'),
    {
      name: 'log',
      async next(tx, cursor) {
        const rows = await execRows<{ item: string; position: string | number }>(
          tx,
          sql`select ${logItem} as item, position from event_log where store_id = ${storeId} and position > ${Number(cursor ?? 0)}
                and (entity_kind in ('customer', 'order', 'abandoned_cart', 'review', 'invoice') or event_type like '%ersonal%ata%')
              order by position limit ${partSize}`,
        );
        return { items: rows.map((r) => r.item), cursor: rows.length < partSize ? null : String(rows.at(-1)!.position) };
      },
    },
  ];
}

/** Runs (or resumes) an export to its end; returns the number of parts. */
export async function runExport(db: Db, request: RequestRow, signal?: AbortSignal): Promise<number> {
  let progress = (request.progress as ExportProgress | null) ?? { stage: 0, cursor: null, part: 0 };
  if (request.scope === 'customer' && !progress.subject) {
    const subject = await resolveSubject(db, request.storeId, {
      ...(request.subjectCustomerId !== null && { customerId: request.subjectCustomerId }),
      ...(request.subjectEmail !== null && { email: request.subjectEmail }),
    });
    progress = { ...progress, subject, entities: await subjectEntities(db, subject) };
  }
  const stages =
    request.scope === 'store' ? storeStages(request.storeId) : customerStages(request.storeId, progress.subject!, progress.entities!);
  while (progress.stage < stages.length) {
    if (signal?.aborted) throw new Error('aborted');
    const current: ExportProgress = progress;
    await db.transaction(async (tx) => {
      // One chunk of one stage is one part: its items and the cursor after it commit together.
      const { items, cursor } = await stages[current.stage]!.next(tx, current.cursor);
      let next: ExportProgress = cursor === null ? { ...current, stage: current.stage + 1, cursor: null } : { ...current, cursor };
      if (items.length > 0) {
        await tx.insert(personalDataExportPartsTable).values({
          storeId: request.storeId,
          requestId: request.id,
          part: current.part,
          items: sql`${`[${items.join(',')}]`}::jsonb`,
        });
        next = { ...next, part: current.part + 1 };
      }
      await tx
        .update(personalDataRequestsTable)
        .set({ progress: next as Record<string, unknown>, heartbeatAt: sql`now()` })
        .where(and(eq(personalDataRequestsTable.storeId, request.storeId), eq(personalDataRequestsTable.id, request.id)));
      progress = next;
    });
  }
  return progress.part;
}
