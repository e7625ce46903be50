import { execRows, normalizeEmail, type Executor } from '@mirror/db';
import { sql } from 'drizzle-orm';
import { identifyingStringsOf, personKinds } from './redact.ts';
import { recordsOf } from './rewrite.ts';

/*
 * Who a customer request is about, and where the mirror holds their data. Ecwid ties a person's
 * data together loosely: a guest order or an abandoned cart carries only an email, and an
 * order's customerId may differ from the customer record's id. So the subject is the closure of
 * the customer id and email given: every email the mirror knows for those customer ids, and
 * every customer id the mirror knows for those emails (docs/personal-data.md).
 */

export type Subject = { storeId: number; customerIds: number[]; emails: string[] };

/** The keys of the subject's entities, per kind (deleted rows included: they hold data too). */
export type SubjectEntities = {
  customer: string[];
  /** Public order ids. */
  order: string[];
  /** Internal order ids: webhooks and some tombstones name orders by them. */
  orderInternal: string[];
  abandoned_cart: string[];
  review: string[];
};

const bigints = (values: readonly number[]) =>
  sql`(select (jsonb_array_elements_text(${JSON.stringify(values.map(String))}::jsonb))::bigint)`;
const texts = (values: readonly string[]) => sql`(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`;

/** The subject's closure of ids and emails (a few rounds: each can only add). */
export async function resolveSubject(db: Executor, storeId: number, given: { customerId?: number; email?: string }): Promise<Subject> {
  const ids = new Set<number>(given.customerId !== undefined && given.customerId > 0 ? [given.customerId] : []);
  const emails = new Set<string>(given.email ? [normalizeEmail(given.email)] : []);
  for (let round = 0; round < 4; round++) {
    const before = ids.size + emails.size;
    const idList = [...ids];
    const emailList = [...emails];
    const rows = await execRows<{ customer_id: string | number | null; email: string | null }>(
      db,
      sql`select customer_id, lower(email) as email from customers
            where store_id = ${storeId} and (customer_id in ${bigints(idList)} or lower(email) in ${texts(emailList)})
          union
          select customer_id, lower(email) from orders
            where store_id = ${storeId} and (customer_id in ${bigints(idList)} or lower(email) in ${texts(emailList)})
          union
          select customer_id, lower(email) from abandoned_carts
            where store_id = ${storeId} and (customer_id in ${bigints(idList)} or lower(email) in ${texts(emailList)})`,
    );
    for (const row of rows) {
      const id = row.customer_id === null ? 0 : Number(row.customer_id);
      // A guest's order names customer 0: nobody. Its email still belongs to the subject.
      if (id > 0 && (ids.has(id) || (row.email !== null && emails.has(row.email)))) ids.add(id);
      if (row.email && row.email.includes('@') && ((id > 0 && ids.has(id)) || emails.has(row.email))) emails.add(row.email);
    }
    if (ids.size + emails.size === before) break;
  }
  return { storeId, customerIds: [...ids].sort((a, b) => a - b), emails: [...emails].sort() };
}

/** Every entity of the subject the tables know, live or deleted. */
export async function subjectEntities(db: Executor, subject: Subject): Promise<SubjectEntities> {
  const { storeId } = subject;
  const ids = bigints(subject.customerIds);
  const emails = texts(subject.emails);
  const keys = async (query: ReturnType<typeof sql>) => (await execRows<{ k: string }>(db, query)).map((r) => r.k);
  const orders = await execRows<{ order_id: string; internal_id: string | number | null }>(
    db,
    sql`select order_id, internal_id from orders where store_id = ${storeId} and (customer_id in ${ids} or lower(email) in ${emails})
        order by order_id`,
  );
  return {
    customer: await keys(
      sql`select customer_id::text as k from customers where store_id = ${storeId} and (customer_id in ${ids} or lower(email) in ${emails}) order by 1`,
    ),
    order: orders.map((o) => o.order_id),
    orderInternal: orders.filter((o) => o.internal_id !== null).map((o) => String(o.internal_id)),
    abandoned_cart: await keys(
      sql`select cart_id as k from abandoned_carts where store_id = ${storeId} and (customer_id in ${ids} or lower(email) in ${emails}) order by 1`,
    ),
    review: await keys(
      sql`select review_id::text as k from reviews where store_id = ${storeId}
            and (customer_id in ${ids} or lower(doc -> 'reviewerInfo' ->> 'email') in ${emails}) order by 1`,
    ),
  };
}

/**
 * Every identifying string of the subject: the emails given, and those in every snapshot of
 * their entities in the log. An erasure replaces them wherever they occur in the subject's
 * records; an erasure and an export both look for them in the store's webhooks (subject-webhooks.ts).
 */
export async function gatherStrings(tx: Executor, subject: Subject, entities: SubjectEntities): Promise<string[]> {
  const strings = new Set<string>(subject.emails);
  for (const kind of personKinds) {
    const keys = entities[kind];
    for (let i = 0; i < keys.length; i += 200) {
      const chunk = keys.slice(i, i + 200);
      const docs = await execRows<{ payload: string }>(
        tx,
        sql`select payload::text as payload from event_log where ${recordsOf(subject.storeId, kind, chunk)} and kind = 'snapshot'`,
      );
      for (const { payload } of docs) for (const s of identifyingStringsOf(payload)) strings.add(s);
    }
  }
  return [...strings];
}
