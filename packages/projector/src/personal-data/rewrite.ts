import { execRows, type Executor } from '@mirror/db';
import { keyRowsWhere, renderedKinds, renderStatement } from '@mirror/catalog';
import { sql, type SQL } from 'drizzle-orm';
import type { ChildSpec, EntitySpec } from '../projection/entity-specs.ts';
import { projectionSpecs } from '../projection/entity-specs.ts';
import { erasePayload, identifyingStringsOf, isPersonKind, stringMatcher, type PersonKind, type Pseudonym } from './redact.ts';

/*
 * The writes of an erasure, one batch at a time, each inside the caller's transaction:
 * - log records: the payload is rewritten (and `erased_at` set), the one change the append-only
 *   trigger allows, and only under `mirror.erasure = on` (decision 0007);
 * - table rows: the document is erased the same way and the columns are computed again from it
 *   with projection's own expressions, so a rebuild from the rewritten log gives the same rows.
 *   A rebuild's shadow tables (`mirror_rebuild`) get the same treatment, so a rebuild that was
 *   running cannot bring back what was erased when it swaps its tables in.
 */

/** How a batch erases: `subject` strings for one customer, or each document's own (a store). */
export type EraseRule = {
  pseudonym: Pseudonym;
  /** One customer: every identifying string of theirs, everywhere in their records. */
  matcher?: RegExp | undefined;
  /** A whole store: each document's own identifying strings (and emails in webhook bodies). */
  ownStrings?: boolean;
};

/** An email address anywhere in a text (webhook bodies name people by email). */
export const emailPattern = /[^\s"'<>@(),;:]+@[^\s"'<>@(),;:]+\.[a-z]{2,}/gi;

function matcherFor(rule: EraseRule, text: string, person: boolean): RegExp | undefined {
  if (!rule.ownStrings) return rule.matcher;
  if (person) return stringMatcher(identifyingStringsOf(text));
  return emailPattern;
}

/** The erased payload of a record, or undefined when nothing in it changes. */
export function eraseRecord(rule: EraseRule, record: { kind: string; entity_kind: string | null; payload: string }): string | undefined {
  const person = record.kind === 'snapshot' && isPersonKind(record.entity_kind);
  return erasePayload(record.payload, { person, matcher: matcherFor(rule, record.payload, person), pseudonym: rule.pseudonym });
}

/** Turns erasure on for the rest of the transaction, and waits for the live projector's and a rebuild's batches in flight. */
export async function beginErasure(tx: Executor): Promise<void> {
  await tx.execute(sql`select set_config('mirror.erasure', 'on', true)`);
  // The live projector takes this row first (compare-and-set) and reads documents after it: a
  // batch in flight finishes before these rows are rewritten, and the next one reads them erased.
  await tx.execute(sql`insert into consumer_checkpoints (name, position) values ('projection', 0) on conflict (name) do nothing`);
  await tx.execute(sql`select position from consumer_checkpoints where name = 'projection' for update`);
  // A rebuild's batches do the same with their own checkpoints (`rebuild:<share>`, `rebuild:tail`):
  // one that read a document before this rewrite commits first, so its shadow rows are there to
  // be erased below; the next reads the rewritten log. Without it, a batch could commit an
  // unerased shadow row after this pass, and the swap would bring it back.
  await tx.execute(sql`select position from consumer_checkpoints where name like 'rebuild:%' order by name for update`);
}

type LogRecord = { position: string | number; kind: string; entity_kind: string | null; payload: string };

/** Rewrites the log records `where` selects (a bounded set); returns how many changed. */
export async function rewriteLog(tx: Executor, rule: EraseRule, where: SQL): Promise<number> {
  const records = await execRows<LogRecord>(
    tx,
    sql`select position, kind, entity_kind, payload::text as payload from event_log where ${where}`,
  );
  const changed: { position: string | number; payload: string }[] = [];
  for (const record of records) {
    const payload = eraseRecord(rule, record);
    if (payload !== undefined) changed.push({ position: record.position, payload });
  }
  await writeErasedPayloads(tx, changed);
  return changed.length;
}

/**
 * Writes erased payloads (JSON text) over log records and marks them `erased_at`: the one change
 * the log allows, and only in a transaction with erasure on (beginErasure, or the caller's own
 * `mirror.erasure = on`).
 */
export async function writeErasedPayloads(tx: Executor, changed: readonly { position: string | number; payload: string }[]): Promise<void> {
  if (changed.length === 0) return;
  const rows = changed.map((c) => `{"position":${Number(c.position)},"payload":${c.payload}}`);
  await tx.execute(
    sql`update event_log e set payload = n.payload, erased_at = now()
        from jsonb_to_recordset(${`[${rows.join(',')}]`}::jsonb) as n(position bigint, payload jsonb)
        where e.position = n.position`,
  );
}

/** The records of these entities of one kind in the log (snapshots, tombstones, webhooks). */
export const recordsOf = (storeId: number, entityKind: string, entityIds: readonly string[]) =>
  sql`store_id = ${storeId} and entity_kind = ${entityKind} and entity_id in (select jsonb_array_elements_text(${JSON.stringify(entityIds)}::jsonb))`;

const schemas = async (tx: Executor, table: string): Promise<string[]> => {
  const [row] = await execRows<{ shadow: string | null }>(tx, sql`select to_regclass(${`mirror_rebuild.${table}`})::text as shadow`);
  return row?.shadow ? ['public', 'mirror_rebuild'] : ['public'];
};

/**
 * Erases the rows of these keys in a person kind's table (and an order's items), in `public`
 * and in a rebuild's shadow; returns rows changed per table.
 */
export async function rewriteRows(tx: Executor, rule: EraseRule, kind: PersonKind, storeId: number, keys: readonly string[]) {
  const spec = projectionSpecs[kind] as EntitySpec;
  if (spec.key === 'store') throw new Error(`${kind} is keyed by store`);
  const key = spec.key;
  const counts: Record<string, number> = {};
  if (keys.length === 0) return counts;
  const keyList = sql`(select (jsonb_array_elements_text(${JSON.stringify(keys)}::jsonb))::${sql.raw(key.type)})`;
  for (const schema of await schemas(tx, spec.table)) {
    const table = sql.raw(`"${schema}"."${spec.table}"`);
    const rows = await execRows<{ k: string; doc: string }>(
      tx,
      sql`select ${sql.raw(key.column)}::text as k, doc::text as doc from ${table} where store_id = ${storeId} and ${sql.raw(key.column)} in ${keyList}`,
    );
    const changed: string[] = [];
    const matchers = new Map<string, RegExp | undefined>();
    for (const row of rows) {
      const matcher = matcherFor(rule, row.doc, true);
      matchers.set(row.k, matcher);
      const doc = erasePayload(row.doc, { person: true, matcher, pseudonym: rule.pseudonym });
      if (doc !== undefined) changed.push(`{"k":${JSON.stringify(row.k)},"doc":${doc}}`);
    }
    if (changed.length > 0) {
      await tx.execute(entityUpdate(spec, schema, storeId, `[${changed.join(',')}]`));
      counts[spec.table] = (counts[spec.table] ?? 0) + changed.length;
    }
    let childrenChanged = false;
    for (const child of spec.children) {
      const n = await rewriteChildren(tx, spec, child, schema, storeId, keys, matchers);
      if (n > 0) counts[child.table] = (counts[child.table] ?? 0) + n;
      childrenChanged ||= n > 0;
    }
    // The lists' stored printing of these rows held what was just erased: printed again from the
    // erased rows (decision 0022), here and in a rebuild's shadow alike.
    if ((changed.length > 0 || childrenChanged) && renderedKinds.includes(kind)) {
      await tx.execute(renderStatement(kind, schema, keyRowsWhere(kind, storeId, keys)));
    }
  }
  return counts;
}

/** A child row's document is an element of its parent's: its strings are erased as the parent's were. */
async function rewriteChildren(
  tx: Executor,
  spec: EntitySpec,
  child: ChildSpec,
  schema: string,
  storeId: number,
  keys: readonly string[],
  matchers: Map<string, RegExp | undefined>,
): Promise<number> {
  if (spec.key === 'store') return 0;
  const table = sql.raw(`"${schema}"."${child.table}"`);
  const keyCol = sql.raw(spec.key.column);
  const rows = await execRows<{ k: string; ik: string; doc: string }>(
    tx,
    sql`select ${keyCol}::text as k, ${sql.raw(child.itemKey.column)}::text as ik, doc::text as doc from ${table}
        where store_id = ${storeId} and ${keyCol} in (select jsonb_array_elements_text(${JSON.stringify(keys)}::jsonb))`,
  );
  const changed: string[] = [];
  for (const row of rows) {
    const doc = erasePayload(row.doc, { person: false, matcher: matchers.get(row.k), pseudonym: () => '' });
    if (doc !== undefined) changed.push(`{"k":${JSON.stringify(row.k)},"ik":${JSON.stringify(row.ik)},"doc":${doc}}`);
  }
  if (changed.length === 0) return 0;
  const sets = child.columns.map((c) => `${c.name} = ${c.expr}`).join(', ');
  const fields = child.fields.map((name) => `"${name}" jsonb`).join(', ');
  await tx.execute(
    sql`update ${table} c set doc = n.x, ${sql.raw(sets)}
        from (select k, ik, doc as x from jsonb_to_recordset(${`[${changed.join(',')}]`}::jsonb) as y(k text, ik text, doc jsonb)) n
        ${sql.raw(fields ? `cross join lateral jsonb_to_record(case when jsonb_typeof(n.x) = 'object' then n.x else '{}' end) as xr(${fields})` : '')}
        where c.store_id = ${storeId} and c.${keyCol} = n.k and c.${sql.raw(child.itemKey.column)} = n.ik::bigint`,
  );
  return changed.length;
}

/** Sets the erased documents and recomputes every column from them, as projection would. */
function entityUpdate(spec: EntitySpec, schema: string, storeId: number, param: string): SQL {
  if (spec.key === 'store') throw new Error('keyed by store');
  const fields = spec.fields.map((name) => `"${name}" jsonb`).join(', ');
  // Columns read from other log records keep their value: the document alone cannot give it.
  const sets = spec.columns
    .filter((c) => !c.fromLog)
    .map((c) => `${c.name} = ${c.expr}`)
    .join(', ');
  return sql`update ${sql.raw(`"${schema}"."${spec.table}"`)} t set doc = n.doc, ${sql.raw(sets)}
    from jsonb_to_recordset(${param}::jsonb) as n(k text, doc jsonb)
    cross join lateral jsonb_to_record(case when jsonb_typeof(n.doc) = 'object' then n.doc else '{}' end) as r(${sql.raw(fields)})
    where t.store_id = ${storeId} and t.${sql.raw(spec.key.column)} = n.k::${sql.raw(spec.key.type)}`;
}
