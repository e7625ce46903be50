import { sql, type SQL } from 'drizzle-orm';
import type { Kind } from '@mirror/catalog';
import type { ChildSpec, EntitySpec, ProjectionSpec, SetSpec } from './entity-specs.ts';
import { entityUpdatedAtSql } from './entity-updated-at.ts';

/*
 * One SQL statement per entity kind and record kind present in a batch. Each reads its records
 * straight from event_log by position range (`{{from}}`, `{{to}}` are bound as parameters) and
 * writes the tables itself, so documents never travel to Node. Statement texts are fixed per
 * (schema, kind, variant), so postgres.js prepares each once per connection.
 */

/** The statement text with each `{{name}}` bound as a parameter (so the text, and its prepared plan, stays the same). */
export function bindStatement(text: string, values: Record<string, number>): SQL {
  const parts = text.split(/\{\{([a-z]+)\}\}/);
  return sql.join(
    parts.map((part, i) => {
      if (i % 2 === 0) return sql.raw(part);
      const value = values[part];
      if (value === undefined) throw new Error(`no value for {{${part}}}`);
      return sql`${value}`;
    }),
    sql.raw(''),
  );
}

export type StatementVariant = {
  /** The batch holds tombstones of this kind: snapshots after one must be skipped. */
  withTombstones: boolean;
  /**
   * Reads each document's fields without first checking it is an object. Reading a document
   * (TOAST fetch and decompression) is the dominant cost, and the check is a second read; a
   * non-object makes this variant fail with SQLSTATE 22023, and the caller reruns the batch's
   * statement with the check.
   */
  trustObjects?: boolean;
  /** Only this share of the kind's keys (a rebuild's connections split the keys by hash). */
  share?: Share;
  /** See Bound. */
  bound?: Bound;
};

/**
 * The most records of one kind the batch's range can hold (the batch's limit: the summary ends
 * the range at the limit-th record of the batch's kinds). Given, the statement reads its records
 * through `limit <bound>`: the same rows, but the planner's estimate of them no longer grows with
 * the log. The live projector keeps one generic plan per statement (ProjectBatchOptions
 * reusePlans), planned without the range's values: Postgres then guesses a share of the whole log
 * (2,408 rows at 1M records, ten times that at 10M), and past some size of the log a plan for
 * that many rows hashes whole entity tables instead of probing their keys.
 */
export type Bound = number;

/**
 * Share `index` of `count`: the keys whose hash is `index` modulo `count`. With `worklist` (a
 * table written by worklistStatement), the records are read from that list's rows not marked
 * `bulk` (the share's records still to apply in log order), instead of filtering every record
 * of the range.
 */
export type Share = { index: number; count: number; worklist?: string };

/** The share a record of this kind belongs to, by its key (never by position, so one key's records stay in one share). */
export function shareOf(spec: ProjectionSpec, alias: string, count: number): string {
  const hash =
    spec.key === 'store'
      ? `hashint8(${alias}.store_id)`
      : spec.key.type === 'bigint'
        ? `hashint8(${keyOf(spec, alias)})`
        : `hashtext(${alias}.entity_id)`;
  return `((${hash} & 2147483647) % ${count})`;
}

const range = (alias: string) => `${alias}.position > {{from}} and ${alias}.position <= {{to}}`;

/** The batch's records of this kind and record kind (alias `b`): a from list and its conditions. */
function records(
  spec: ProjectionSpec,
  kind: 'snapshot' | 'tombstone',
  share: Share | undefined,
  bound: Bound | undefined,
): { from: string; where: string } {
  if (share?.worklist) {
    return {
      // The same range on b, so the join reads the log's range, not the whole log (see bulkSnapshotStatement).
      from: `${share.worklist} w join event_log b on b.position = w.position and ${range('b')}`,
      where: `w.share = ${share.index} and not w.bulk and w.entity_kind = '${spec.kind}' and w.kind = '${kind}' and ${range('w')} and b.kind = '${kind}'`,
    };
  }
  const inShare = share && share.count > 1 ? `and ${shareOf(spec, 'b', share.count)} = ${share.index}` : '';
  return bounded(`${range('b')} and b.kind = '${kind}' and b.entity_kind = '${spec.kind}' ${inShare}`, bound);
}

/** The log's records matching `where` as `b`, read through `limit <bound>` when given (see Bound). */
function bounded(where: string, bound: Bound | undefined): { from: string; where: string } {
  if (bound === undefined) return { from: 'event_log b', where };
  if (!Number.isSafeInteger(bound) || bound < 1) throw new Error(`invalid bound: ${bound}`);
  return { from: `(select * from event_log b where ${where} order by b.position limit ${bound}) b`, where: 'true' };
}

/**
 * A snapshot of a key after that key's tombstone in the batch applies only if it was fetched
 * after the deletion was learned: a document fetched from Ecwid beats a tombstone (Ecwid served
 * the entity again, or the delete was never real), a fetch older than the tombstone that was
 * appended after it does not (docs/decisions/0004-webhooks-are-hints.md).
 */
function notTombstoned(spec: ProjectionSpec, variant: StatementVariant): string {
  if (!variant.withTombstones) return '';
  const sameKey = spec.key === 'store' ? '' : 'and t.entity_id = b.entity_id';
  const earlier = `select 1 from event_log t where t.position > {{from}} and t.position < b.position
      and t.kind = 'tombstone' and t.entity_kind = '${spec.kind}' and t.store_id = b.store_id
      and coalesce(t.fetched_at, t.received_at) >= coalesce(b.fetched_at, b.received_at)`;
  // (Order tombstones naming only the internal id are checked by the order statement itself.)
  return `and not exists (${earlier} ${sameKey})`;
}

function keyOf(spec: ProjectionSpec, alias: string): string {
  if (spec.key === 'store') return `${alias}.store_id`;
  return spec.key.type === 'bigint'
    ? `(case when ${alias}.entity_id ~ '^-?[0-9]{1,18}$' then ${alias}.entity_id::bigint end)`
    : `${alias}.entity_id`;
}

const keyColumns = (spec: ProjectionSpec) => (spec.key === 'store' ? ['store_id'] : ['store_id', spec.key.column]);
const keyColumn = (spec: ProjectionSpec) => (spec.key === 'store' ? 'store_id' : spec.key.column);
const q = (schema: string, table: string) => `"${schema}"."${table}"`;

export function snapshotStatement(spec: ProjectionSpec, schema: string, variant: StatementVariant): string {
  return spec.shape === 'entity' ? entitySnapshot(spec, schema, variant) : setSnapshot(spec, schema, variant);
}

/**
 * For a rebuild from an empty shadow up to `{{to}}`: lists in `table` (share, kind, entity_kind,
 * position, bulk, first_snapshot: the position of the key's first snapshot) the share's snapshot and tombstone records of `kinds` that the build must
 * apply, so each statement reads just its own records. Left out are snapshots of the
 * `skippable` kinds (entity kinds whose row is just the newest snapshot) that another snapshot
 * of the same key supersedes by newer-wins (update time, then position): the build never reads
 * their documents. The newest snapshot of such a key is marked `bulk`: it is all its key needs,
 * so it can be inserted without comparing or ordering (bulkSnapshotStatement). Keys with a
 * tombstone up to `{{to}}` keep all their records, unmarked (the batch statements decide).
 * Kinds in `unsplit` belong to share 0 whole. Reads `entity_updated_at`, and a document only
 * where that is null. Returns how many records it considered and how many it listed, bulk or not.
 */
export function worklistStatement(
  kinds: readonly ProjectionSpec[],
  skippable: readonly Kind[],
  unsplit: readonly Kind[],
  table: string,
  share: Share,
): string {
  // An empty list is `in (null)`: null, never true, which is right in a `when` but not as a
  // column's value (skippable, below, must be true or false).
  const list = (specs: readonly ProjectionSpec[]) => specs.map((spec) => `'${spec.kind}'`).join(', ') || 'null';
  const when = (expr: (spec: ProjectionSpec) => string) => kinds.map((spec) => `when '${spec.kind}' then ${expr(spec)}`).join(' ');
  const shareExpr = `(case b.entity_kind ${when((spec) => (unsplit.includes(spec.kind) ? '0' : shareOf(spec, 'b', share.count)))} end)`;
  const skip = kinds.filter((spec) => skippable.includes(spec.kind));
  // The update time from entity_updated_at; the document is read only where that is null (a
  // record appended before the column existed, or a document without an update time).
  // Entities without an update time: the later fetch wins (fetched_at), as in projection.
  const timedSkip = skip.filter((spec) => 'timed' in spec && spec.timed);
  const untimedSkip = skip.filter((spec) => !('timed' in spec && spec.timed));
  const updated = `case when b.kind <> 'snapshot' then null
    when b.entity_kind in (${list(timedSkip)}) then coalesce(b.entity_updated_at, ${entityUpdatedAtSql('b.entity_kind', 'b.payload', true)})
    when b.entity_kind in (${list(untimedSkip)}) then coalesce(b.fetched_at, b.received_at) end`;
  return `
with ranked as (
  select s.position, s.kind, s.entity_kind, s.k, ${skip.length > 0 ? `s.entity_kind in (${list(skip)})` : 'false'} as skippable,
    count(*) filter (where s.kind = 'tombstone') over w as tombstones,
    min(s.position) filter (where s.kind = 'snapshot') over w as first_snapshot,
    row_number() over (w order by s.updated desc nulls last, s.position desc) as n
  from (
    select b.position, b.kind, b.entity_kind, b.store_id,
      (case b.entity_kind ${when((spec) => `${keyOf(spec, 'b')}::text`)} end) as k,
      ${updated} as updated
    from event_log b
    where b.position <= {{to}} and b.kind in ('snapshot', 'tombstone') and b.entity_kind in (${list(kinds)})
      and ${shareExpr} = ${share.index}
  ) s
  window w as (partition by s.entity_kind, s.store_id, s.k)
),
listed as (
  insert into ${table} (share, kind, entity_kind, position, bulk, first_snapshot)
  select ${share.index}, kind, entity_kind, position, (kind = 'snapshot' and skippable and k is not null and tombstones = 0), first_snapshot
  from ranked
  where not (kind = 'snapshot' and skippable and k is not null and tombstones = 0 and n > 1)
  returning bulk
)
select (select count(*) from ranked)::int as considered,
  (select count(*) filter (where bulk) from listed)::int as bulk,
  (select count(*) filter (where not bulk) from listed)::int as regular`;
}

/**
 * With a share, order tombstones naming only the internal id are left out: they match an order
 * by a key other than the share's, so a rebuild splitting orders must have none in its range.
 */
export function tombstoneStatements(spec: ProjectionSpec, schema: string, share?: Share, bound?: Bound): string[] {
  if (spec.shape === 'set') return [setTombstone(spec, schema, share, bound)];
  const statements = [entityTombstone(spec, schema, share, bound)];
  if (spec.kind === 'order' && !(share && share.count > 1)) statements.push(orderInternalTombstone(spec, schema, bound));
  return statements;
}

function entitySnapshot(spec: EntitySpec, schema: string, variant: StatementVariant): string {
  const table = q(schema, spec.table);
  const cols = spec.columns;
  const keyCol = keyColumn(spec);
  const fields = spec.fields.map((name) => `"${name}" jsonb`).join(', ');
  // Without an update time from Ecwid, the later fetch is the newer state: a backfill page or a
  // parked retry that fetched before a live fetch but appended after it must not win.
  const newer = spec.timed
    ? `(coalesce(excluded.updated_at, '-infinity'), excluded.source_position) > (coalesce(t.updated_at, '-infinity'), t.source_position)`
    : `(excluded.synced_at, excluded.source_position) > (t.synced_at, t.source_position)`;
  const insertCols = [...keyColumns(spec), ...cols.map((c) => c.name), 'doc', 'deleted_at', 'source_position', 'synced_at'];
  const selectCols = [
    ...(spec.key === 'store' ? ['store_id'] : ['store_id', 'k']),
    ...cols.map((c) => `c_${c.name}`),
    'doc',
    'null::timestamptz',
    'position',
    'fetched_at',
  ];
  // An order deleted by internal id (`internal:<id>` tombstone) earlier in the log is not
  // applied again, whether or not a row held its public id when the tombstone was projected,
  // unless it was fetched after that deletion was learned (a fetched document beats a tombstone).
  // Checked against the log, whose index and statistics make this a cheap probe per order.
  const notDeletedByInternalId =
    spec.kind === 'order'
      ? `where p.c_internal_id is null or not exists (select 1 from event_log t where t.store_id = p.store_id
           and t.entity_kind = 'order' and t.entity_id = 'internal:' || p.c_internal_id and t.kind = 'tombstone' and t.position < p.position
           and coalesce(t.fetched_at, t.received_at) >= p.fetched_at)`
      : '';
  const children = [
    ...spec.children.map((child, i) => childStatements(spec, child, i, schema)),
    // Only on the live tables: a rebuild's shadow schema may not hold the tables it writes.
    ...(spec.afterApply && schema === 'public' ? [spec.afterApply(schema)] : []),
  ].join(',\n');
  const source = records(spec, 'snapshot', variant.share, variant.bound);
  return `
with cand as (
  select b.store_id, ${keyOf(spec, 'b')} as k, b.position, coalesce(b.fetched_at, b.received_at) as fetched_at, b.payload as doc,
    ${cols.map((c) => `${c.expr} as c_${c.name}`).join(',\n    ')}
    ${spec.children.map((child, i) => `, ${child.source} as src_${i}`).join('')}
  from ${source.from}
  cross join lateral jsonb_to_record(${variant.trustObjects ? 'b.payload' : `case when jsonb_typeof(b.payload) = 'object' then b.payload else '{}' end`}) as r(${fields})
  where ${source.where} ${notTombstoned(spec, variant)}
),
pick as (
  select distinct on (store_id, k) * from cand where k is not null
  order by store_id, k, ${spec.timed ? 'c_updated_at desc nulls last, ' : 'fetched_at desc, '}position desc
),
applied as (
  insert into ${table} as t (${insertCols.join(', ')})
  select ${selectCols.join(', ')} from pick p ${notDeletedByInternalId}
  on conflict (${keyColumns(spec).join(', ')}) do update set
    ${cols.map((c) => `${c.name} = ${c.conflict ?? `excluded.${c.name}`}`).join(', ')},
    doc = excluded.doc, deleted_at = null, source_position = excluded.source_position, synced_at = excluded.synced_at
  -- A live row takes a newer state; a deleted one comes back only for a document fetched after
  -- its deletion was learned (a fetched document beats a tombstone, 0004; a tie goes to the deletion).
  where (t.deleted_at is null and ${newer}) or (t.deleted_at is not null and excluded.synced_at > t.deleted_at)
  returning t.store_id, t.${keyCol} as k
)${children ? ',\n' + children : ''}
select count(*)::int as n from applied`;
}

/**
 * Rows of one child table for the parents just applied: upsert the new set, delete the rest. An
 * item id repeated within one document keeps its first occurrence (as the bulk load does).
 */
function childStatements(spec: EntitySpec, child: ChildSpec, i: number, schema: string): string {
  const table = q(schema, child.table);
  const keyCol = keyColumn(spec);
  const parentKey = spec.key === 'store' ? [] : [keyCol];
  const cols = child.columns;
  return `
src_${i} as (
  select p.store_id, p.k, p.position, p.fetched_at, x, ord, ${child.itemKey.expr} as ik
    ${cols.map((c) => `, ${c.expr} as c_${c.name}`).join('')}
  from pick p join applied a on a.store_id = p.store_id and a.k = p.k
  cross join lateral jsonb_array_elements(p.src_${i}) with ordinality e(x, ord)${itemRecord(child)}
),
rows_${i} as (
  select distinct on (store_id, k, ik) store_id, k, ik, x, position, fetched_at${cols.map((c) => `, c_${c.name}`).join('')}
  from src_${i} where ik is not null order by store_id, k, ik, ord
),
del_${i} as (
  delete from ${table} c using applied a
  where c.store_id = a.store_id and c.${keyCol} = a.k
    and not exists (select 1 from rows_${i} r where r.store_id = c.store_id and r.k = c.${keyCol} and r.ik = c.${child.itemKey.column})
),
ins_${i} as (
  insert into ${table} (store_id, ${[...parentKey, child.itemKey.column, ...cols.map((c) => c.name)].join(', ')}, doc, deleted_at, source_position, synced_at)
  select store_id, ${[...(parentKey.length ? ['k'] : []), 'ik', ...cols.map((c) => `c_${c.name}`)].join(', ')}, x, null, position, fetched_at from rows_${i}
  on conflict (store_id, ${[...parentKey, child.itemKey.column].join(', ')}) do update set
    ${[...cols.map((c) => `${c.name} = excluded.${c.name}`), 'doc = excluded.doc', 'deleted_at = null', 'source_position = excluded.source_position', 'synced_at = excluded.synced_at'].join(', ')}
)`;
}

/**
 * A rebuild's bulk load of one entity kind into empty shadow tables: inserts the next
 * `{{limit}}` records after position `{{from}}` of the share's worklist rows marked `bulk`, each
 * the only record its key needs (the newest snapshot of a key without tombstones; see
 * worklistStatement). So there is nothing to compare against or replace: plain inserts, no
 * conflict handling. An item id repeated within one document is the only possible clash; the
 * first occurrence wins, as in the batch statements, by `distinct on` over the item id in array
 * order, per parent record: where `on conflict do nothing` probed the index before every insert
 * (measured: the rebuild's Postgres CPU 3–10% lower).
 * Returns the rows read (`n`) and the last position (`last`).
 */
export function bulkSnapshotStatement(
  spec: EntitySpec,
  schema: string,
  worklist: string,
  shareIndex: number,
  trustObjects: boolean,
): string {
  if (spec.kind === 'store') throw new Error('stores are never bulk-loaded: their row combines all their records');
  const cols = spec.columns;
  const fields = spec.fields.map((name) => `"${name}" jsonb`).join(', ');
  const byStore = spec.key === 'store';
  const children = spec.children.map((child, i) => {
    const keyCols = [...(byStore ? [] : [keyColumn(spec)]), child.itemKey.column];
    const clash = child.fields.find((name) => ['x', 'ord', 'ik'].includes(name));
    if (clash) throw new Error(`${child.table}: an element field may not be named ${clash}`);
    // Each parent's elements are deduplicated on their own (a sort of a few rows, per parent),
    // not in one sort of the chunk's every element with its document: that sort copied each
    // element's jsonb once more, tens of megabytes per chunk. The subquery is named xr and
    // exposes x, ord and the element's fields, so the column expressions read as they do in
    // the batch statements; `p` is the parent (its computed columns as p.c_<column>).
    return `
child_${i} as (
  insert into ${q(schema, child.table)} (store_id, ${[...keyCols, ...child.columns.map((c) => c.name)].join(', ')}, doc, deleted_at, source_position, synced_at)
  select p.store_id, ${byStore ? '' : 'p.k, '}xr.ik${child.columns.map((c) => `, ${c.expr}`).join('')}, xr.x, null, p.position, p.fetched_at
  from src p cross join lateral (
    select distinct on (ik) e.x, e.ord, ik${child.fields.map((name) => `, xr."${name}"`).join('')}
    from jsonb_array_elements(p.src_${i}) with ordinality e(x, ord)${itemRecord(child)}
    cross join lateral (select ${child.itemKey.expr} as ik) i
    where ik is not null
    order by ik, e.ord
  ) xr
)`;
  });
  return `
with src as materialized (
  select b.store_id, ${keyOf(spec, 'b')} as k, b.position, coalesce(b.fetched_at, b.received_at) as fetched_at, b.payload as doc,
    ${cols.map((c) => `${c.bulk ? c.bulk(schema) : c.expr} as c_${c.name}`).join(',\n    ')}
    ${spec.children.map((child, i) => `, ${child.source} as src_${i}`).join('')}
  from (
    select w.position, w.first_snapshot from ${worklist} w
    where w.share = ${shareIndex} and w.bulk and w.entity_kind = '${spec.kind}' and w.kind = 'snapshot' and w.position > {{from}}
    order by w.position limit {{limit}}
  ) w
  join event_log b on b.position = w.position
  cross join lateral jsonb_to_record(${trustObjects ? 'b.payload' : `case when jsonb_typeof(b.payload) = 'object' then b.payload else '{}' end`}) as r(${fields})
  ${spec.bulkJoin?.(schema) ?? ''}
),
applied as (
  insert into ${q(schema, spec.table)} (${[...keyColumns(spec), ...cols.map((c) => c.name), 'doc', 'deleted_at', 'source_position', 'synced_at'].join(', ')})
  select store_id, ${byStore ? '' : 'k, '}${cols.map((c) => `c_${c.name}`).join(', ')}, doc, null, position, fetched_at from src
)${children.length ? ',' + children.join(',') : ''}
select count(*)::int as n, max(position) as last from src`;
}

/**
 * The element's fields as `xr`, extracted once per element by jsonb_to_record (as the parent's
 * are as `r`): the defensive casts repeat their argument up to a dozen times, which as `x->'id'`
 * was a lookup in the element each time. A non-object element has no fields (all null).
 */
function itemRecord(child: ChildSpec): string {
  if (child.fields.length === 0) return '';
  return `\n  cross join lateral jsonb_to_record(case when jsonb_typeof(x) = 'object' then x else '{}' end) as xr(${child.fields.map((name) => `"${name}" jsonb`).join(', ')})`;
}

/** The first tombstone of each key in the batch. */
function firstTombstones(spec: ProjectionSpec, extraWhere = '', share?: Share, bound?: Bound): string {
  return `
tomb as (
  select distinct on (store_id, k) * from (
    select b.store_id, ${keyOf(spec, 'b')} as k, b.entity_id, b.position, coalesce(b.fetched_at, b.received_at) as at, b.payload
    from ${records(spec, 'tombstone', share, bound).from}
    where ${records(spec, 'tombstone', share, bound).where} ${extraWhere}
  ) s where k is not null
  order by store_id, k, position
)`;
}

function entityTombstone(spec: EntitySpec, schema: string, share?: Share, bound?: Bound): string {
  const table = q(schema, spec.table);
  const keyCol = keyColumn(spec);
  const extra = spec.tombstoneColumns ?? [];
  const insertCols = [...keyColumns(spec), ...extra.map((c) => c.name), 'doc', 'deleted_at', 'source_position', 'synced_at'];
  const selectCols = [
    ...(spec.key === 'store' ? ['store_id'] : ['store_id', 'k']),
    ...extra.map((c) => c.expr),
    `'{}'::jsonb`,
    'at',
    'position',
    'at',
  ];
  const children = spec.children.map(
    (child, i) => `
child_${i} as (
  update ${q(schema, child.table)} c set deleted_at = a.deleted_at, source_position = a.source_position, synced_at = a.synced_at
  from applied a where c.store_id = a.store_id and c.${keyCol} = a.k and c.deleted_at is null
)`,
  );
  return `
with ${firstTombstones(spec, spec.kind === 'order' ? `and b.entity_id not like 'internal:%'` : '', share, bound)},
applied as (
  insert into ${table} as t (${insertCols.join(', ')})
  select ${selectCols.join(', ')} from tomb b
  on conflict (${keyColumns(spec).join(', ')}) do update set
    deleted_at = excluded.deleted_at, source_position = excluded.source_position, synced_at = excluded.synced_at
  -- Only a deletion learned when or after the row's document was fetched ends it (0004).
  where t.deleted_at is null and excluded.deleted_at >= t.synced_at
  returning t.store_id, t.${keyCol} as k, t.deleted_at, t.source_position, t.synced_at
)${children.length ? ',' + children.join(',') : ''}
select count(*)::int as n from applied`;
}

/**
 * Order tombstones that know only the internal id: delete the order with that internal id, or,
 * when none is known yet, insert a deleted placeholder keyed `internal:<id>` so a late snapshot
 * of that order is never applied.
 */
function orderInternalTombstone(spec: EntitySpec, schema: string, bound?: Bound): string {
  const table = q(schema, spec.table);
  // Columns read from the log (the store's currency), over the tombstone as `b`.
  const fromLog = (spec.tombstoneColumns ?? []).filter((c) => c.fromLog);
  const source = bounded(`${range('b')} and b.kind = 'tombstone' and b.entity_kind = 'order' and b.entity_id like 'internal:%'`, bound);
  return `
with tomb as (
  select distinct on (store_id, entity_id) store_id, entity_id,
    (case when substr(entity_id, 10) ~ '^[0-9]{1,18}$' then substr(entity_id, 10)::bigint end) as internal_id,
    position, coalesce(fetched_at, received_at) as at
  from ${source.from}
  where ${source.where}
  order by store_id, entity_id, position
),
hit as (
  update ${table} o set deleted_at = t.at, source_position = t.position, synced_at = t.at
  from tomb t where o.store_id = t.store_id and o.internal_id = t.internal_id and o.deleted_at is null
    and t.at >= o.synced_at
  returning o.store_id, o.order_id, o.deleted_at, o.source_position, o.synced_at
),
${spec.children
  .map(
    (child, i) => `child_${i} as (
  update ${q(schema, child.table)} c set deleted_at = h.deleted_at, source_position = h.source_position, synced_at = h.synced_at
  from hit h where c.store_id = h.store_id and c.order_id = h.order_id and c.deleted_at is null
),`,
  )
  .join('\n')}
placeholder as (
  insert into ${table} (store_id, order_id, internal_id, ${fromLog.map((c) => `${c.name}, `).join('')}doc, deleted_at, source_position, synced_at)
  select store_id, entity_id, internal_id, ${fromLog.map((c) => `${c.expr}, `).join('')}'{}'::jsonb, at, position, at from tomb b
  where internal_id is not null
    and not exists (select 1 from ${table} o where o.store_id = b.store_id and o.internal_id = b.internal_id)
  on conflict (store_id, order_id) do nothing
  returning 1
)
select (select count(*) from hit)::int + (select count(*) from placeholder)::int as n`;
}

function setSnapshot(spec: SetSpec, schema: string, variant: StatementVariant): string {
  const table = q(schema, spec.table);
  const sameSet = (alias: string, other: string) =>
    spec.key === 'store'
      ? `${alias}.store_id = ${other}.store_id`
      : `${alias}.store_id = ${other}.store_id and ${alias}.${spec.key.column} = ${other}.k`;
  const cols = spec.columns;
  const parentKey = spec.key === 'store' ? [] : [spec.key.column];
  return `
with pick as (
  select distinct on (store_id, k) * from (
    select b.store_id, ${keyOf(spec, 'b')} as k, b.position, coalesce(b.fetched_at, b.received_at) as fetched_at, b.payload
    from ${records(spec, 'snapshot', variant.share, variant.bound).from}
    where ${records(spec, 'snapshot', variant.share, variant.bound).where} ${notTombstoned(spec, variant)}
  ) s where k is not null
  order by store_id, k, position desc
),
-- A set is replaced only by a later snapshot; once deleted, only by one fetched after the
-- deletion was learned (0004).
eligible as (
  select p.* from pick p
  where not exists (select 1 from ${table} c where ${sameSet('c', 'p')}
    and ((c.deleted_at is null and c.source_position >= p.position)
      or (c.deleted_at is not null and c.deleted_at >= p.fetched_at)))
),
src as (
  select e.store_id, e.k, e.position, e.fetched_at, x, ${spec.itemKey.expr} as ik
  from eligible e cross join lateral jsonb_array_elements(${spec.elements.replaceAll('b.payload', 'e.payload')}) x
),
rows as (
  select distinct on (store_id, k, ik) store_id, k, ik, x, position, fetched_at
    ${cols.map((c) => `, ${c.expr} as c_${c.name}`).join('')}
  from src where ik is not null order by store_id, k, ik
),
del as (
  delete from ${table} c using eligible e
  where ${sameSet('c', 'e')}
    and not exists (select 1 from rows r where ${sameSet('c', 'r')} and r.ik = c.${spec.itemKey.column})
),
ins as (
  insert into ${table} (store_id, ${[...parentKey, spec.itemKey.column, ...cols.map((c) => c.name)].join(', ')}, doc, deleted_at, source_position, synced_at)
  select store_id, ${[...(parentKey.length ? ['k'] : []), 'ik', ...cols.map((c) => `c_${c.name}`)].join(', ')}, x, null, position, fetched_at from rows
  on conflict (store_id, ${[...parentKey, spec.itemKey.column].join(', ')}) do update set
    ${[...cols.map((c) => `${c.name} = excluded.${c.name}`), 'doc = excluded.doc', 'deleted_at = null', 'source_position = excluded.source_position', 'synced_at = excluded.synced_at'].join(', ')}
)
select count(*)::int as n from eligible`;
}

function setTombstone(spec: SetSpec, schema: string, share?: Share, bound?: Bound): string {
  const table = q(schema, spec.table);
  const sameSet = spec.key === 'store' ? 'c.store_id = b.store_id' : `c.store_id = b.store_id and c.${spec.key.column} = b.k`;
  return `
with ${firstTombstones(spec, '', share, bound)},
upd as (
  update ${table} c set deleted_at = b.at, source_position = b.position, synced_at = b.at
  from tomb b where ${sameSet} and c.deleted_at is null and b.at >= c.synced_at
  returning 1
)
select count(*)::int as n from upd`;
}
