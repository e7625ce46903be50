import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiSection } from '@mirror/api';
import { createDb } from '@mirror/db';
import { ingestSection } from '@mirror/ingest';
import { sql } from 'drizzle-orm';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import * as config from '../config.ts';
import { exited, freePort } from '../commands/test-process.ts';

/*
 * The Docker path as written: the compose file is valid for Debian's docker-compose, documents
 * every variable, reads .env, waits for a healthy Postgres and restarts; the image is built in
 * stages, runs as a non-root user with a health check; and the image's own entry command, with
 * the environment compose gives it, comes up healthy against a real Postgres. (There is no
 * Docker engine here: the entry command runs in this checkout, where the image's WORKDIR is.)
 */

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const read = (name: string) => readFileSync(join(root, name), 'utf8');
const dockerCompose = '/usr/bin/docker-compose';

type ComposeService = {
  restart?: string;
  env_file?: string | string[];
  environment?: Record<string, string | number | null> | string[];
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] | string };
};
const compose = parseYaml(read('docker-compose.yml')) as { services: Record<string, ComposeService> };

/** The environment variables a configuration section reads. */
function variablesOf(section: z.ZodType): string[] {
  let schema: unknown = section;
  while (schema instanceof z.ZodPipe) schema = schema.in;
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

const sections: z.ZodType[] = [
  ...Object.values(config as Record<string, unknown>).filter((value): value is z.ZodType => value instanceof z.ZodType),
  ingestSection,
  apiSection,
];
const everyVariable = [...new Set(sections.flatMap(variablesOf))].sort();

/** `KEY=value` lines of an env file (comments and blank lines skipped), as compose reads them. */
function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) out[match[1]!] = match[2]!.trim();
  }
  return out;
}

describe('configuration is documented where operators look', () => {
  test('the sections read the variables this test expects (so the checks below check something)', () => {
    expect(everyVariable).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'ECWID_CLIENT_SECRET', 'MIRROR_ADMIN_TOKEN', 'RECONCILE_INTERVAL']),
    );
    expect(everyVariable.length).toBeGreaterThan(25);
  });

  test('every variable is in .env.example, in docker-compose.yml and in the README', () => {
    const example = read('.env.example');
    const composeText = read('docker-compose.yml');
    const readme = read('README.md');
    const missing = everyVariable.flatMap((name) => [
      ...(new RegExp(`^#? ?${name}=`, 'm').test(example) ? [] : [`.env.example: ${name}`]),
      ...(new RegExp(`\\b${name}\\b`).test(composeText) ? [] : [`docker-compose.yml: ${name}`]),
      ...(readme.includes(`\`${name}\``) ? [] : [`README.md: ${name}`]),
    ]);
    expect(missing).toEqual([]);
  });
});

describe('docker-compose.yml', () => {
  const mirror = compose.services.mirror!;
  const db = compose.services.postgres!;

  test('the mirror reads .env whole, restarts, and waits for a healthy Postgres', () => {
    expect([mirror.env_file].flat()).toEqual(['.env']);
    expect(mirror.restart).toBe('unless-stopped');
    expect(db.restart).toBe('unless-stopped');
    expect(mirror.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(JSON.stringify(db.healthcheck?.test)).toContain('pg_isready');
    expect(JSON.stringify(mirror.healthcheck?.test)).toContain('/readyz');
    // No `${VAR:-}` passing empty strings: settings come from .env.
    expect(read('docker-compose.yml')).not.toMatch(/\$\{/);
  });

  test('docker-compose config accepts it (Debian docker-compose, no engine needed)', async ({ skip }) => {
    if (!existsSync(dockerCompose)) {
      console.log(`skipping docker-compose config: ${dockerCompose} is not installed (.ci/run installs it)`);
      skip();
    }
    // As a user runs it: beside a .env copied from .env.example.
    const dir = mkdtempSync(join(tmpdir(), 'mirror-compose-'));
    try {
      writeFileSync(join(dir, 'docker-compose.yml'), read('docker-compose.yml'));
      writeFileSync(join(dir, '.env'), read('.env.example'));
      const out = await run(dockerCompose, ['-f', join(dir, 'docker-compose.yml'), 'config'], { cwd: dir });
      expect(out.stderr).not.toMatch(/error|invalid/i);
      expect(out.code).toBe(0);
      const resolved = parseYaml(out.stdout) as { services: Record<string, ComposeService> };
      expect(resolved.services.mirror?.depends_on?.postgres?.condition).toBe('service_healthy');
      expect(resolved.services.mirror?.restart).toBe('unless-stopped');
      // Without .env it refuses, so the README's `cp .env.example .env` is needed and enough.
      rmSync(join(dir, '.env'));
      const without = await run(dockerCompose, ['-f', join(dir, 'docker-compose.yml'), 'config'], { cwd: dir });
      expect(without.code).not.toBe(0);
      expect(without.stderr).toMatch(/\.env/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

type Instruction = { op: string; args: string };

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

const dockerfile = parseDockerfile(read('Dockerfile'));
/** Instructions of the last stage: what the image runs. */
const finalStage = dockerfile.slice(dockerfile.map((i) => i.op).lastIndexOf('FROM'));
const execForm = (args: string): string[] => z.array(z.string()).parse(JSON.parse(args));

describe('Dockerfile and .dockerignore', () => {
  test('multi-stage, production dependencies only, non-root, with a HEALTHCHECK', () => {
    expect(dockerfile.filter((i) => i.op === 'FROM').length).toBeGreaterThanOrEqual(2);
    expect(dockerfile.find((i) => i.op === 'RUN' && i.args.includes('pnpm install'))?.args).toMatch(/--prod\b/);
    // pnpm and the build stage's files stay behind: the last stage installs nothing.
    expect(finalStage.filter((i) => i.op === 'RUN')).toEqual([]);
    const user = finalStage.find((i) => i.op === 'USER')?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(finalStage.find((i) => i.op === 'HEALTHCHECK')?.args).toMatch(/CMD .*\/readyz/);
    expect(finalStage.find((i) => i.op === 'CMD')).toBeDefined();
  });

  test('.dockerignore keeps secrets, local data, modules, tests and benches out of the image', () => {
    const patterns = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(patterns).toEqual(
      expect.arrayContaining(['.env', '.env*', '.mirror/', '**/.mirror/', 'node_modules', '**/node_modules', '**/*.test.ts', 'bench/']),
    );
    // Whatever git leaves out as local output (the browser tests' screenshots among it) stays out too.
    const gitIgnored = read('.gitignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.replace(/^\//, '').replace(/\/$/, ''));
    const dockerIgnored = new Set(patterns.map((p) => p.replace(/\/$/, '')));
    expect(gitIgnored.filter((p) => !dockerIgnored.has(p))).toEqual([]);
    // Nothing re-includes an env file.
    expect(patterns.filter((p) => p.startsWith('!') && p.includes('.env'))).toEqual([]);
  });
});

describe("the image's entry command with compose's environment", () => {
  const adminUrl = process.env.TEST_DATABASE_URL;
  const name = `mirror_entry_${randomBytes(5).toString('hex')}`;
  let child: ChildProcess | undefined;

  afterAll(async () => {
    child?.kill('SIGKILL');
    if (!adminUrl) return;
    await adminExecute(adminUrl, `drop database if exists "${name}" with (force)`);
  });

  test('becomes healthy against the machine Postgres, then stops cleanly on SIGTERM', async ({ skip }) => {
    if (!adminUrl) {
      console.log('skipping the entry-command test: it needs a Postgres in TEST_DATABASE_URL');
      skip();
    }
    // An empty database: the entry command migrates it itself, as on a first `docker compose up`.
    await adminExecute(adminUrl!, `create database "${name}"`);
    const databaseUrl = new URL(adminUrl!);
    databaseUrl.pathname = `/${name}`;

    // The environment the container gets: the image's ENV, then the env_file (.env copied from
    // .env.example), then compose's `environment`, which wins.
    const imageEnv: Record<string, string> = {};
    for (const i of finalStage.filter((i) => i.op === 'ENV')) {
      for (const [, key, value] of i.args.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) imageEnv[key!] = value!;
    }
    const mirror = compose.services.mirror!;
    const composeEnv = Object.fromEntries(Object.entries(mirror.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]));
    const env: Record<string, string> = { ...imageEnv, ...parseEnvFile(read('.env.example')), ...composeEnv };
    expect(env.DATABASE_URL).toMatch(/@postgres:5432\//);
    expect(env.ECWID_STORES ?? '').toBe('');
    // Only what has to differ outside a container: the Postgres host, and a free port (3000 may
    // be taken on a shared machine).
    const port = await freePort();
    Object.assign(env, { DATABASE_URL: databaseUrl.toString(), PORT: String(port) });

    const workdir = finalStage.filter((i) => i.op === 'WORKDIR').at(-1)?.args ?? '/';
    const cwd = join(root, workdir.replace(/^\/app\/?/, ''));
    const [command, ...args] = execForm(finalStage.find((i) => i.op === 'CMD')!.args);
    expect(command).toBe('node');
    const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir() };
    child = spawn(process.execPath, args, { cwd, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

    // The HEALTHCHECK's own command, run as Docker runs it, until it passes.
    const health = finalStage.find((i) => i.op === 'HEALTHCHECK')!.args.replace(/^.*?\bCMD\s+/, '');
    const [healthCommand, ...healthArgs] = execForm(health);
    expect(healthCommand).toBe('node');
    const deadline = Date.now() + 90_000;
    let healthy = false;
    while (!healthy && Date.now() < deadline && child.exitCode === null) {
      healthy = (await run(process.execPath, healthArgs, { cwd, env: { ...base, ...env } })).code === 0;
      if (!healthy) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    if (!healthy) console.log(output);
    expect(healthy).toBe(true);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready' });
    // LOG_FORMAT=json from the image: one JSON object per log line.
    const firstLine = output.split('\n').find((l) => l.startsWith('{'));
    expect(firstLine && JSON.parse(firstLine)).toMatchObject({ level: expect.any(Number) });

    child.kill('SIGTERM');
    expect((await exited(child)).code).toBe(0);
  }, 150_000);
});

function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { ...options, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) || 1 : 0, stdout, stderr }),
    );
  });
}

async function adminExecute(url: string, statement: string): Promise<void> {
  const admin = await createDb({ url, maxConnections: 1 });
  try {
    await admin.db.execute(sql.raw(statement));
  } finally {
    await admin.close();
  }
}
