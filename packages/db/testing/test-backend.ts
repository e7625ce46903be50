import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import postgres from 'postgres';
import { createDb } from '../src/create-db.ts';
import { migrationsFolder } from '../src/migrations.ts';

/** Where integration tests get their Postgres; decided once per run by the global setup. */
export type TestBackend =
  | { kind: 'postgres'; adminUrl: string; templateName: string; source: 'TEST_DATABASE_URL' | 'testcontainers' }
  | { kind: 'pglite'; reason: string };

type StopFn = () => Promise<void>;

/**
 * Picks the test database: TEST_DATABASE_URL when set, else a testcontainers Postgres when a
 * Docker engine answers, else embedded PGlite (tests needing concurrent connections skip).
 * On Postgres it migrates a template database once, which every test file clones.
 */
export async function prepareTestBackend(
  env: NodeJS.ProcessEnv,
  say: (line: string) => void,
): Promise<{ backend: TestBackend; stop: StopFn }> {
  if (env.TEST_DATABASE_URL) {
    say(`integration tests: Postgres from TEST_DATABASE_URL (${redactUrl(env.TEST_DATABASE_URL)})`);
    const templateName = await migrateTemplate(env.TEST_DATABASE_URL);
    return {
      backend: { kind: 'postgres', adminUrl: env.TEST_DATABASE_URL, templateName, source: 'TEST_DATABASE_URL' },
      stop: async () => {},
    };
  }
  const container = await startContainer().catch((err: unknown) => err as Error);
  if (!(container instanceof Error)) {
    say('integration tests: Postgres in a testcontainers container');
    const templateName = await migrateTemplate(container.url);
    return {
      backend: { kind: 'postgres', adminUrl: container.url, templateName, source: 'testcontainers' },
      stop: container.stop,
    };
  }
  const reason = `no TEST_DATABASE_URL and no Docker engine (${firstLine(container.message)})`;
  say(`integration tests: embedded PGlite, because ${reason}; tests that need concurrent connections are skipped`);
  return { backend: { kind: 'pglite', reason }, stop: async () => {} };
}

async function startContainer(): Promise<{ url: string; stop: StopFn }> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer('postgres:16-alpine').start();
  return { url: container.getConnectionUri(), stop: async () => void (await container.stop()) };
}

/** A template per migration set: re-created only when the migrations change. */
async function migrateTemplate(adminUrl: string): Promise<string> {
  const hash = createHash('sha256');
  for (const file of readdirSync(migrationsFolder)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    hash.update(file).update(readFileSync(`${migrationsFolder}/${file}`));
  }
  const templateName = `mirror_template_${hash.digest('hex').slice(0, 12)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [existing] = await admin`select 1 from pg_database where datname = ${templateName}`;
    if (existing) return templateName;
    // Templates of older migration sets are dead weight once the migrations change, but another
    // checkout's test run may be using one right now: only those made over a day ago go (each
    // template's comment says when it was made).
    const dayAgo = Date.now() - 86_400_000;
    for (const old of await admin`select datname, shobj_description(oid, 'pg_database') as made from pg_database
        where datname like 'mirror\_template\_%' and datname <> ${templateName} and datname not like '%\_building\_%'`) {
      const made = Number(/^made (\d+)$/.exec(String(old.made ?? ''))?.[1] ?? 0);
      if (made > dayAgo) continue;
      await admin.unsafe(`drop database if exists "${old.datname as string}" with (force)`).catch(() => {});
    }
    const building = `${templateName}_building_${process.pid}`;
    await admin.unsafe(`create database "${building}"`);
    await admin.unsafe(`comment on database "${building}" is 'made ${Date.now()}'`);
    const database = await createDb({ url: withDatabase(adminUrl, building), maxConnections: 2 });
    try {
      await database.migrate();
    } catch (err) {
      await database.close();
      await admin.unsafe(`drop database if exists "${building}"`);
      throw err;
    }
    await database.close();
    // Renaming publishes the finished template atomically; a concurrent run that lost the race
    // just drops its copy.
    await admin.unsafe(`alter database "${building}" rename to "${templateName}"`).catch(async () => {
      await admin.unsafe(`drop database if exists "${building}"`);
    });
    return templateName;
  } finally {
    await admin.end();
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'unparseable URL';
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0]?.slice(0, 160) ?? '';
}
