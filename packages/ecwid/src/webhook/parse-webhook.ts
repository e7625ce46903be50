import { ecwidWebhookSchema, type EcwidWebhook } from './webhook-schema.ts';

export type WebhookProblem = { field: string; message: string };

export type ParsedWebhook = { ok: true; webhook: EcwidWebhook; text: string } | { ok: false; problem: WebhookProblem };

/** Deeper than any Ecwid body; keeps Postgres' jsonb parser well inside its stack limit. */
const maxDepth = 64;

/** As in the schema (./webhook-schema.ts). */
const maxEventCreated = 253_402_300_799;
const printableAscii = /^[\x21-\x7e]+$/;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Decodes, parses and validates a webhook body. Returns the typed fields plus the exact text
 * received (the log stores that text as jsonb, so no number loses precision on the way).
 * Never throws: every problem is returned with the field it concerns.
 */
export function parseWebhook(body: Uint8Array): ParsedWebhook {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return fail('body', 'is not valid UTF-8');
  }
  if (text.trim() === '') return fail('body', 'is empty');

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const detail = err instanceof SyntaxError ? err.message : 'nesting too deep';
    return fail('body', `is not valid JSON (${detail})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return fail('body', `must be a JSON object, got ${Array.isArray(json) ? 'an array' : json === null ? 'null' : typeof json}`);
  }

  const unstorable = findUnstorable(json, 0);
  if (unstorable) return { ok: false, problem: unstorableProblem(unstorable) };

  // Ingest parses every webhook: the common, valid body is checked by hand (a quarter of zod's
  // cost), and anything the hand check does not accept goes through the schema, which decides
  // and names the problem. The hand check only ever accepts what the schema accepts.
  if (isPlainValidWebhook(json)) return { ok: true, webhook: json, text };
  const parsed = ecwidWebhookSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join('.') || 'body';
    return fail(field, issue?.message ?? 'is invalid');
  }
  return { ok: true, webhook: parsed.data, text };
}

function fail(field: string, message: string): ParsedWebhook {
  return { ok: false, problem: { field, message } };
}

/** The schema's checks (./webhook-schema.ts), by hand, for a body as JSON.parse returns it. */
function isPlainValidWebhook(json: object): json is EcwidWebhook {
  const { eventId, eventCreated, storeId, entityId, eventType, data } = json as Record<string, unknown>;
  return (
    typeof eventId === 'string' &&
    eventId.length <= 200 &&
    printableAscii.test(eventId) &&
    Number.isSafeInteger(eventCreated) &&
    (eventCreated as number) >= 0 &&
    (eventCreated as number) <= maxEventCreated &&
    Number.isSafeInteger(storeId) &&
    (storeId as number) > 0 &&
    (Number.isSafeInteger(entityId) || (typeof entityId === 'string' && entityId.length >= 1 && entityId.length <= 200)) &&
    typeof eventType === 'string' &&
    eventType.length >= 1 &&
    eventType.length <= 1000 &&
    (data === undefined || data === null || (typeof data === 'object' && !Array.isArray(data)))
  );
}

/** Where a problem is (keys and indexes from the top, built only once one is found) and what. */
type Unstorable = { path: (string | number)[]; message: string; tooDeep?: true };

function unstorableProblem({ path, message, tooDeep }: Unstorable): WebhookProblem {
  // Name the top-level field, not a path hundreds of segments long.
  if (tooDeep) return { field: path.length > 0 ? String(path[0]) : 'body', message };
  let field = '';
  for (const part of path) field = typeof part === 'number' ? `${field}[${part}]` : field ? `${field}.${part}` : part;
  return { field: field || 'body', message };
}

/**
 * Postgres jsonb cannot hold U+0000 or unpaired surrogates, and has a stack limit on depth.
 * Rejecting these here keeps one such body from failing the batch it would be committed with.
 */
function findUnstorable(value: unknown, depth: number): Unstorable | undefined {
  if (depth > maxDepth) return { path: [], message: `is nested deeper than ${maxDepth} levels`, tooDeep: true };
  if (typeof value === 'string') return badString(value);
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorable(value[i], depth + 1);
      if (found) {
        found.path.unshift(i);
        return found;
      }
    }
    return undefined;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const found = badString(key) ?? findUnstorable((value as Record<string, unknown>)[key], depth + 1);
    if (found) {
      found.path.unshift(key);
      return found;
    }
  }
  return undefined;
}

function badString(s: string): Unstorable | undefined {
  if (s.includes('\u0000')) return { path: [], message: 'contains a NUL character (\\u0000)' };
  if (!s.isWellFormed()) return { path: [], message: 'contains an unpaired UTF-16 surrogate' };
  return undefined;
}
