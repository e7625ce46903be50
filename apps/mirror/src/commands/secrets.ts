import { createSecretBox, parseSecretKey, SecretKeyError, type SecretBox } from '@mirror/core';
import { rotateSecretKey, RotationError } from '@mirror/projector';
import type { Command } from 'commander';
import { baseSections, ConfigError, loadConfig } from '../config.ts';
import { openDatabase } from '../runtime.ts';
import { createQuietLogger, exitTwoOnBadArguments, usageError } from './command-kit.ts';

const envName = (value: string) => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) throw usageError(`${value} is not an environment variable name`);
  return value;
};

/** A key from an environment variable (never from the command line, where `ps` shows it). */
function keyFrom(name: string): SecretBox {
  const value = process.env[name];
  if (!value) throw usageError(`environment variable ${name} is empty or not set`);
  try {
    return createSecretBox(parseSecretKey(value, name));
  } catch (err) {
    if (err instanceof SecretKeyError) throw new ConfigError(err.message);
    throw err;
  }
}

/** `mirror secrets rotate`: re-seal every store token with a new MIRROR_SECRET_KEY. */
export function registerSecrets(program: Command): void {
  const secrets = exitTwoOnBadArguments(
    program.command('secrets').description("the key that seals the stores' access tokens (MIRROR_SECRET_KEY)"),
  );
  exitTwoOnBadArguments(
    secrets
      .command('rotate')
      .description(
        'open every store token with the old key and seal it with the new one, in place and in one transaction (all or nothing; a re-run finishes an interrupted one). Then set MIRROR_SECRET_KEY to the new key and restart the mirror',
      )
      .option('--old-key-env <VAR>', 'environment variable holding the current key', envName, 'MIRROR_SECRET_KEY')
      .option(
        '--new-key-env <VAR>',
        'environment variable holding the new key (e.g. from `openssl rand -base64 32`)',
        envName,
        'MIRROR_SECRET_KEY_NEW',
      ),
  ).action(async (options: { oldKeyEnv: string; newKeyEnv: string }) => {
    const from = keyFrom(options.oldKeyEnv);
    const to = keyFrom(options.newKeyEnv);
    if (from.keyId === to.keyId) throw usageError(`${options.oldKeyEnv} and ${options.newKeyEnv} hold the same key`);
    const config = loadConfig(process.env, baseSections);
    const log = createQuietLogger(config.log);
    const database = await openDatabase(config.database, log);
    try {
      await database.migrate();
      const { resealed, alreadyNew } = await rotateSecretKey(database.db, from, to).catch((err: unknown) => {
        // A token the old key cannot open: nothing was changed; the operator must find the right key.
        if (err instanceof RotationError) throw new ConfigError(`${err.message}; nothing was changed`);
        throw err;
      });
      process.stdout.write(
        `${resealed} token(s) re-sealed with key ${to.keyId}${alreadyNew > 0 ? ` (${alreadyNew} already were)` : ''}.\n` +
          `Now set MIRROR_SECRET_KEY to the new key (${options.newKeyEnv}) and restart every mirror process: those still on the old key leave the stores alone and log that their tokens do not open.\n`,
      );
    } finally {
      await database.close();
    }
  });
}
