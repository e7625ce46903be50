import { gzipSync } from 'node:zlib';
import type { MiddlewareHandler } from 'hono';

// Below this an answer is sent as it is (hono/compress's threshold).
const minBytes = 1024;

/**
 * Gzips answers when the client accepts gzip, as Ecwid does, so the mirror's client pays for
 * unzipping as it does in production. At level 1 and in one call, not through hono/compress (a
 * CompressionStream at the default level): the simulator shares its machine with the mirror in
 * tests, the demo and bench:lag, and its CPU there is the load generator's. The client's cost is
 * about the same whatever the level (docs/decisions/0015-freshness-pipelined-passes.md).
 */
export function gzipAnswers(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header('Vary', 'Accept-Encoding', { append: true });
    if (!/\bgzip\b/i.test(c.req.header('accept-encoding') ?? '') || c.res.headers.has('content-encoding') || c.res.body === null) return;
    const body = Buffer.from(await c.res.arrayBuffer());
    if (body.length < minBytes) {
      c.res = new Response(body, c.res);
      return;
    }
    c.res = new Response(gzipSync(body, { level: 1 }), c.res);
    c.res.headers.set('Content-Encoding', 'gzip');
    c.res.headers.delete('Content-Length');
  };
}
