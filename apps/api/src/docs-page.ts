import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Hono } from 'hono';
import type { ApiEnv } from './api-env.ts';

/*
 * The API reference at /docs: Swagger UI (swagger-ui-dist, an npm dependency of this package)
 * served from this server, never from a CDN, so it works on an air-gapped host and sends nothing
 * anywhere but here. "Authorize" takes the bearer key; "Try it out" calls this same server.
 */

const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** Nothing but this origin: scripts, styles, the spec, the calls "Try it out" makes. Images may be inline (data:). */
const contentSecurityPolicy =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ecwid store mirror — API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="stylesheet" href="/docs/docs.css">
</head>
<body>
<header class="mirror-docs-header">
  <a href="/">← Operator console</a>
  <span>Every <code>/v1</code> call needs a key: press <b>Authorize</b> and paste the admin token or a store key.</span>
</header>
<div id="swagger-ui"><p class="mirror-docs-loading">Loading the API description…</p></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

const init = `// Swagger UI's settings: our spec, no validator badge (it would call validator.swagger.io),
// "Try it out" open by default, and the key kept across reloads of this tab's page only: in
// sessionStorage, as the console keeps its own, never in localStorage (Swagger UI's
// persistAuthorization), where an admin token would outlive the tab and be read by any later page.
var authKey = 'mirror-docs-authorization';
try { localStorage.removeItem('authorized'); } catch (e) {}
function keepForThisTab() {
  var save = function (value) { try { value ? sessionStorage.setItem(authKey, JSON.stringify(value)) : sessionStorage.removeItem(authKey); } catch (e) {} };
  return {
    statePlugins: {
      auth: {
        wrapActions: {
          authorize: function (original) { return function (payload) { save(payload); return original(payload); }; },
          logout: function (original) { return function (payload) { save(null); return original(payload); }; },
        },
      },
    },
  };
}
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  // No deep links: the hash of an operation holds underscores, which Swagger UI 5 reads as
  // escaped spaces and logs a deprecation error for on every load of such a link.
  deepLinking: false,
  validatorUrl: null,
  tryItOutEnabled: true,
  persistAuthorization: false,
  displayRequestDuration: true,
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
  presets: [SwaggerUIBundle.presets.apis],
  plugins: [keepForThisTab],
  layout: 'BaseLayout',
  onComplete: function () {
    var saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(authKey) || 'null'); } catch (e) {}
    if (saved) window.ui.authActions.authorize(saved);
  },
});
`;

const css = `body { margin: 0; font-family: system-ui, sans-serif; }
.mirror-docs-header { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: baseline; padding: 10px 20px;
  background: #1f2a37; color: #e5e9f0; font-size: 14px; }
.mirror-docs-header a { color: #9ecbff; font-weight: 600; text-decoration: none; }
.mirror-docs-header code { background: #334155; padding: 1px 4px; border-radius: 3px; }
.mirror-docs-loading { padding: 20px; }
.swagger-ui .wrapper { padding: 0 16px; }
`;

/** Serves the API reference at /docs and its files under /docs/. */
export function mountDocs(app: Hono<ApiEnv>, specUrl = '/openapi.json'): void {
  const files: Record<string, { type: string; body: () => string | Buffer }> = {
    'swagger-ui-bundle.js': {
      type: 'text/javascript; charset=utf-8',
      body: cached(() => readFileSync(join(swaggerDir, 'swagger-ui-bundle.js'))),
    },
    'swagger-ui.css': { type: 'text/css; charset=utf-8', body: cached(() => readFileSync(join(swaggerDir, 'swagger-ui.css'))) },
    'init.js': { type: 'text/javascript; charset=utf-8', body: () => init.replace("'/openapi.json'", JSON.stringify(specUrl)) },
    'docs.css': { type: 'text/css; charset=utf-8', body: () => css },
  };
  app.get('/docs', (c) => c.html(page, 200, { 'content-security-policy': contentSecurityPolicy }));
  app.get('/docs/:file', (c) => {
    const file = files[c.req.param('file')];
    if (!file) return c.notFound();
    return c.body(file.body() as never, 200, { 'content-type': file.type, 'cache-control': 'public, max-age=3600' });
  });
}

function cached<T>(load: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= load());
}
