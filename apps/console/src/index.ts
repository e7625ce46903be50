import { readFileSync } from 'node:fs';
import type { Env, Hono } from 'hono';

/*
 * The operator console is a static page built at development time (`pnpm --filter @mirror/console
 * build`, esbuild) into dist/, which is committed: a fresh clone and a production install serve
 * it without building anything, and a test checks that dist/ matches the sources.
 */

const dist = new URL('../dist/', import.meta.url);

/** Scripts and styles from this server only; the API on the same origin. */
const contentSecurityPolicy =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Ecwid store mirror — console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/console.css">
</head>
<body>
<div id="app"><noscript>The console needs JavaScript.</noscript></div>
<script type="module" src="/console/console.js"></script>
</body>
</html>
`;

const types: Record<string, string> = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

/** Serves the console at `/` and its two files under `/console/`. */
export function mountConsole<E extends Env>(app: Hono<E>): void {
  const files = new Map<string, Buffer>();
  const read = (name: string) => {
    let body = files.get(name);
    if (!body) files.set(name, (body = readFileSync(new URL(name, dist))));
    return body;
  };
  const headers = { 'content-security-policy': contentSecurityPolicy, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' };
  app.get('/', (c) => c.html(page, 200, headers));
  app.get('/console/:file', (c) => {
    const name = c.req.param('file');
    const type = types[name];
    if (!type) return c.notFound();
    return c.body(read(name) as never, 200, { ...headers, 'content-type': type });
  });
}
