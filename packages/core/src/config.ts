import { z } from 'zod';

/** A setting is missing or invalid; the message names the variable, never its value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * One concern's settings (database, logging, ingest, …): a zod schema over environment
 * variables whose output is that concern's options in camelCase. Only commands parse them, once,
 * and pass the options inward; nothing below a command reads the environment.
 */
export type ConfigSection = z.ZodType<unknown, Record<string, string | undefined>>;

const describeIssues = (issues: readonly z.core.$ZodIssue[]) => issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);

/** Validates environment variables against one section; throws ConfigError naming every bad variable. */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  return loadConfig(env, { section: schema }).section;
}

/**
 * Parses the given sections from `env`, all at once so that one error lists every problem of
 * every section: `loadConfig(process.env, { database: databaseSection, log: logSection })` →
 * `{ database: { url, dataDir }, log: { level, format } }`. Empty values (blank ones too) count
 * as unset, so defaults apply to them and optional settings stay off: a compose file passes
 * `${VAR:-}` as "", and an env_file line `VAR=` does the same.
 */
export function loadConfig<S extends Record<string, z.ZodType>>(env: NodeJS.ProcessEnv, sections: S): { [K in keyof S]: z.output<S[K]> } {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''));
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(sections)) {
    const parsed = schema.safeParse(present);
    if (parsed.success) out[name] = parsed.data;
    else problems.push(...describeIssues(parsed.error.issues));
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${[...new Set(problems)].join('\n  ')}`);
  return out as { [K in keyof S]: z.output<S[K]> };
}

const durationUnits = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Parses a duration as operators write it: `48h`, `30m`, `90s`, `250ms`, `1d`, or whole seconds
 * (`3600`). Returns milliseconds, or undefined when the text is not one.
 */
export function parseDurationMs(text: string): number | undefined {
  const match = /^\s*(\d{1,12})\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * durationUnits[(match[2] ?? 's') as keyof typeof durationUnits];
}

/** A duration setting: `48h`, `30m`, `90s`, `250ms`, `1d`, or whole seconds; its output is milliseconds. */
export const durationSetting = () =>
  z.string().transform((text, ctx) => {
    const ms = parseDurationMs(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration such as 48h, 30m, 90s, or whole seconds' });
      return z.NEVER;
    }
    return ms;
  });
