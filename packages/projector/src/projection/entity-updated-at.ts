import { projectionSpecs, type EntitySpec } from './entity-specs.ts';

/*
 * `event_log.entity_updated_at`: a snapshot's update time, computed by the very expression
 * projection uses for `updated_at` (entity-specs.ts), so newer-wins can be decided from the
 * column alone. The appender writes it; a rebuild reads it, falling back to the document on
 * records appended before the column existed.
 */

const timedSpecs = Object.values(projectionSpecs).filter((spec): spec is EntitySpec => spec.shape === 'entity' && spec.timed);
const updatedExpr = (spec: EntitySpec) => spec.columns.find((c) => c.name === 'updated_at')!.expr;
const fields = [...new Set(timedSpecs.flatMap((spec) => [...updatedExpr(spec).matchAll(/r\."([A-Za-z]+)"/g)].map((m) => m[1]!)))];

/**
 * SQL for the update time of the document `doc` of entity kind `kind` (both SQL expressions),
 * null for kinds without one. `trustObject`: `doc` is known to be an object (read once; a
 * non-object raises SQLSTATE 22023) — otherwise anything else gives null.
 */
export function entityUpdatedAtSql(kind: string, doc: string, trustObject = false): string {
  const kinds = timedSpecs.map((spec) => `'${spec.kind}'`).join(', ');
  const source = trustObject ? doc : `case when jsonb_typeof(${doc}) = 'object' then ${doc} else '{}' end`;
  return `(select case ${kind} ${timedSpecs.map((spec) => `when '${spec.kind}' then ${updatedExpr(spec)}`).join(' ')} end
    from jsonb_to_record(case when ${kind} in (${kinds}) then ${source} else '{}' end) as r(${fields.map((f) => `"${f}" jsonb`).join(', ')}))`;
}
