// @ts-check
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;

/*
 * Package boundaries: dependencies point one way (the Architecture section of README.md).
 * Each workspace may import only the internal packages listed here; tests may also use the
 * simulator and the `testing` entry points. Everything else goes through a package's exports,
 * never by a deep path into its src/.
 */
const allowedInternal = {
  'packages/core': [],
  'packages/db': ['@mirror/core'],
  'packages/ecwid': ['@mirror/core'],
  'packages/catalog': ['@mirror/core', '@mirror/db'],
  'packages/ecwid-sim': ['@mirror/core', '@mirror/ecwid'],
  'packages/projector': ['@mirror/core', '@mirror/db', '@mirror/ecwid', '@mirror/catalog'],
  // The query API reads the database and never calls Ecwid: no @mirror/ecwid, no projector.
  // It serves the console's built files (@mirror/console).
  'apps/api': ['@mirror/core', '@mirror/db', '@mirror/catalog', '@mirror/console'],
  // The operator console: a static front end, built by apps/console/build.ts; it talks to the API over HTTP only.
  'apps/console': [],
  'apps/ingest': ['@mirror/core', '@mirror/db', '@mirror/ecwid', '@mirror/catalog'],
  // The composition root: the CLI and the all-in-one server wire everything together.
  'apps/mirror': [
    '@mirror/core',
    '@mirror/db',
    '@mirror/ecwid',
    '@mirror/catalog',
    '@mirror/ecwid-sim',
    '@mirror/projector',
    '@mirror/api',
    '@mirror/ingest',
  ],
};

/** Test code, within a workspace: where dev dependencies, the simulator and `…/testing` entry points are allowed. */
const testFiles = ['**/*.test.ts', 'testing/**', '**/test-helpers.ts'];
/** Tooling run by hand or by other tools (drizzle-kit's config), never by the product. */
const toolFiles = ['*.config.ts', 'build.ts'];
/** Browser code bundled at build time (apps/console/web): its libraries are in the bundle, not installed in production. */
const bundledFiles = ['web/**'];

/** A no-restricted-imports rule allowing only these internal packages (and, in tests, the test kits). */
function boundary(workspace, allowed, { tests }) {
  const testing = tests ? ['@mirror/ecwid-sim', '@mirror/db/testing', '@mirror/ecwid/testing'] : [];
  const permitted = [...new Set([...allowed, ...testing])];
  const message = tests
    ? `${workspace} may import only ${permitted.join(', ')} (see the Architecture section of README.md)`
    : `${workspace} may import only ${allowed.join(', ') || 'no internal package'} outside its tests (see the Architecture section of README.md)`;
  return {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          // A permitted package's entry points (`@mirror/core/http`) are permitted with it; its
          // `testing` entry point only in tests.
          {
            group: [
              ...new Set([
                '@mirror/*',
                '@mirror/*/**',
                ...allowed.flatMap((p) => [`!${p}`, `!${p}/*`]),
                ...(tests ? [] : ['@mirror/*/testing']),
                ...testing.map((p) => `!${p}`),
              ]),
            ],
            message,
          },
          { group: ['@mirror/*/src', '@mirror/*/src/**'], message: 'import a package through its exports, not by a path into its src/' },
        ],
      },
    ],
  };
}

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      'migrations/**',
      '.mirror/**',
      '**/fixtures/**',
      '**/test-fixtures/**',
      'apps/console/dist/**',
      'test-artifacts/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', 'apps/console/web/**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: root },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    files: ['**/*.ts', 'apps/console/web/**/*.tsx'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: `${root}/tsconfig.json` })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  // Each workspace: its internal imports, and no dev dependency outside test code (a src/ file
  // that imports one works in the tests and breaks in production, where dev dependencies are absent).
  ...Object.entries(allowedInternal).flatMap(([workspace, allowed]) => [
    {
      files: [`${workspace}/**/*.ts`, `${workspace}/**/*.tsx`],
      plugins: { 'import-x': importX },
      rules: {
        ...boundary(workspace, allowed, { tests: false }),
        'import-x/no-extraneous-dependencies': [
          'error',
          {
            devDependencies: [...testFiles, ...toolFiles, ...bundledFiles].map((glob) => `${workspace}/${glob}`),
            packageDir: [`${root}/${workspace}`, root],
          },
        ],
      },
    },
    { files: testFiles.map((glob) => `${workspace}/${glob}`), rules: boundary(workspace, allowed, { tests: true }) },
  ]),
  {
    // Tests, benchmarks and the CLI talk to a person on the console on purpose.
    files: ['**/*.test.ts', 'bench/**', 'apps/mirror/**', 'vitest.global-setup.ts', 'vitest.summary-reporter.ts', '**/testing/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Tests poke at loosely typed JSON responses.
    files: ['**/*.test.ts', '**/test-helpers.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
