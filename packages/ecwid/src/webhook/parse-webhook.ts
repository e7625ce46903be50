import { ecwidWebhookSchema, type EcwidWebhook } from './webhook-schema.ts';

export type WebhookProblem = { field: string; message: string };

export type ParsedWebhook = { ok: true; webhook: EcwidWebhook; text: string } | { ok: false; problem: WebhookProblem };

/** Deeper than any Ecwid body; keeps Postgres' jsonb parser well inside its stack limit. */
const maxDepth = 64;

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

  const unstorable = findUnstorable(json, '', 0);
  if (unstorable) return { ok: false, problem: unstorable };

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

/**
 * Postgres jsonb cannot hold U+0000 or unpaired surrogates, and has a stack limit on depth.
 * Rejecting these here keeps one such body from failing the batch it would be committed with.
 */
function findUnstorable(value: unknown, path: string, depth: number): WebhookProblem | undefined {
  if (depth > maxDepth) {
    // Name the top-level field, not a path hundreds of segments long.
    return { field: path.split(/[.[]/)[0] || 'body', message: `is nested deeper than ${maxDepth} levels` };
  }
  if (typeof value === 'string') return badString(value, path);
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorable(value[i], `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    const found = badString(key, childPath) ?? findUnstorable(child, childPath, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function badString(s: string, path: string): WebhookProblem | undefined {
  if (s.includes('\u0000')) return { field: path || 'body', message: 'contains a NUL character (\\u0000)' };
  if (!s.isWellFormed()) return { field: path || 'body', message: 'contains an unpaired UTF-16 surrogate' };
  return undefined;
}
