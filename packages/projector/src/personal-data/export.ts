import { execRows, personalDataExportPartsTable, personalDataRequestsTable, type Db, type Executor } from '@mirror/db';
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { gatherStrings, resolveSubject, subjectEntities, type Subject, type SubjectEntities } from './find-subject.ts';
import type { RequestRow } from './requests.ts';
import { emailValueMatcher, namesSubject, nextWindowEnd, subjectEmails, webhooksHolding } from './subject-webhooks.ts';

/*
 * An export: one JSON document with everything the mirror holds about the subject, the rows of
 * every table and the log records that mention them (with positions and times), written in
 * parts of bounded size as it goes (a store's export can be large) and assembled when read:
 * `GET /v1/stores/{storeId}/personal-data-requests/{id}/export` or `mirror personal-data export`.
 * Items are built as JSON in SQL, so documents travel as text and keep every digit.
 *
 * Stages are only ever added at the end of their lists: a running export's progress names its
 * stage by its place in the list, and a run resumed by a newer version must find it there.
 */

type Stage = { name: string; next(tx: Executor, cursor: string | null): Promise<{ items: string[]; cursor: string | null }> };
type ExportProgress = {
  subject?: Subject;
  entities?: SubjectEntities;
  /**
   * The subject's emails, which a customer's export looks for in the store's webhooks
   * (subject-webhooks.ts). Emails only: names, streets and phones are not kept in clear for the
   * life of a finished request.
   */
  strings?: string[];
  stage: number;
  cursor: string | null;
  part: number;
};

/** Rows or records per part of a store's export. */
const partSize = 500;

/** Log records searched per part for webhooks naming a customer (subject-webhooks.ts). */
const webhookWindow = 2000;

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

function customerStages(storeId: number, subject: Subject, entities: SubjectEntities, strings: readonly string[]): Stage[] {
  const logOf = (entityKind: string) => (ids: string[]) =>
    sql`select ${logItem} as item from event_log where store_id = ${storeId} and entity_kind = ${entityKind} and entity_id in ${jsonTexts(ids)} order by position`;
  const rowsOf = (table: string, key: string, type: 'bigint' | 'text') => (keys: string[]) =>
    sql`select ${rowItem(table)} as item from ${sql.raw(table)} t where store_id = ${storeId}
          and ${sql.raw(key)} in (select (jsonb_array_elements_text(${JSON.stringify(keys)}::jsonb))::${sql.raw(type)})`;
  const orderNames = [...entities.order, ...entities.orderInternal, ...entities.orderInternal.map((id) => `internal:${id}`)];
  // The log records the stages below export by entity: the webhook stage leaves them to those.
  const logNames: [entityKind: string, ids: readonly string[]][] = [
    ['customer', entities.customer],
    ['order', orderNames],
    ['invoice', entities.order],
    ['abandoned_cart', entities.abandoned_cart],
    ['review', entities.review],
  ];
  const requestPositions = sql`(select requested_position from personal_data_requests where store_id = ${storeId} and requested_position is not null
    and (subject_customer_id in (select (jsonb_array_elements_text(${JSON.stringify(subject.customerIds.map(String))}::jsonb))::bigint)
      or lower(subject_email) in ${jsonTexts(subject.emails)}))`;
  return [
    keyed('customers', entities.customer, rowsOf('customers', 'customer_id', 'bigint')),
    keyed('orders', entities.order, rowsOf('orders', 'order_id', 'text')),
    keyed('order_items', entities.order, rowsOf('order_items', 'order_id', 'text')),
    keyed('invoices', entities.order, rowsOf('invoices', 'order_id', 'text')),
    keyed('abandoned_carts', entities.abandoned_cart, rowsOf('abandoned_carts', 'cart_id', 'text')),
    keyed('reviews', entities.review, rowsOf('reviews', 'review_id', 'bigint')),
    ...logNames.map(([entityKind, ids]) => keyed(`log ${entityKind}`, ids, logOf(entityKind))),
    {
      name: 'log requests',
      async next(tx) {
        const items = await execRows<{ item: string }>(
          tx,
          sql`select ${logItem} as item from event_log where position in ${requestPositions} order by position`,
        );
        return { items: items.map((r) => r.item), cursor: null };
      },
    },
    keyed('order_refunds', entities.order, rowsOf('order_refunds', 'order_id', 'text')),
    keyed('abandoned_cart_items', entities.abandoned_cart, rowsOf('abandoned_cart_items', 'cart_id', 'text')),
    webhooksNamingSubject(storeId, strings, logNames, requestPositions),
  ];
}

/** The store's other webhooks with one of the subject's emails as a value (subject-webhooks.ts), a window of the log per part. */
function webhooksNamingSubject(
  storeId: number,
  strings: readonly string[],
  exportedByEntity: readonly [entityKind: string, ids: readonly string[]][],
  requestPositions: SQL,
): Stage {
  const matcher = emailValueMatcher(strings);
  const exported = new Set(exportedByEntity.flatMap(([kind, ids]) => ids.map((id) => `${kind}:${id}`)));
  return {
    name: 'log webhooks naming the subject',
    async next(tx, cursor) {
      const after = Number(cursor ?? 0);
      const upTo = matcher ? await nextWindowEnd(tx, storeId, after, webhookWindow) : null;
      if (upTo === null) return { items: [], cursor: null };
      const rows = await execRows<{ item: string; payload: string; entity_kind: string | null; entity_id: string | null }>(
        tx,
        sql`select ${logItem} as item, payload::text as payload, entity_kind, entity_id from event_log
            where ${webhooksHolding(storeId, strings, after, upTo)} and position not in ${requestPositions}
            order by position`,
      );
      const items = rows
        .filter((r) => !exported.has(`${r.entity_kind}:${r.entity_id}`) && namesSubject(r.payload, matcher))
        .map((r) => r.item);
      return { items, cursor: String(upTo) };
    },
  };
}

/** A column of a table's primary key after `store_id`, with its type. */
type KeyColumn = [column: string, type: 'bigint' | 'text'];

/** A store stage's cursor: the last key exported, as JSON text (one written before keys had several columns: that key's text). */
const keyOfCursor = (cursor: string): string[] => (cursor.startsWith('[') ? (JSON.parse(cursor) as string[]) : [cursor]);

/** One table of the store, in primary key order (its index walks it), a part at a time. */
function storeTable(storeId: number, name: string, key: readonly KeyColumn[]): Stage {
  const columns = sql.raw(key.map(([column]) => column).join(', '));
  const keyText = sql.raw(`jsonb_build_array(${key.map(([column]) => `${column}::text`).join(', ')})::text`);
  return {
    name,
    async next(tx, cursor) {
      const last = cursor === null ? null : keyOfCursor(cursor);
      const after =
        last === null
          ? sql`true`
          : sql`(${columns}) > (${sql.join(
              key.map(([, type], i) => sql`${last[i]}::${sql.raw(type)}`),
              sql`, `,
            )})`;
      const rows = await execRows<{ item: string; k: string }>(
        tx,
        sql`select ${rowItem(name)} as item, ${keyText} as k from ${sql.raw(name)} t where store_id = ${storeId} and ${after}
            order by ${columns} limit ${partSize}`,
      );
      return { items: rows.map((r) => r.item), cursor: rows.length < partSize ? null : rows.at(-1)!.k };
    },
  };
}

/**
 * Every table of the store that holds people or what they bought (the tables a customer's export
 * reads), key by key, and the store's records of person kinds, request webhooks and webhooks
 * with an email in them (a store's erasure erases every email in its webhooks), by position.
 */
function storeStages(storeId: number): Stage[] {
  return [
    storeTable(storeId, 'customers', [['customer_id', 'bigint']]),
    storeTable(storeId, 'orders', [['order_id', 'text']]),
    storeTable(storeId, 'abandoned_carts', [['cart_id', 'text']]),
    storeTable(storeId, 'reviews', [['review_id', 'bigint']]),
    {
      name: 'log',
      async next(tx, cursor) {
        const rows = await execRows<{ item: string; position: string | number }>(
          tx,
          sql`select ${logItem} as item, position from event_log where store_id = ${storeId} and position > ${Number(cursor ?? 0)}
                and (entity_kind in ('customer', 'order', 'abandoned_cart', 'review', 'invoice') or event_type like '%ersonal%ata%'
                  or (kind = 'webhook' and payload::text like '%@%'))
              order by position limit ${partSize}`,
        );
        return { items: rows.map((r) => r.item), cursor: rows.length < partSize ? null : String(rows.at(-1)!.position) };
      },
    },
    storeTable(storeId, 'order_items', [
      ['order_id', 'text'],
      ['item_id', 'bigint'],
    ]),
    storeTable(storeId, 'order_refunds', [
      ['order_id', 'text'],
      ['refund_index', 'bigint'],
    ]),
    storeTable(storeId, 'invoices', [
      ['order_id', 'text'],
      ['invoice_id', 'text'],
    ]),
    storeTable(storeId, 'abandoned_cart_items', [
      ['cart_id', 'text'],
      ['item_id', 'bigint'],
    ]),
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
  // A run begun by a version that did not keep them finds them now.
  if (request.scope === 'customer' && !progress.strings) {
    progress = { ...progress, strings: subjectEmails(await gatherStrings(db, progress.subject!, progress.entities!)) };
  }
  const stages =
    request.scope === 'store'
      ? storeStages(request.storeId)
      : customerStages(request.storeId, progress.subject!, progress.entities!, progress.strings!);
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
