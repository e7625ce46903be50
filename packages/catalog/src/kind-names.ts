import { entityCatalog, isKind, kinds, type Kind } from './entity-catalog.ts';

/** The public name of a kind (`discount-coupons`). */
export const kindName = (kind: Kind): string => entityCatalog[kind].name;

/** The public name of a kind as a row stores it (`entity_kind`); one no kind has, or none, as it is. */
export const publicKindName = <T extends string | null>(kind: T): string | T => (kind !== null && isKind(kind) ? kindName(kind) : kind);

const byName = new Map<string, Kind>(kinds.map((kind) => [entityCatalog[kind].name, kind]));

// Older spellings: the kind id itself (what `mirror rebuild` took) and the short names
// `mirror backfill` took (`coupons`, `carts`, …).
const byAlias = new Map<string, Kind>(
  kinds.flatMap((kind) => {
    const decl = entityCatalog[kind];
    const spellings: string[] = [kind, ...decl.aliases];
    return spellings.filter((s) => s !== decl.name).map((s) => [s, kind] as const);
  }),
);

/** A kind found by name; `deprecated` is set when it was asked for by an older spelling. */
export type ResolvedKind = { kind: Kind; deprecated?: { alias: string; name: string } };

/** Finds a kind by its public name or an older spelling; undefined when there is none. */
export function resolveKindName(name: string): ResolvedKind | undefined {
  const kind = byName.get(name);
  if (kind) return { kind };
  const aliased = byAlias.get(name);
  return aliased ? { kind: aliased, deprecated: { alias: name, name: kindName(aliased) } } : undefined;
}

export type KindList = { kinds: Kind[]; deprecated: { alias: string; name: string }[] };

/**
 * Parses a comma list of kind names (`orders,discount-coupons`), keeping the given order and
 * dropping repeats. Throws a message that names the unknown ones and the choices: only `allowed`
 * kinds are accepted (a command may handle fewer than all).
 */
export function parseKindList(value: string, allowed: readonly Kind[] = kinds): KindList {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const choices = kinds
    .filter((kind) => allowed.includes(kind))
    .map(kindName)
    .join(', ');
  if (names.length === 0) throw new Error(`no entities given; choose from ${choices}`);
  const found: Kind[] = [];
  const deprecated: KindList['deprecated'] = [];
  const unknown: string[] = [];
  for (const name of names) {
    const resolved = resolveKindName(name);
    if (!resolved || !allowed.includes(resolved.kind)) {
      unknown.push(name);
      continue;
    }
    if (resolved.deprecated) deprecated.push(resolved.deprecated);
    if (!found.includes(resolved.kind)) found.push(resolved.kind);
  }
  if (unknown.length > 0) throw new Error(`unknown entities: ${unknown.join(', ')}; choose from ${choices}`);
  return { kinds: found, deprecated };
}
