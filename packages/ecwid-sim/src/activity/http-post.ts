import { Agent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

const agents = { http: new Agent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/**
 * The part of `fetch` the webhook delivery uses (one POST, the answer's status), on node:http
 * with kept-alive connections. The simulated Ecwid shares its machine with the mirror in tests,
 * the demo and bench:lag, where its CPU is the load generator's, not the product's: undici's
 * fetch cost about 1 ms of CPU per webhook there (Request, Headers, streams), which this does
 * not (docs/decisions/0015-freshness-pipelined-passes.md). The answer's body is read and dropped.
 */
export const httpPost: typeof fetch = (input, init = {}) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const https = url.protocol === 'https:';
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const body = typeof init.body === 'string' ? init.body : undefined;
    if (init.body != null && body === undefined) throw new TypeError('httpPost sends string bodies only');
    const options = {
      method: init.method ?? 'POST',
      headers,
      agent: https ? agents.https : agents.http,
      ...(init.signal && { signal: init.signal }),
    };
    const req = (https ? httpsRequest : httpRequest)(url, options, (res) => {
      res.resume();
      res.once('end', () => resolve(new Response(null, { status: res.statusCode ?? 500 })));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });
