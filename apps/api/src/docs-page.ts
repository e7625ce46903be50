/**
 * A self-contained API reference: the page fetches /openapi.json and renders it with a few
 * lines of inline script. Nothing is loaded from the internet, so it works on air-gapped hosts.
 */
export function docsPage(specUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ecwid store mirror — API reference</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #1d2330; background: #fafbfc; }
  main { max-width: 980px; margin: 0 auto; padding: 24px; }
  h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #dde; }
  details { background: #fff; border: 1px solid #dde3ea; border-radius: 6px; margin: 6px 0; }
  summary { cursor: pointer; padding: 8px 12px; font-family: ui-monospace, monospace; }
  .m { display: inline-block; width: 44px; font-weight: 700; color: #0a7d33; }
  .s { color: #556; font-family: system-ui, sans-serif; margin-left: 8px; }
  .body { padding: 0 14px 12px; }
  table { border-collapse: collapse; width: 100%; font-size: 14px; }
  td, th { text-align: left; padding: 4px 8px; border-top: 1px solid #eef; vertical-align: top; }
  code, pre { font-family: ui-monospace, monospace; font-size: 13px; }
  pre { background: #f3f5f8; padding: 8px; overflow: auto; max-height: 320px; }
</style>
</head>
<body>
<main>
<h1>Ecwid store mirror — query API</h1>
<p id="intro">Loading <a href="${specUrl}">${specUrl}</a>…</p>
<p>Every <code>/v1</code> call needs <code>Authorization: Bearer &lt;key&gt;</code>.</p>
<div id="ops"></div>
</main>
<script>
(async () => {
  const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]);
  const spec = await (await fetch(${JSON.stringify(specUrl)})).json();
  document.getElementById('intro').innerHTML = esc(spec.info.description) + ' (OpenAPI ' + esc(spec.openapi) + ', <a href="${specUrl}">JSON</a>)';
  const deref = (s) => { while (s && s.$ref) s = spec.components.schemas[s.$ref.split('/').pop()]; return s || {}; };
  const typeOf = (s) => { s = deref(s); if (s.anyOf) return s.anyOf.map(typeOf).join(' | '); return (s.type || '') + (s.enum ? ' ' + s.enum.join('|') : '') + (s.format ? ' (' + s.format + ')' : ''); };
  const byTag = {};
  for (const [path, item] of Object.entries(spec.paths)) for (const [method, op] of Object.entries(item)) (byTag[(op.tags || ['other'])[0]] ??= []).push({ path, method, op });
  let html = '';
  for (const [tag, ops] of Object.entries(byTag)) {
    html += '<h2>' + esc(tag) + '</h2>';
    for (const { path, method, op } of ops) {
      const params = (op.parameters || []).map((p) => '<tr><td><code>' + esc(p.name) + '</code></td><td>' + esc(p.in) + (p.required ? ', required' : '') + '</td><td>' + esc(typeOf(p.schema)) + '</td><td>' + esc(p.description || p.schema?.description) + '</td></tr>').join('');
      const ok = op.responses?.['200']?.content?.['application/json']?.schema;
      html += '<details><summary><span class="m">' + method.toUpperCase() + '</span>' + esc(path) + '<span class="s">' + esc(op.summary) + '</span></summary><div class="body">' +
        (op.description ? '<p>' + esc(op.description) + '</p>' : '') +
        (params ? '<table><tr><th>parameter</th><th>in</th><th>type</th><th></th></tr>' + params + '</table>' : '') +
        (ok ? '<p>200: <code>' + esc(ok.$ref ? ok.$ref.split('/').pop() : typeOf(ok)) + '</code></p><pre>' + esc(JSON.stringify(deref(ok), null, 2)) + '</pre>' : '') +
        '</div></details>';
    }
  }
  document.getElementById('ops').innerHTML = html;
})().catch((err) => { document.getElementById('intro').textContent = 'Could not load the API description: ' + err; });
</script>
</body>
</html>`;
}
