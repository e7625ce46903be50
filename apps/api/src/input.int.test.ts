import { entityCatalog, kindName, kinds, type CollectionApi, type FilterDecl } from '@mirror/catalog';
import { createLogger } from '@mirror/core';
import { apiKeysTable, appSubscriptionsTable, parkedEventsTable, personalDataRequestsTable, storeProfilesTable } from '@mirror/db';
import { createTestDatabase, type TestDatabase } from '@mirror/db/testing';
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { entities } from './entities.ts';
import type { OperatorActions, VerifyState } from './operations-routes.ts';
import { numericId } from './query-params.ts';
import {
  adminToken,
  checkProperty,
  createTestApp,
  encodeLoosely,
  get,
  insertLog,
  insertOrders,
  insertProduct,
  projected,
  propertyRunReport,
  unicode,
  type TestApp,
} from './test-helpers.ts';

// Bad input never costs a 5xx or a silent misreading: arbitrary query strings and path ids against
// every list, history and get-by-id route, on the real database. Each request's expected outcome is
// worked out by a plain reference model of the documented rules (below), independent of the code
// under test: valid input is answered (200, or 404 for an id that is not there), anything else is a
// 400 naming one of the parameters that are wrong.

let database: TestDatabase;
let app: TestApp;
const store = 7007;
const otherStore = 7008;
const base = `/v1/stores/${store}`;

/** The kinds of parameter value, each with its documented rule. */
type ParamKind =
  | { type: 'limit' }
  | { type: 'after' }
  | { type: 'cursor' }
  | { type: 'sort'; values: string[] }
  | { type: 'bool' }
  | { type: 'in'; values?: readonly string[] }
  | { type: 'text' }
  | { type: 'id' }
  | { type: 'int'; min: number; max: number }
  | { type: 'time' };

type RouteSpec = { name: string; path: string; params: Record<string, ParamKind> };

function filterKind(decl: FilterDecl): ParamKind {
  switch (decl.type) {
    case 'in':
      return { type: 'in', ...(decl.values && { values: decl.values }) };
    case 'text':
      return { type: 'text' };
    case 'id':
    case 'child':
      return { type: 'id' };
    case 'bool':
    case 'present':
      return { type: 'bool' };
    case 'int':
      return { type: 'int', min: decl.min, max: decl.max };
    case 'from':
    case 'to':
      return { type: 'time' };
  }
}

const page = { limit: { type: 'limit' }, cursor: { type: 'cursor' } } as const;
/** An id of each collection with log records (so its history answers 200). */
const seededId = (def: (typeof entities)[number]) => (def.idSchema === numericId ? '1' : 'X1');
const singletons = kinds.filter((kind) => entityCatalog[kind].api?.shape === 'singleton');

const listRoutes: RouteSpec[] = [
  ...entities.map((def) => {
    const api = entityCatalog[def.kind].api as CollectionApi;
    return {
      name: `GET ${def.path}`,
      path: `${base}/${def.path}`,
      params: {
        ...page,
        sort: { type: 'sort', values: Object.keys(def.sorts).flatMap((s) => [s, `-${s}`]) },
        includeDeleted: { type: 'bool' },
        includeDoc: { type: 'bool' },
        ...Object.fromEntries(Object.entries(api.filters).map(([name, decl]) => [name, filterKind(decl)])),
      },
    } satisfies RouteSpec;
  }),
  { name: 'GET events', path: `${base}/events`, params: { after: { type: 'after' }, limit: { type: 'limit' } } },
  ...entities.map((def) => ({ name: `GET ${def.path}/{id}/history`, path: `${base}/${def.path}/${seededId(def)}/history`, params: page })),
  ...singletons.map((kind) => ({ name: `GET ${kindName(kind)}/history`, path: `${base}/${kindName(kind)}/history`, params: page })),
  ...singletons.map((kind): RouteSpec => ({
    name: `GET ${kindName(kind)}`,
    path: `${base}/${kindName(kind)}`,
    params: { includeDeleted: { type: 'bool' } },
  })),
];
const allNames = [...new Set(listRoutes.flatMap((r) => Object.keys(r.params)))];

// ---- The reference model ------------------------------------------------------------------------

function decodeStrict(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** A real calendar date-time in years 0001–9999 (UTC), checked by a Date round trip. */
function validTime(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(?:Z|([+-])(\d{2}):?(\d{2}))?)?$/.exec(s);
  if (!m) return false;
  const [y, mo, d, h = 0, mi = 0, sec = 0] = m.slice(1, 7).map((v) => Number(v ?? 0)) as number[];
  const date = new Date(0);
  date.setUTCFullYear(y!, mo! - 1, d!);
  date.setUTCHours(h!, mi!, sec!);
  const same =
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo! - 1 &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi;
  if (!same || date.getUTCSeconds() !== sec) return false;
  const [oh, om] = [Number(m[8] ?? 0), Number(m[9] ?? 0)];
  if (oh > 23 || om > 59) return false;
  const utc = new Date(date.getTime() - (m[7] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000);
  return utc.getUTCFullYear() >= 1 && utc.getUTCFullYear() <= 9999;
}

function validValue(kind: ParamKind, v: string): boolean {
  const digits = /^[0-9]+$/.test(v);
  switch (kind.type) {
    case 'limit':
      return digits && Number(v) >= 1 && Number(v) <= 500;
    case 'after':
      return digits && Number(v) <= Number.MAX_SAFE_INTEGER;
    case 'cursor':
      return false; // only the server mints cursors; none is generated here
    case 'sort':
      return kind.values.includes(v);
    case 'bool':
      return v === 'true' || v === 'false';
    case 'in':
      return (
        v.length <= 1000 && /^[A-Z0-9_]+(,[A-Z0-9_]+)*$/.test(v) && (!kind.values || v.split(',').every((t) => kind.values!.includes(t)))
      );
    case 'text':
      return [...v].length >= 1 && [...v].length <= 200 && !v.includes('\0');
    case 'id':
      return /^[0-9]{1,15}$/.test(v);
    case 'int':
      return digits && Number(v) >= kind.min && Number(v) <= kind.max;
    case 'time':
      return validTime(v);
  }
}

/** The names a raw query string gets wrong (empty: it is valid for these parameters). */
function offendingQuery(raw: string, params: Record<string, ParamKind>): Set<string> {
  const wrong = new Set<string>();
  const seen = new Set<string>();
  for (const piece of raw.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const rawName = (eq === -1 ? piece : piece.slice(0, eq)).replace(/\+/g, ' ');
    const name = decodeStrict(rawName);
    if (name === undefined) {
      wrong.add(rawName);
      continue;
    }
    const kind = Object.hasOwn(params, name) ? params[name] : undefined;
    const value = eq === -1 ? '' : decodeStrict(piece.slice(eq + 1).replace(/\+/g, ' '));
    if (!kind || seen.has(name) || value === undefined || value.includes('\0') || !validValue(kind, value)) wrong.add(name);
    seen.add(name);
  }
  return wrong;
}

// ---- Generators ---------------------------------------------------------------------------------

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const validTimes = fc.oneof(
  fc
    .record({
      y: fc.integer({ min: 2, max: 9998 }),
      mo: fc.integer({ min: 1, max: 12 }),
      d: fc.integer({ min: 1, max: 28 }),
      h: fc.integer({ min: 0, max: 23 }),
      mi: fc.integer({ min: 0, max: 59 }),
      s: fc.integer({ min: 0, max: 59 }),
      frac: fc.constantFrom('', '.5', '.123', '.999999'),
      zone: fc.constantFrom('', 'Z', '+01:00', '-0930', '+14:00'),
      form: fc.constantFrom('date', 'hm', 'full'),
    })
    .map(({ y, mo, d, h, mi, s, frac, zone, form }) => {
      const date = `${pad(y, 4)}-${pad(mo)}-${pad(d)}`;
      if (form === 'date') return date;
      return form === 'hm' ? `${date}T${pad(h)}:${pad(mi)}${zone}` : `${date}T${pad(h)}:${pad(mi)}:${pad(s)}${frac}${zone}`;
    }),
  fc.constantFrom('2024-02-29', '2000-02-29T23:59:59.999999Z', '0001-01-01', '9999-12-31T23:59:59.999999Z', '2024-02-03T04:05:06.789999Z'),
);

function validValues(kind: ParamKind): fc.Arbitrary<string> {
  switch (kind.type) {
    case 'limit':
      return fc.tuple(fc.integer({ min: 1, max: 500 }), fc.constantFrom('', '', '0')).map(([n, z]) => `${z}${n}`);
    case 'after':
      return fc.oneof(fc.maxSafeNat(), fc.nat({ max: 5000 })).map(String);
    case 'cursor':
      return fc.constant('x'); // never valid (see validValue)
    case 'sort':
      return fc.constantFrom(...kind.values);
    case 'bool':
      return fc.constantFrom('true', 'false');
    case 'in':
      return fc
        .array(kind.values ? fc.constantFrom(...kind.values) : fc.stringMatching(/^[A-Z0-9_]{1,12}$/), { minLength: 1, maxLength: 5 })
        .map((t) => t.join(','));
    case 'text':
      return fc.oneof(
        unicode({ minLength: 1, maxLength: 30 }).filter((s) => !s.includes('\0')),
        fc.constantFrom('vip@example.com', 'SKU-1', 'O1', 'X1', 'a+b&c=d#e%f', ' ', 'é😀'),
      );
    case 'id':
      return fc.oneof(fc.stringMatching(/^\d{1,15}$/), fc.constantFrom('1', '0042', '999999999999999'));
    case 'int':
      return fc.integer({ min: kind.min, max: kind.max }).map(String);
    case 'time':
      return validTimes;
  }
}

/** Values shaped like valid ones that may break one rule (the reference model decides which do). */
function nearMiss(kind: ParamKind): fc.Arbitrary<string> {
  const numbers = (min: number, max: number) =>
    fc.oneof(
      fc.constantFrom(min - 1, max + 1, 2 ** 53, 10 ** 20).map(String),
      fc
        .integer({ min, max: Math.min(max, min + 1000) })
        .chain((n) => fc.constantFrom(`+${n}`, ` ${n}`, `${n} `, `${n}.0`, `${n}e0`, `0x${n.toString(16)}`, `-${n}`)),
    );
  switch (kind.type) {
    case 'limit':
      return numbers(1, 500);
    case 'after':
      return numbers(0, Number.MAX_SAFE_INTEGER);
    case 'int':
      return numbers(kind.min, kind.max);
    case 'id':
      return fc.oneof(numbers(0, 999_999_999_999_999), fc.stringMatching(/^\d{16,18}$/));
    case 'cursor':
      return fc.constantFrom('', 'x', 'a.b', 'eyJ9.AAAA');
    case 'sort':
      return fc.constantFrom(...kind.values).chain((v) => fc.constantFrom(`${v} `, v.toUpperCase(), `--${v}`, `+${v}`, `${v},${v}`));
    case 'bool':
      return fc.constantFrom('', 'TRUE', 'True', '1', '0', 'yes', 'true ', 'on');
    case 'in':
      return fc.constantFrom('', 'paid', 'PAID,', ',PAID', 'PAID,,X', 'PAID X', 'PAID;X', 'Ä', 'A,'.repeat(500) + 'A');
    case 'text':
      return fc.constantFrom('', 'x'.repeat(201), '😀'.repeat(201), 'a\0b', '\0');
    case 'time':
      // A real date-time with one field pushed just past its range (or none): 2023-02-29,
      // 2024-04-31, T24:00, :60, +24:00, year 0000.
      return fc
        .record({
          y: fc.constantFrom(1, 1900, 2000, 2023, 2024, 9999),
          mo: fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
          d: fc.constantFrom(1, 15, 28, 29, 30, 31),
          h: fc.constantFrom(0, 12, 23),
          mi: fc.constantFrom(0, 59),
          s: fc.constantFrom(0, 59),
          zone: fc.constantFrom('', 'Z', '+01:00', '-01:00', '+23:59'),
          form: fc.constantFrom('date', 'full'),
          broken: fc.constantFrom('none', 'y', 'mo', 'd', 'h', 'mi', 's', 'zone'),
        })
        .map((p) => {
          const monthDays =
            new Date(Date.UTC(2001, p.mo, 0)).getUTCDate() + (p.mo === 2 && p.y % 4 === 0 && (p.y % 100 !== 0 || p.y % 400 === 0) ? 1 : 0);
          // Day 29–31 stays as drawn where the month lacks it (the overflow); otherwise clamp.
          const d = p.broken === 'd' ? Math.max(p.d, monthDays + 1) : Math.min(p.d, monthDays);
          const y = p.broken === 'y' ? 0 : p.y;
          const mo = p.broken === 'mo' ? (p.d % 2 ? 0 : 13) : p.mo;
          const h = p.broken === 'h' ? 24 : p.h;
          const mi = p.broken === 'mi' ? 60 : p.mi;
          const sec = p.broken === 's' ? 60 : p.s;
          const zone = p.broken === 'zone' ? (p.d % 2 ? '+24:00' : '-00:60') : p.zone;
          const date = `${pad(y, 4)}-${pad(mo)}-${pad(d)}`;
          return p.form === 'date' ? date : `${date}T${pad(h)}:${pad(mi)}:${pad(sec)}${zone}`;
        });
  }
}

/** Raw (already percent-encoded) fragments a value or name is made of: broken escapes, NUL, near-misses of every rule. */
const junkTokens = [
  '%00',
  '%FF',
  '%C3%28',
  '%',
  '%G1',
  '%E2%82',
  '%ED%A0%80',
  '%F4%90%80%80',
  '%C0%AF',
  '%2',
  '0',
  '1',
  '5',
  '00',
  '500',
  '501',
  '0x10',
  '1e2',
  '1e3',
  '+',
  '%2B',
  '%20',
  '-',
  '.',
  '.0',
  ':',
  'T',
  'Z',
  '2024',
  '2024-02-30',
  '2024-02-29',
  '2023-02-29',
  '0000-01-01',
  '10000-01-01',
  '9999-12-31T23:59:59.999999',
  'T24:00',
  ':60',
  '+01:00',
  '-01:00',
  '+24:00',
  'PAID',
  ',',
  'paid',
  'true',
  'false',
  'TRUE',
  '%E2%82%AC',
  '%F0%9F%98%80',
  '%c3%a9',
  'a',
  '%3D',
  '%26',
  '%23',
  '%25',
  '=',
  '99999999999999999999',
  '9007199254740993',
  '-createdAt',
  'createdAt',
];
const junk = fc.array(fc.constantFrom(...junkTokens), { maxLength: 6 }).map((t) => t.join(''));
/** A raw (percent-encoded) value: a valid one encoded as a client might, or junk as it is. */
const rawValue = (kind: ParamKind) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.tuple(validValues(kind), fc.integer()).map(([value, seed]) => encodeLoosely(value, seed)) },
    { weight: 2, arbitrary: junk },
  );

/** A raw parameter name: mostly the route's own, then other routes' and near-misses, then anything. */
const rawName = (params: Record<string, ParamKind>) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...Object.keys(params)) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...allNames, 'status', 'Limit', 'limit ', 'sort[]', 'q', 'page', 'offset', '__proto__', 'toString'),
          fc.integer(),
        )
        .map(([name, seed]) => encodeLoosely(name, seed)),
    },
    { weight: 1, arbitrary: fc.stringMatching(/^[a-zA-Z0-9._~-]{1,10}$/) },
    { weight: 1, arbitrary: junk },
  );

/** One raw `name=value` piece (or a bare `name`); the value is valid for the name's kind more often than not. */
const piece = (params: Record<string, ParamKind>) =>
  fc.tuple(rawName(params), fc.boolean(), fc.constantFrom(...Object.values(params)), fc.nat(9)).chain(([name, known, other, bare]) => {
    const decoded = decodeStrict(name.replace(/\+/g, ' '));
    const kind = known && decoded !== undefined && Object.hasOwn(params, decoded) ? params[decoded]! : other;
    return bare === 0 ? fc.constant(name) : rawValue(kind).map((value) => `${name}=${value}`);
  });
/** Escapes a value must never carry: NUL, and bytes that are not UTF-8 (or not an escape). */
const badEscapes = ['%00', '%FF', '%C3%28', '%', '%G1', '%E2%82', '%ED%A0%80', '%F4%90%80%80', '%C0%AF'];

/** A valid query for the route: distinct parameters, each with a valid value, encoded as a client might. */
const validQuery = (params: Record<string, ParamKind>) => {
  const usable = Object.keys(params).filter((name) => params[name]!.type !== 'cursor');
  return fc
    .uniqueArray(fc.constantFrom(...usable), { maxLength: 5 })
    .chain((chosen) =>
      fc.tuple(
        ...chosen.map((name) =>
          fc
            .tuple(validValues(params[name]!), fc.integer())
            .map(([v, seed]) => `${encodeLoosely(name, seed)}=${encodeLoosely(v, seed >> 2)}`),
        ),
      ),
    )
    .map((pieces): string[] => pieces);
};

/** One defect: a valid value with a bad escape spliced in, junk for a known parameter, an unknown parameter, or a repeat. */
const defect = (params: Record<string, ParamKind>, valid: string[]) => {
  const names = Object.keys(params);
  // The spliced parameter is picked by kind first, so that a route's one text filter is hit as
  // often as its many ids and times; NUL (the old 500) is half the escapes.
  const byKind = [...new Set(names.map((name) => params[name]!.type))].map((type) => names.filter((name) => params[name]!.type === type));
  const target = fc.constantFrom(...byKind).chain((group) => fc.constantFrom(...group));
  const escape = fc.oneof({ weight: 8, arbitrary: fc.constant('%00') }, { weight: 8, arbitrary: fc.constantFrom(...badEscapes) });
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(target, escape, fc.nat(), fc.integer()).chain(([name, bad, at, seed]) =>
        validValues(params[name]!).map((v) => {
          const chars = [...v];
          const k = at % (chars.length + 1);
          return `${name}=${encodeLoosely(chars.slice(0, k).join(''), seed)}${bad}${encodeLoosely(chars.slice(k).join(''), seed >> 3)}`;
        }),
      ),
    },
    { weight: 2, arbitrary: fc.tuple(target, junk).map(([name, value]) => `${name}=${value}`) },
    {
      weight: 3,
      arbitrary: target.chain((name) =>
        fc.tuple(nearMiss(params[name]!), fc.integer()).map(([v, seed]) => `${name}=${encodeLoosely(v, seed)}`),
      ),
    },
    { weight: 1, arbitrary: fc.tuple(rawName(params), rawValue(params[names[0]!]!)).map(([name, value]) => `${name}=${value}`) },
    { weight: 1, arbitrary: valid.length > 0 ? fc.constantFrom(...valid) : fc.constant(`${names[0]}=${names[0]}`) },
  );
};

/**
 * Arbitrary raw query strings: valid ones, valid ones with exactly one defect (which reach the
 * deepest checks: the rest of the query passes), and pieces of anything.
 */
const query = (params: Record<string, ParamKind>) =>
  fc.oneof(
    { weight: 3, arbitrary: validQuery(params).map((pieces) => pieces.join('&')) },
    {
      weight: 5,
      arbitrary: validQuery(params).chain((pieces) =>
        fc.tuple(defect(params, pieces), fc.nat()).map(([bad, at]) => {
          const out = [...pieces];
          out.splice(at % (out.length + 1), 0, bad);
          return out.join('&');
        }),
      ),
    },
    { weight: 2, arbitrary: fc.array(piece(params), { maxLength: 5 }).map((pieces) => pieces.join('&')) },
  );

// ---- Checking one answer ------------------------------------------------------------------------

type Answer = { status: number; body: any };

function expectError400(res: Answer, offending: Set<string>, context: string) {
  expect(res.status, context).toBe(400);
  const parameter = res.body?.error?.parameter;
  expect(res.body, context).toEqual({ error: { code: 'BAD_REQUEST', message: expect.stringContaining(`"${parameter}"`), parameter } });
  expect([...offending], context).toContain(parameter);
}

beforeAll(async () => {
  database = await createTestDatabase();
  app = createTestApp(database.db);
  const db = database.db;
  await insertOrders(db, store, [
    { orderId: 'O1', items: 2, email: 'vip@example.com', createdAt: new Date('2024-02-03T04:05:06.789Z') },
    { orderId: 'O2', createdAt: new Date('2024-02-04T00:00:00Z') },
  ]);
  await insertOrders(db, otherStore, [{ orderId: 'O1' }, { orderId: 'O2' }]);
  await insertProduct(db, store, { productId: 1, categoryIds: [1], variations: 1 });
  await db.execute(`update orders set created_at = '2024-02-03 04:05:06.789999+00' where store_id = ${store} and order_id = 'O1'`);
  await db.insert(storeProfilesTable).values({ storeId: store, storeName: 'Seven', ...projected({}) });
  await db.insert(appSubscriptionsTable).values({ storeId: store, status: 'ACTIVE', ...projected({}) });
  // One log record per collection (about the seeded id) and per singleton, so every history answers 200.
  let n = 0;
  const at = new Date('2024-02-01T00:00:00Z');
  const records = [
    ...entities.map((def) => ({ kind: def.kind as string, entityId: seededId(def) })),
    ...singletons.map((kind) => ({ kind: kind as string, entityId: String(store) })),
  ];
  for (const { kind, entityId } of [...records, ...records]) {
    n += 1;
    await insertLog(db, [
      {
        kind: 'webhook',
        storeId: store,
        eventId: `e${n}`,
        eventType: `${kind}.updated`,
        entityKind: kind,
        entityId,
        eventCreatedAt: at,
        payload: { n },
      },
    ]);
  }
});
afterAll(async () => {
  console.log(`property cases (input.int.test.ts):\n${propertyRunReport()}`);
  await database?.close();
});

describe('properties: arbitrary query strings', () => {
  test.each(listRoutes.map((r) => [r.name, r] as const))(
    '%s: never 5xx; 400 names a wrong parameter; 200 only for valid input',
    async (name, route) => {
      await checkProperty(
        `${name}?<arbitrary query>`,
        fc.asyncProperty(query(route.params), async (raw) => {
          const res = await get(app, raw === '' ? route.path : `${route.path}?${raw}`);
          const offending = offendingQuery(raw, route.params);
          const context = `${route.path}?${raw} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
          expect(res.status, context).toBeLessThan(500);
          if (offending.size === 0) expect(res.status, context).toBe(200);
          else expectError400(res, offending, context);
        }),
        300,
      );
    },
  );
});

/** Raw path segments: valid ids encoded loosely, and junk (never a dot segment, which the URL parser resolves). */
const pathIds = (numeric: boolean) =>
  fc
    .oneof(
      fc
        .tuple(
          numeric
            ? fc.oneof(fc.stringMatching(/^\d{1,17}$/), fc.constantFrom('1', '0001', '999999999999999', '1000000000000000'))
            : fc.oneof(
                unicode({ minLength: 1, maxLength: 40 }),
                fc.constantFrom('O1', 'X1', 'a b', 'a+b', '50%off', 'a/b', 'é😀', 'x'.repeat(200), 'x'.repeat(201), '😀'.repeat(200)),
              ),
          fc.integer(),
        )
        .map(([id, seed]) => encodeLoosely(id, seed, 'path')),
      fc.array(fc.constantFrom(...junkTokens), { minLength: 1, maxLength: 4 }).map((t) => t.join('')),
    )
    .filter((raw) => !/^(\.|%2e){1,2}$/i.test(raw));

describe('properties: arbitrary path ids', () => {
  test.each(entities.map((def) => [def.path, def] as const))(
    '%s/{id}[/history]: never 5xx; a bad id is a 400 naming it; a valid one is read exactly',
    async (path, def) => {
      const numeric = def.idSchema === numericId;
      const getByIdQuery = { includeDeleted: { type: 'bool' } } as const;
      await checkProperty(
        `GET ${path}/<arbitrary id>[/history][?<arbitrary query>]`,
        fc.asyncProperty(pathIds(numeric), fc.boolean(), query(getByIdQuery), async (raw, history, q) => {
          const params: Record<string, ParamKind> = history ? page : getByIdQuery;
          const url = `${base}/${path}/${raw}${history ? '/history' : ''}${q === '' || history ? '' : `?${q}`}`;
          const res = await get(app, url);
          const context = `${url} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
          expect(res.status, context).toBeLessThan(500);
          const badQuery = history ? new Set<string>() : offendingQuery(q, params);
          if (badQuery.size > 0) return expectError400(res, badQuery, context); // the query is checked first
          const id = decodeStrict(raw);
          const valid = id !== undefined && validValue(numeric ? { type: 'id' } : { type: 'text' }, id);
          if (!valid) return expectError400(res, new Set([def.idParam]), context);
          const read = numeric ? Number(id) : id;
          if (res.status === 200) {
            if (!history) expect(res.body[def.idParam], context).toBe(read);
          } else {
            expect(res, context).toEqual({
              status: 404,
              body: { error: { code: 'NOT_FOUND', message: `${def.idParam} ${String(read)} not found` } },
            });
          }
        }),
        300,
      );
    },
  );

  test('GET /v1/stores/<arbitrary storeId>/orders: never 5xx; 400 naming storeId unless it is a valid id', async () => {
    await checkProperty(
      'GET /v1/stores/<arbitrary storeId>/orders',
      fc.asyncProperty(fc.oneof(pathIds(true), fc.constantFrom(String(store), `0${store}`, '%37%30%30%37')), async (raw) => {
        const res = await get(app, `/v1/stores/${raw}/orders`);
        const context = `${raw} → ${res.status} ${JSON.stringify(res.body)}`;
        expect(res.status, context).toBeLessThan(500);
        const id = decodeStrict(raw);
        if (id === undefined || !/^[0-9]{1,15}$/.test(id)) return expectError400(res, new Set(['storeId']), context);
        expect(res.status, context).toBe([store, otherStore].includes(Number(id)) ? 200 : 404);
      }),
      300,
    );
  });
});

describe('examples', () => {
  const error = async (path: string) => {
    const res = await get(app, path);
    expect(res.status, path).toBe(400);
    expect(res.body.error.code).toBe('BAD_REQUEST');
    return res.body.error as { message: string; parameter: string };
  };

  test('a NUL in any text filter or path id is a 400 naming it, not a 500', async () => {
    const textFilters = entities.flatMap((def) =>
      Object.entries((entityCatalog[def.kind].api as CollectionApi).filters)
        .filter(([, decl]) => decl.type === 'text')
        .map(([name]) => [def.path, name] as const),
    );
    expect(textFilters.length).toBeGreaterThanOrEqual(7);
    for (const [path, name] of textFilters) {
      for (const value of ['%00', 'a%00', '%00%00b']) expect((await error(`${base}/${path}?${name}=${value}`)).parameter).toBe(name);
    }
    for (const def of entities) {
      for (const suffix of ['', '/history']) {
        for (const id of ['%00', 'O1%00', '%FF', '%C3%28']) {
          expect((await error(`${base}/${def.path}/${id}${suffix}`)).parameter, `${def.path}/${id}${suffix}`).toBe(def.idParam);
        }
      }
    }
  });

  test('invalid UTF-8 anywhere in the query is refused, not read as the literal escape', async () => {
    expect((await error(`${base}/orders?email=%FF`)).parameter).toBe('email');
    expect((await error(`${base}/orders?email=%C3%28x`)).parameter).toBe('email');
    expect((await error(`${base}/orders?em%FFail=x`)).parameter).toBe('em%FFail');
    expect((await error(`${base}/discount-coupons?code=50%`)).parameter).toBe('code');
    // A percent sign sent as %25 is a percent sign.
    expect((await get(app, `${base}/discount-coupons?code=50%25`)).status).toBe(200);
  });

  test('dates that do not exist or are out of range are refused', async () => {
    for (const value of [
      '2024-02-30',
      '0000-01-01',
      '2023-02-29',
      '2024-01-01T24:00:00Z',
      '2024-01-01T12:60',
      '2024-13-01',
      '10000-01-01',
      '0001-01-01T00:00:00%2B01:00',
    ]) {
      const e = await error(`${base}/orders?createdFrom=${value}`);
      expect(e.parameter, value).toBe('createdFrom');
    }
    expect((await get(app, `${base}/orders?createdFrom=0001-01-01&createdTo=9999-12-31T23:59:59.999999Z`)).body.data).toHaveLength(2);
  });

  test('times are compared to the microsecond, offsets applied', async () => {
    const ids = async (query: string) => (await get(app, `${base}/orders?${query}`)).body.data.map((o: { orderId: string }) => o.orderId);
    expect(await ids('createdFrom=2024-02-03T04:05:06.789999Z&createdTo=2024-02-03T04:05:06.789999Z')).toEqual(['O1']);
    expect(await ids('createdFrom=2024-02-03T04:05:06.78999Z&createdTo=2024-02-03T04:05:06.789998Z')).toEqual([]);
    expect(await ids('createdFrom=2024-02-03T04:05:06.79Z&createdTo=2024-02-03T23:59')).toEqual([]);
    expect(await ids('createdFrom=2024-02-03T05:05:06.789999%2B01:00&createdTo=2024-02-03T03:05:06.789999-01:00')).toEqual(['O1']);
    // A day alone as the upper bound is all of that day (UTC).
    expect(await ids('createdFrom=2024-02-03T05:05:06.789999%2B0100&createdTo=2024-02-03')).toEqual(['O1']);
    expect(await ids('createdFrom=2024-02-03&createdTo=2024-02-03')).toEqual(['O1']);
    expect(await ids('createdTo=2024-02-02')).toEqual([]);
  });

  test('numbers are plain decimal digits', async () => {
    for (const [path, query, parameter] of [
      ['orders', 'limit=0x10', 'limit'],
      ['orders', 'limit=1e2', 'limit'],
      ['orders', 'limit=%205', 'limit'],
      ['orders', 'limit=+5', 'limit'],
      ['orders', 'limit=%2B5', 'limit'],
      ['orders', 'limit=5.0', 'limit'],
      ['orders', 'limit=', 'limit'],
      ['orders', 'limit', 'limit'],
      ['events', 'after=1e3', 'after'],
      ['events', 'after=9007199254740992', 'after'],
      ['events', 'after=99999999999999999999', 'after'],
      ['reviews', 'rating=4.0', 'rating'],
      ['reviews', 'rating=6', 'rating'],
      ['orders', 'customerId=1e3', 'customerId'],
      ['orders', 'customerId=1234567890123456', 'customerId'],
    ] as const) {
      expect((await error(`${base}/${path}?${query}`)).parameter, query).toBe(parameter);
    }
    // Leading zeros are decimal: 05 is 5.
    expect((await get(app, `${base}/orders?limit=01`)).body.data).toHaveLength(1);
    expect((await get(app, `${base}/events?after=0&limit=001`)).body.data).toHaveLength(1);
  });

  test('an order status Ecwid does not have is a 400 naming it and the statuses it has, not an empty list', async () => {
    const typo = await error(`${base}/orders?paymentStatus=PAID,PAYED`);
    expect(typo.parameter).toBe('paymentStatus');
    expect(typo.message).toContain('PAYED: not one of AWAITING_PAYMENT, PAID,');
    expect(typo.message).not.toContain('PAID,PAYED');
    const fulfillment = await error(`${base}/orders?fulfillmentStatus=SENT`);
    expect(fulfillment).toMatchObject({ parameter: 'fulfillmentStatus', message: expect.stringContaining('SHIPPED') });
    for (const query of [
      'paymentStatus=CUSTOM_PAYMENT_STATUS_3,INCOMPLETE',
      'fulfillmentStatus=OUT_FOR_DELIVERY,CUSTOM_FULFILLMENT_STATUS_1',
    ]) {
      expect((await get(app, `${base}/orders?${query}`)).status, query).toBe(200);
    }
  });

  test('an unknown or repeated parameter is a 400 naming it, listing what the route takes', async () => {
    const typo = await error(`${base}/orders?status=PAID`);
    expect(typo.parameter).toBe('status');
    expect(typo.message).toContain('paymentStatus');
    expect(typo.message).toContain('limit');
    expect((await error(`${base}/orders?limit=5&limit=6`)).parameter).toBe('limit');
    expect((await error(`${base}/orders?sort=total&sort=-total`)).parameter).toBe('sort');
    expect((await error(`${base}/events?cursor=x`)).parameter).toBe('cursor');
    expect((await error(`${base}/orders/O1/history?includeDeleted=true`)).parameter).toBe('includeDeleted');
    const stores = await error('/v1/stores?limit=5');
    expect(stores).toMatchObject({ parameter: 'limit', message: expect.stringContaining('takes no query parameters') });
  });

  test('a cursor is refused for another store, list, sort or entity, and from the earlier cursor version', async () => {
    const first = await get(app, `${base}/orders?limit=1`);
    const cursor = encodeURIComponent(first.body.nextCursor);
    expect((await get(app, `${base}/orders?limit=1&cursor=${cursor}`)).status).toBe(200);
    for (const [path, reason] of [
      [`/v1/stores/${otherStore}/orders?limit=1&cursor=${cursor}`, 'another store'],
      [`${base}/abandoned-carts?limit=1&cursor=${cursor}`, 'another list'],
      [`${base}/orders?limit=1&sort=createdAt&cursor=${cursor}`, 'another list or sort'],
    ]) {
      const e = await error(path!);
      expect(e.parameter).toBe('cursor');
      expect(e.message).toContain(reason);
    }
    const history = await get(app, `${base}/orders/X1/history?limit=1`);
    const historyCursor = encodeURIComponent(history.body.nextCursor);
    expect((await get(app, `${base}/orders/X1/history?limit=1&cursor=${historyCursor}`)).status).toBe(200);
    expect((await error(`${base}/orders/O1/history?limit=1&cursor=${historyCursor}`)).parameter).toBe('cursor');
    expect((await error(`/v1/stores/${otherStore}/orders/X1/history?limit=1&cursor=${historyCursor}`)).message).toContain('another store');
    expect((await error(`${base}/orders?cursor=`)).parameter).toBe('cursor');
  });
});

// POST and DELETE routes: the same rules for the query string, and a JSON body's text held to them
// too (no NUL, valid UTF-8), each refused before the route does anything.
describe('bodies and non-GET routes', () => {
  let actionApp: TestApp;
  /** What the routes asked of the Ecwid side: a refused request must add nothing here. */
  const acted: string[] = [];
  /** The arguments of every log call, errors expanded as pino's serializer would show them. */
  const logged: string[] = [];
  let parkedId: number;

  const actions: OperatorActions = {
    retryParked: async (storeId, ids) => {
      acted.push(`retry ${storeId} ${ids.join(',')}`);
      return ids.map((id) => ({ id, outcome: 'resolved' as const }));
    },
    startVerify: (storeId) => {
      acted.push(`verify ${storeId}`);
      return { status: 'running', startedAt: new Date(), finishedAt: null, error: null, kinds: [] } satisfies VerifyState;
    },
    verifyState: () => undefined,
  };
  const expandErrors = (_key: string, v: unknown) =>
    v instanceof Error ? { ...v, name: v.name, message: v.message, stack: v.stack, cause: v.cause } : v;

  beforeAll(async () => {
    // The hook sees each log call's arguments before pino writes them; it keeps them instead.
    const log = createLogger({
      level: 'error',
      hooks: {
        logMethod(args) {
          logged.push(JSON.stringify(args, expandErrors));
        },
      },
    });
    actionApp = createTestApp(database.db, { actions, log });
    const [row] = await database.db
      .insert(parkedEventsTable)
      .values({ storeId: store, position: 777_777, entityKind: 'order', entityId: 'O1', error: 'Ecwid answered 500', attempts: 5 })
      .returning({ id: parkedEventsTable.id });
    parkedId = row!.id;
  });

  const send = async (method: string, path: string, body?: string | Uint8Array) => {
    const res = await actionApp.request(path, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const keyCount = () => database.db.$count(apiKeysTable);
  const requestCount = () => database.db.$count(personalDataRequestsTable);
  const bytes = (...parts: (string | number[])[]) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

  test('a NUL in a JSON body string is a 400 naming the field, and nothing is written or logged', async () => {
    const [keys, requests] = [await keyCount(), await requestCount()];
    for (const [path, body, field] of [
      ['/v1/api-keys', `{"storeId":${store},"label":"a\\u0000b"}`, 'label'],
      ['/v1/api-keys', `{"storeId":${store},"label":"\\u0000"}`, 'label'],
      [`${base}/personal-data-requests`, '{"kind":"erase","email":"a\\u0000@example.com"}', 'email'],
    ] as const) {
      const res = await send('POST', path, body);
      expect(res, body).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST', parameter: field } } });
      expect(res.body.error.message, body).toBe(`invalid body field "${field}": must not contain NUL (\\u0000)`);
    }
    expect([await keyCount(), await requestCount()]).toEqual([keys, requests]);
    expect(logged).toEqual([]);
  });

  test('invalid UTF-8 in a JSON body, raw or as a lone surrogate escape, is a 400 naming the field, not stored as U+FFFD', async () => {
    const [keys, requests] = [await keyCount(), await requestCount()];
    for (const [path, body, field] of [
      ['/v1/api-keys', bytes(`{"storeId":${store},"label":"a`, [0xff, 0xfe], 'b"}'), 'label'],
      ['/v1/api-keys', bytes(`{"storeId":${store},"label":"`, [0xc3, 0x28], '"}'), 'label'],
      ['/v1/api-keys', bytes(`{"storeId":${store},"label":"`, [0xed, 0xa0, 0x80], '"}'), 'label'],
      ['/v1/api-keys', bytes(`{"storeId":${store},"label":"x`, [0xe2, 0x82], '"}'), 'label'],
      ['/v1/api-keys', bytes(`{"storeId":${store},"label":"\\ud800"}`), 'label'],
      ['/v1/api-keys', bytes(`{"storeId":${store},"label":"ok\\udc00"}`), 'label'],
      [`${base}/personal-data-requests`, bytes('{"kind":"erase","email":"j', [0xff], '@example.com"}'), 'email'],
      [`${base}/personal-data-requests`, bytes('{"kind":"erase","email":"\\ud83d@example.com"}'), 'email'],
    ] as const) {
      const res = await send('POST', path, body);
      const context = Buffer.from(body).toString('latin1');
      expect(res, context).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST', parameter: field } } });
      expect(res.body.error.message, context).toContain(`invalid body field "${field}": is not valid UTF-8`);
    }
    expect([await keyCount(), await requestCount()]).toEqual([keys, requests]);
  });

  test('valid UTF-8 in a body is kept exactly, U+FFFD and astral characters included', async () => {
    const label = 'é 😀 \ufffd ß';
    for (const body of [
      JSON.stringify({ storeId: store, label }),
      `{"storeId":${store},"label":"\\u00e9 \\ud83d\\ude00 \\ufffd \\u00df"}`,
    ]) {
      const res = await send('POST', '/v1/api-keys', body);
      expect(res.status, body).toBe(201);
      expect(res.body.label).toBe(label);
    }
  });

  test('a non-GET route refuses an unknown query parameter, or one with a NUL or invalid UTF-8, before it acts', async () => {
    const [{ id: keyId }] = (await database.db
      .insert(apiKeysTable)
      .values({ storeId: store, prefix: 'mk_query', keyHash: 'query-test-hash', label: null })
      .returning({ id: apiKeysTable.id })) as [{ id: number }];
    const [{ id: requestId }] = (await database.db
      .insert(personalDataRequestsTable)
      .values({
        storeId: store,
        kind: 'erase',
        scope: 'customer',
        source: 'webhook',
        subjectCustomerId: 5,
        status: 'awaiting_confirmation',
      })
      .returning({ id: personalDataRequestsTable.id })) as [{ id: number }];
    const [keys, requests] = [await keyCount(), await requestCount()];
    const keyBody = JSON.stringify({ storeId: store, label: 'query test' });
    const requestBody = JSON.stringify({ kind: 'export', customerId: 5 });
    const unknown = 'this route takes no query parameters';
    const notUtf8 = 'is not valid percent-encoded UTF-8';
    for (const [method, path, body, parameter, message] of [
      ['POST', `${base}/verify?x=%00`, undefined, 'x', unknown],
      ['POST', `${base}/verify?%FF=1`, undefined, '%FF', notUtf8],
      ['POST', '/v1/api-keys?x=1', keyBody, 'x', unknown],
      ['POST', '/v1/api-keys?storeId=%C3%28', keyBody, 'storeId', unknown],
      ['DELETE', `/v1/api-keys/${keyId}?x=%00`, undefined, 'x', unknown],
      ['DELETE', `/v1/api-keys/${keyId}?a%00=1`, undefined, 'a\0', unknown],
      ['POST', `${base}/personal-data-requests?x=1`, requestBody, 'x', unknown],
      ['POST', `${base}/personal-data-requests/${requestId}/confirm?x=1`, undefined, 'x', unknown],
      ['POST', `${base}/personal-data-requests/${requestId}/cancel?x=%00`, undefined, 'x', unknown],
      ['POST', `${base}/parked/retry?x=1`, undefined, 'x', unknown],
      ['POST', `${base}/parked/${parkedId}/retry?x=1`, undefined, 'x', unknown],
    ] as const) {
      const res = await send(method, path, body);
      const context = `${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`;
      expect(res, context).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST', parameter } } });
      expect(res.body.error.message, context).toContain(message);
    }
    expect(acted).toEqual([]);
    expect([await keyCount(), await requestCount()]).toEqual([keys, requests]);
    const [key] = await database.db
      .select()
      .from(apiKeysTable)
      .where(sql`${apiKeysTable.id} = ${keyId}`);
    expect(key!.revokedAt).toBeNull();
    const [request] = await database.db
      .select()
      .from(personalDataRequestsTable)
      .where(sql`${personalDataRequestsTable.id} = ${requestId}`);
    expect(request!.status).toBe('awaiting_confirmation');

    // The same requests without the query act: the refusals above were about the query alone.
    expect((await send('POST', `${base}/verify`)).status).toBe(202);
    expect((await send('POST', `${base}/parked/retry`)).status).toBe(200);
    expect(acted).toEqual([`verify ${store}`, `retry ${store} ${parkedId}`]);
    expect((await send('DELETE', `/v1/api-keys/${keyId}`)).status).toBe(200);
    expect((await send('POST', `${base}/personal-data-requests/${requestId}/cancel`)).status).toBe(200);
  });

  test("an unexpected error is a 500 whose log line names the route and the SQL state, never the query's parameters", async () => {
    const secret = 'secret-label-4711@example.com';
    const failure = await database.db.execute(sql`select ${secret}::int`).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(JSON.stringify(failure, expandErrors)).toContain(secret);
    const failing = createTestApp(database.db, {
      actions: {
        ...actions,
        startVerify: () => {
          throw failure;
        },
      },
      log: createLogger({
        level: 'error',
        hooks: {
          logMethod(args) {
            logged.push(JSON.stringify(args, expandErrors));
          },
        },
      }),
    });
    logged.length = 0;
    const res = await failing.request(`${base}/verify`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 'INTERNAL', message: 'Internal error' } });
    expect(logged).toHaveLength(1);
    expect(logged[0]).not.toContain(secret);
    expect(logged[0]).not.toContain('params');
    expect(JSON.parse(logged[0]!)[0]).toMatchObject({ route: '/v1/stores/:storeId/verify', sqlState: '22P02' });
  });
});
