import type { z } from 'zod';
import { EcwidValidationError } from './errors.ts';

/** Zod path as the mirror writes it: `items[3].price`. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** Parses a 2xx body; a mismatch is an {@link EcwidValidationError} naming the field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, request: { method: string; path: string }): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    path: formatFieldPath(issue.path),
    message: issue.message,
  }));
  throw new EcwidValidationError(request, issues, { cause: parsed.error });
}
