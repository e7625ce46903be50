import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { cliPath, exited } from './commands/test-process.ts';

/*
 * The CLI's conventions, as a shell sees them: a usage error exits 2 with a one-line message and
 * the command's usage (at any depth of subcommand), an unknown command names the nearest one,
 * and --version prints apps/mirror/package.json's version. None of these touch a database.
 */

async function mirror(...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const { code } = await exited(child);
  return { code, stdout, stderr };
}

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

test('usage errors exit 2 with the message and the usage; --version prints the version', async () => {
  const [unknown, missing, badValue, nestedBadValue, excess, versionRun] = await Promise.all([
    mirror('statu'),
    mirror('api-keys', 'create'),
    mirror('sim', '--port', 'notaport'),
    mirror('parked', 'retry', '--id', 'x'),
    mirror('replay', '--from', '1', 'extra'),
    mirror('--version'),
  ]);

  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("error: unknown command 'statu'");
  expect(unknown.stderr).toContain('(Did you mean status?)');
  expect(unknown.stderr).toContain('Usage: mirror [options] [command]');

  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain("error: required option '--store <id>' not specified");
  expect(missing.stderr).toContain('Usage: mirror api-keys create [options]');

  expect(badValue.code).toBe(2);
  expect(badValue.stderr).toMatch(/^error: option '--port <port>' argument 'notaport' is invalid/);
  expect(badValue.stderr).toContain('Usage: mirror sim [options]');

  expect(nestedBadValue.code).toBe(2);
  expect(nestedBadValue.stderr).toContain('Usage: mirror parked retry [options]');

  expect(excess.code).toBe(2);
  expect(excess.stderr).toContain('Usage: mirror replay [options]');

  expect(versionRun).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
}, 60_000);

test('mirror sim: a lossy day is asked for with shares between 0 and 1, and --changes needs somewhere to send', async () => {
  const [overOne, notANumber, noTarget] = await Promise.all([
    mirror('sim', '--port', '0', '--drop-webhooks', '1.5'),
    mirror('sim', '--port', '0', '--silent', 'some'),
    mirror('sim', '--port', '0', '--changes', '100'),
  ]);
  expect(overOne.code).toBe(2);
  expect(overOne.stderr).toContain('--drop-webhooks must be a share between 0 and 1');
  expect(notANumber.code).toBe(2);
  expect(notANumber.stderr).toContain('--silent must be a share between 0 and 1');
  expect(noTarget.code).toBe(2);
  expect(noTarget.stderr).toContain('--changes and --truth need --target');
}, 60_000);

test('a value out of range is a usage error too: a port past 65535, a role that is no SQL identifier', async () => {
  const [port, role] = await Promise.all([mirror('sim', '--port', '99999'), mirror('reporting', 'grant', '--role', 'BadRole')]);
  expect(port.code).toBe(2);
  expect(port.stderr).toMatch(/^error: option '--port <port>' argument '99999' is invalid\. port must be an integer from 0 to 65535/);
  expect(port.stderr).toContain('Usage: mirror sim [options]');
  expect(role.code).toBe(2);
  expect(role.stderr).toMatch(/^error: option '--role <name>' argument 'BadRole' is invalid\. a role is a lowercase SQL identifier/);
  expect(role.stderr).toContain('Usage: mirror reporting grant [options]');
}, 60_000);
