import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

test('a store id or log position a number cannot hold exactly is a usage error, not a database error', async () => {
  const [verify, add, replay] = await Promise.all([
    mirror('verify', '--store', '99999999999999999999'),
    mirror('stores', 'add', '9007199254740993', '--token-env', 'NONE'),
    mirror('replay', '--from', '99999999999999999999'),
  ]);
  for (const run of [verify, add]) {
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/a store id is a positive integer up to 9007199254740991/);
  }
  expect(replay.code).toBe(2);
  expect(replay.stderr).toMatch(/a log position is a non-negative integer up to 9007199254740991/);
  expect(replay.stderr).toContain('Usage: mirror replay [options]');
}, 60_000);

test('mirror sim --truth describes the mirror --truth-reads names: live by default, or one that read after the day', async () => {
  // A webhook receiver that takes everything: the truth is the simulator's, not a mirror's.
  const receiver = createServer((req, res) => req.resume().on('end', () => res.end('{"status":"inserted"}')));
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const target = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/ecwid`;
  const dir = mkdtempSync(join(tmpdir(), 'mirror-truth-'));
  const day = async (file: string, ...extra: string[]) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ECWID_CLIENT_SECRET: 'truth-test-secret' };
    delete env.DATABASE_URL;
    const args = ['sim', '--port', '0', '--target', target, '--changes', '20', '--drop-webhooks', '0.2', '--truth', file, ...extra];
    const child = spawn(process.execPath, ['--import', 'tsx', cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (c: Buffer) => {
        stdout += c.toString();
        if (stdout.includes('ground truth in')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`mirror sim exited ${code} before the day ended: ${stdout}`)));
    });
    child.kill('SIGINT');
    await exited(child);
    return (JSON.parse(readFileSync(file, 'utf8')) as { reads: string; webhooks: { total: number } }).reads;
  };
  try {
    expect(await day(join(dir, 'live.json'))).toBe('onDelivery');
    expect(await day(join(dir, 'after.json'), '--truth-reads', 'after')).toBe('atEnd');
    const bad = await mirror('sim', '--port', '0', '--truth-reads', 'sometimes');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('must be live or after');
  } finally {
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 90_000);
