import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { readFixture } from '@mirror/ecwid/testing';
import { Hono } from 'hono';
import { createSimulator, type Simulator, type SimulatorOptions } from './create-simulator.ts';

export const storeId = 1003;
export const token = 'secret_test';

/** An example body from Ecwid's docs (packages/ecwid/test-fixtures). */
export function example(name: string): Record<string, unknown> {
  return readFixture<Record<string, unknown>>(name);
}

export function testSimulator(options: Partial<SimulatorOptions> = {}): Simulator {
  return createSimulator({
    stores: [{ storeId, token, seed: 7 }],
    clientSecret: 'test_client_secret',
    ...options,
  });
}

/** A request to the test store with its token; `init.headers` may override it. */
export async function request(sim: Simulator, path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  return sim.app.request(`/api/v3/${storeId}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, ...init.headers },
  });
}

export async function readJson(res: Response): Promise<any> {
  return res.json();
}

export async function get(sim: Simulator, path: string, headers: Record<string, string> = {}) {
  const res = await request(sim, path, { headers });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as any) : undefined,
  };
}

export type ReceivedWebhook = {
  eventtype: string | undefined;
  headers: Record<string, string>;
  body: string;
};

/** A local webhook endpoint; `answer` picks the status for each delivery. */
export async function startReceiver(answer: (body: any, attempt: number) => number = () => 200) {
  const received: ReceivedWebhook[] = [];
  const attempts = new Map<string, number>();
  const app = new Hono().post('/hooks', async (c) => {
    const body = await c.req.text();
    received.push({
      eventtype: c.req.query('eventtype'),
      headers: Object.fromEntries(c.req.raw.headers),
      body,
    });
    const parsed = JSON.parse(body);
    const attempt = (attempts.get(parsed.eventId) ?? 0) + 1;
    attempts.set(parsed.eventId, attempt);
    return c.body(null, answer(parsed, attempt) as 200);
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
