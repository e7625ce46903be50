import { kindName, kinds as allKinds, parseKindList, type Kind } from '@mirror/catalog';
import { ConfigError } from '@mirror/core';
import { CommanderError, InvalidArgumentError, type Command } from 'commander';
import type { LogOptions } from '../config.ts';
import { createRootLogger } from '../runtime.ts';
import { createProgress, type Progress, type ProgressOptions } from './progress.ts';

/*
 * Shared by the commands: exit code 2 for bad arguments (cli.ts applies it to every command),
 * a quiet logger for commands whose output is meant for a person, and the progress bar.
 */

/** Bad arguments exit with 2 (commander's own parse errors would exit with 1); help and --version still exit 0. */
export function exitTwoOnBadArguments(command: Command): Command {
  return command.exitOverride((err) => {
    if (err.exitCode === 1 && err.code !== 'commander.executeSubCommandAsync') throw new CommanderError(2, err.code, err.message);
    throw err;
  });
}

/** What usageError makes: cli.ts prints it with the usage of the command that threw it. */
export class UsageError extends ConfigError {}

/** An argument problem found after parsing: printed with the command's usage, exit code 2. */
export function usageError(message: string): UsageError {
  return new UsageError(message);
}

// Past 2^53 a number no longer holds every integer: 9007199254740993 would be read as …992, a
// store or position other than the one asked for. Ecwid's store ids are far below.
const exactInteger = (value: string) => /^\d+$/.test(value) && Number.isSafeInteger(Number(value));

export const storeIdArgument = (value: string): number => {
  if (!exactInteger(value) || Number(value) < 1)
    throw new InvalidArgumentError(`a store id is a positive integer up to ${Number.MAX_SAFE_INTEGER}`);
  return Number(value);
};

export const positionArgument = (value: string): number => {
  if (!exactInteger(value)) throw new InvalidArgumentError(`a log position is a non-negative integer up to ${Number.MAX_SAFE_INTEGER}`);
  return Number(value);
};

/**
 * `--entities <list>`: the catalogue's public names (`orders,discount-coupons`), of the kinds
 * the command handles. Older spellings (`coupons`, `discount_coupon`) still work and print that
 * they are deprecated, on stderr.
 */
export function entitiesArgument<K extends Kind>(allowed: readonly K[]) {
  return (value: string): K[] => {
    let parsed;
    try {
      parsed = parseKindList(value, allowed);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
    for (const { alias, name } of parsed.deprecated) process.stderr.write(`mirror: "${alias}" is deprecated, use "${name}"\n`);
    return parsed.kinds as K[];
  };
}

/** The public names of kinds, comma-separated (for help texts). */
export const kindNames = (kinds: readonly Kind[] = allKinds): string => kinds.map(kindName).join(',');

/**
 * Logs only warnings unless LOG_LEVEL is set, and on stderr: these commands print their answer
 * on stdout (a table, or `--json` that a program parses), which a retried request's warning must
 * not break.
 */
export function createQuietLogger(options: LogOptions) {
  return createRootLogger({ ...options, level: options.levelGiven ? options.level : 'warn' }, { toStderr: true });
}

/** Progress on stderr, so stdout stays clean for the summary: a bar on a terminal, periodic lines elsewhere. */
export function createProgressBar(label: string, options: ProgressOptions = {}): Progress {
  return createProgress(label, options);
}

/** Pads columns for a plain-text table. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
