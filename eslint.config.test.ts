import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, test } from 'vitest';

/*
 * The lint rules that hold the architecture (eslint.config.js) must fail on a violation: each
 * case writes a small probe file where a contributor would, lints it with the repository's own
 * configuration, and expects the rule to fire (and a clean twin not to).
 */

const root = import.meta.dirname;
const written: string[] = [];
const eslint = new ESLint({ cwd: root });

afterAll(() => {
  for (const file of written) rmSync(file, { force: true });
});

async function lint(files: Record<string, string>): Promise<{ file: string; rule: string | null; message: string }[]> {
  const tag = randomBytes(4).toString('hex');
  const paths = Object.entries(files).map(([path, text]) => {
    const file = join(root, path.replace('{tag}', tag));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text.replaceAll('{tag}', tag));
    written.push(file);
    return file;
  });
  const results = await eslint.lintFiles(paths);
  return results.flatMap((r) => r.messages.map((m) => ({ file: r.filePath.slice(root.length + 1), rule: m.ruleId, message: m.message })));
}

describe('lint rules that hold the package boundaries', () => {
  test('the query API may not import the Ecwid client or the projector', async () => {
    const messages = await lint({
      'apps/api/src/probe-{tag}.ts': "import { createEcwidClient } from '@mirror/ecwid';\nexport const probe = createEcwidClient;\n",
      'apps/api/src/probe2-{tag}.ts': "import { rebuild } from '@mirror/projector';\nexport const probe = rebuild;\n",
    });
    const restricted = messages.filter((m) => m.rule === 'no-restricted-imports');
    expect(restricted.map((m) => m.file.split('-')[0])).toEqual(['apps/api/src/probe', 'apps/api/src/probe2']);
    expect(restricted[0]!.message).toContain('apps/api may import only @mirror/core, @mirror/db, @mirror/catalog');
  });

  test('a package may not import an app, nor a package that depends on it', async () => {
    const messages = await lint({
      'packages/db/src/probe-{tag}.ts': "import { kinds } from '@mirror/catalog';\nexport const probe = kinds;\n",
      'packages/projector/src/probe-{tag}.ts': "import { createApiApp } from '@mirror/api';\nexport const probe = createApiApp;\n",
    });
    const restricted = messages.filter((m) => m.rule === 'no-restricted-imports');
    expect(restricted.map((m) => m.file.split('/')[1])).toEqual(['db', 'projector']);
  });

  test('src/ may not use a dev dependency (the simulator); tests and testing/ may', async () => {
    const sim = "import { createSimulator } from '@mirror/ecwid-sim';\nexport const probe = createSimulator;\n";
    const messages = await lint({
      'packages/projector/src/probe-{tag}.ts': sim,
      'packages/projector/src/probe-{tag}.test.ts': sim,
      'packages/projector/testing/probe-{tag}.ts': sim,
    });
    expect(messages.map((m) => m.rule).sort()).toEqual(['import-x/no-extraneous-dependencies', 'no-restricted-imports']);
    expect(messages.every((m) => m.file.startsWith('packages/projector/src/probe-') && !m.file.endsWith('.test.ts'))).toBe(true);
  });

  test('a package’s `testing` entry point only in tests; its other entry points with the package', async () => {
    const messages = await lint({
      'apps/ingest/src/probe-{tag}.ts':
        "import { createTestDatabase } from '@mirror/db/testing';\nexport const probe = createTestDatabase;\n",
      'apps/ingest/src/probe-{tag}.test.ts':
        "import { createTestDatabase } from '@mirror/db/testing';\nexport const probe = createTestDatabase;\n",
      'apps/ingest/src/probe2-{tag}.ts': "import { listen } from '@mirror/core/http';\nexport const probe = listen;\n",
    });
    expect(messages.filter((m) => m.rule === 'no-restricted-imports').map((m) => m.file.split('-')[0])).toEqual(['apps/ingest/src/probe']);
  });

  test('no deep imports into another package’s src/', async () => {
    const messages = await lint({
      'apps/ingest/src/probe-{tag}.ts': "import { createDb } from '@mirror/db/src/create-db.ts';\nexport const probe = createDb;\n",
    });
    expect(messages.map((m) => m.rule)).toContain('no-restricted-imports');
    expect(messages.map((m) => m.message).join()).toContain('not by a path into its src/');
  });

  test('no import cycles', async () => {
    const messages = await lint({
      'packages/core/src/probe-a-{tag}.ts': "import { b } from './probe-b-{tag}.ts';\nexport const a = () => b;\n",
      'packages/core/src/probe-b-{tag}.ts': "import { a } from './probe-a-{tag}.ts';\nexport const b = () => a;\n",
    });
    expect(messages.map((m) => m.rule)).toEqual(['import-x/no-cycle', 'import-x/no-cycle']);
  });

  test('an import the rules allow is clean', async () => {
    const messages = await lint({
      'apps/api/src/probe-{tag}.ts': "import { kinds } from '@mirror/catalog';\nexport const probe = kinds;\n",
    });
    expect(messages).toEqual([]);
  });
});
