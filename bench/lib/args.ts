import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * Bad input on a bench's command line, as the `mirror` CLI treats it: one line naming the
 * problem on stderr and exit code 2, before anything is created.
 */
export function usageError(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

/** node:util's parseArgs, with an unknown or malformed option a usage error rather than a stack trace. */
export function benchArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    usageError(err instanceof Error ? err.message : String(err));
  }
}

/** A `--name` option that must be a positive integer. */
export function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) usageError(`--${name} must be a positive integer, got ${value}`);
  return n;
}

/** A `--name` option that must be a number, zero or more (a duration, a rate). */
export function nonNegative(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) usageError(`--${name} must be a number, zero or more, got ${value}`);
  return n;
}
