import { build } from 'esbuild';

/**
 * Bundles the console (web/main.tsx, Preact and uPlot) into one script and one stylesheet.
 * `outdir` defaults to dist/ (committed); the freshness test builds into a temporary folder.
 */
export async function buildConsole(outdir = new URL('./dist/', import.meta.url).pathname): Promise<void> {
  await build({
    entryPoints: { console: new URL('./web/main.tsx', import.meta.url).pathname },
    outdir,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'eof',
    charset: 'utf8',
    logLevel: 'warning',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await buildConsole();
