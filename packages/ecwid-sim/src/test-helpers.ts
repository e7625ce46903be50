import { readFileSync } from 'node:fs';
import { createSimulator, type Simulator, type SimulatorOptions } from './create-simulator.ts';

export const storeId = 1003;
export const token = 'secret_test';

/** A copy of an example from /work/shared/ecwid/examples (see fixtures/). */
export function example(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

export function testSimulator(options: Partial<SimulatorOptions> = {}): Simulator {
  return createSimulator({ stores: [{ storeId, token, seed: 7 }], clientSecret: 'test_client_secret', ...options });
}

export async function get(sim: Simulator, path: string, headers: Record<string, string> = {}) {
  const res = await sim.app.request(`/api/v3/${storeId}${path}`, { headers: { Authorization: `Bearer ${token}`, ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as any) : undefined };
}
