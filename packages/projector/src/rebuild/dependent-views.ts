import { sql } from 'drizzle-orm';
import { execRows, type Executor } from '@mirror/db';

/** A view (or materialized view) that reads one of the tables being swapped, directly or not. */
export type DependentView = {
  schema: string;
  name: string;
  kind: 'v' | 'm';
  depth: number;
  definition: string;
  options: string[] | null;
  owner: string;
  comment: string | null;
  grants: { grantee: string; privilege: string; grantable: boolean }[];
  indexes: string[];
};

/**
 * Views depending on `tables` (schema-qualified), through any chain of views. Captured before
 * the swap, because a view follows its table by oid: moved aside with the old table, it must be
 * recreated over the new one. `depth` orders them (a view before the views reading it).
 */
export async function captureDependentViews(tx: Executor, tables: readonly string[]): Promise<DependentView[]> {
  if (tables.length === 0) return [];
  const oids = sql.raw(`array[${tables.map((t) => `'${t}'::regclass::oid`).join(', ')}]`);
  // json_agg gives null, not [], for a view without grants or indexes.
  const rows = await execRows<
    Omit<DependentView, 'grants' | 'indexes'> & { grants: DependentView['grants'] | null; indexes: string[] | null }
  >(
    tx,
    sql`with recursive deps(oid, depth) as (
          select distinct r.ev_class, 1
          from pg_depend d join pg_rewrite r on r.oid = d.objid
          where d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass
            and d.refobjid = any(${oids}) and r.ev_class <> d.refobjid
          union
          select r.ev_class, deps.depth + 1
          from deps join pg_depend d on d.refobjid = deps.oid
            and d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass
          join pg_rewrite r on r.oid = d.objid
          where r.ev_class <> deps.oid and deps.depth < 50
        )
        select n.nspname as schema, c.relname as name, c.relkind as kind, max(deps.depth)::int as depth,
               pg_get_viewdef(c.oid) as definition, c.reloptions::text[] as options,
               pg_get_userbyid(c.relowner) as owner, obj_description(c.oid, 'pg_class') as comment,
               (select json_agg(json_build_object(
                  'grantee', case when a.grantee = 0 then 'public' else quote_ident(pg_get_userbyid(a.grantee)) end,
                  'privilege', a.privilege_type, 'grantable', a.is_grantable))
                from aclexplode(c.relacl) a) as grants,
               (select array_agg(pg_get_indexdef(i.indexrelid)) from pg_index i where i.indrelid = c.oid) as indexes
        from deps join pg_class c on c.oid = deps.oid join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('v', 'm')
        group by c.oid, n.nspname, c.relname, c.relkind
        order by depth, n.nspname, c.relname`,
  );
  return rows.map((r) => ({ ...r, grants: r.grants ?? [], indexes: r.indexes ?? [] }));
}

const qualified = (v: DependentView) => `"${v.schema}"."${v.name}"`;

export async function dropViews(tx: Executor, views: readonly DependentView[]): Promise<void> {
  for (const view of [...views].sort((a, b) => b.depth - a.depth)) {
    await tx.execute(sql.raw(`drop ${view.kind === 'm' ? 'materialized view' : 'view'} if exists ${qualified(view)}`));
  }
}

/** Recreates views from their captured definitions, with options, owner, comment and grants. */
export async function recreateViews(tx: Executor, views: readonly DependentView[]): Promise<void> {
  const [me] = await execRows<{ user: string }>(tx, sql`select current_user as user`);
  for (const view of [...views].sort((a, b) => a.depth - b.depth)) {
    const name = qualified(view);
    const options = view.options?.length ? ` with (${view.options.join(', ')})` : '';
    const body = view.definition.trim().replace(/;$/, '');
    if (view.kind === 'm') {
      await tx.execute(sql.raw(`create materialized view ${name}${options} as ${body} with data`));
      for (const index of view.indexes) await tx.execute(sql.raw(index));
    } else {
      await tx.execute(sql.raw(`create view ${name}${options} as ${body}`));
    }
    const type = view.kind === 'm' ? 'materialized view' : 'view';
    if (view.owner !== me?.user) await tx.execute(sql.raw(`alter ${type} ${name} owner to "${view.owner}"`));
    if (view.comment !== null) await tx.execute(sql`${sql.raw(`comment on ${type} ${name} is `)}${sql.raw(quoteLiteral(view.comment))}`);
    for (const grant of view.grants) {
      await tx.execute(sql.raw(`grant ${grant.privilege} on ${name} to ${grant.grantee}${grant.grantable ? ' with grant option' : ''}`));
    }
  }
}

export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
