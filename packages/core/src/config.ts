import type { z } from 'zod';

/** A setting is missing or invalid; the message names the variable, never its value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates environment variables against a zod schema. */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}
