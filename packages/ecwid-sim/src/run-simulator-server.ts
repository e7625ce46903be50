import { randomBytes } from 'node:crypto';
import type { Logger } from '@mirror/core';
import { createActivity, type Activity } from './activity/create-activity.ts';
import type { LossyOptions } from './activity/lossy.ts';
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
  /** Makes the live activity lossy (silent changes, dropped webhooks…) and keeps its ground truth. */
  lossy?: Partial<LossyOptions>;
  log: Logger;
};

export type RunningSimulator = {
  storeId: number;
  token: string;
  clientSecret: string;
  /** REST base, e.g. http://127.0.0.1:4000/api/v3 */
  url: string;
  sim: Simulator;
  /** The live activity, when `target` was given. */
  activity: Activity | undefined;
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
  const activity = options.target
    ? createActivity(sim, { storeId, target: options.target, ratePerSecond, seed, ...(options.lossy ? { lossy: options.lossy } : {}) })
    : undefined;
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
    activity,
    async close() {
      await activity?.stop();
      await server.close();
      log.info({ stats: activity?.stats() }, 'ecwid simulator stopped');
    },
  };
}
