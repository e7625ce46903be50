import { randomBytes } from 'node:crypto';
import type { Logger } from '@mirror/core';
import { createActivity } from './activity/create-activity.ts';
import { createSimulator, type Simulator } from './create-simulator.ts';
import type { SimSize } from './store/generate-store.ts';

export type RunSimulatorOptions = {
  port?: number;
  /** Webhook URL; without it the store stays still. */
  target?: string;
  seed?: number;
  ratePerSecond?: number;
  storeId?: number;
  token?: string;
  clientSecret?: string;
  size?: Partial<SimSize>;
  log: Logger;
};

export type RunningSimulator = {
  storeId: number;
  token: string;
  clientSecret: string;
  /** REST base, e.g. http://127.0.0.1:4000/api/v3 */
  url: string;
  sim: Simulator;
  close(): Promise<void>;
};

/** The standalone simulator: one store over HTTP, plus live activity when `target` is given. */
export async function runSimulatorServer(options: RunSimulatorOptions): Promise<RunningSimulator> {
  const { port = 4000, seed = 1, ratePerSecond = 1, storeId = 1003, log } = options;
  const token = options.token ?? `secret_${randomBytes(16).toString('hex')}`;
  const clientSecret = options.clientSecret ?? randomBytes(16).toString('hex');
  const sim = createSimulator({
    stores: [{ storeId, token, seed, ...(options.size ? { size: options.size } : {}) }],
    clientSecret,
  });
  const server = await sim.listen(port);
  log.info({ url: server.url, storeId }, 'ecwid simulator listening');
  const activity = options.target ? createActivity(sim, { storeId, target: options.target, ratePerSecond, seed }) : undefined;
  if (activity) {
    activity.start();
    log.info({ target: options.target, ratePerSecond }, 'ecwid simulator activity started');
  }
  return {
    storeId,
    token,
    clientSecret,
    url: server.url,
    sim,
    async close() {
      await activity?.stop();
      await server.close();
      log.info({ stats: activity?.stats() }, 'ecwid simulator stopped');
    },
  };
}
