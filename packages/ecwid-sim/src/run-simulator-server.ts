import { randomBytes } from 'node:crypto';
import type { Logger } from '@mirror/core';
import { createActivity, type Activity, type RunSummary } from './activity/create-activity.ts';
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
  /** Access scopes the store granted (default: every one). */
  scopes?: readonly string[];
  clientSecret?: string;
  size?: Partial<SimSize>;
  /** Makes the live activity lossy (silent changes, dropped webhooks…) and keeps its ground truth. */
  lossy?: Partial<LossyOptions>;
  /**
   * With `target`: make this many changes at once, as fast as their webhooks are answered (a
   * simulated day), instead of `ratePerSecond` changes a second; then keep serving the REST API.
   */
  changes?: number;
  /** Called when the `changes` are made and every webhook is settled. */
  onChangesDone?: (summary: RunSummary) => void;
  log: Logger;
};

export type RunningSimulator = {
  storeId: number;
  token: string;
  clientSecret: string;
  /** REST base, e.g. http://127.0.0.1:4000/api/v3 */
  url: string;
  /** OAuth base (`/authorize`, `/token`), e.g. http://127.0.0.1:4000/api/oauth */
  oauthUrl: string;
  /** The app's client_id at the OAuth endpoints. */
  clientId: string;
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
    stores: [
      { storeId, token, seed, ...(options.size ? { size: options.size } : {}), ...(options.scopes ? { scopes: options.scopes } : {}) },
    ],
    clientSecret,
  });
  const server = await sim.listen(port);
  log.info({ url: server.url, storeId }, 'ecwid simulator listening');
  const activity = options.target
    ? createActivity(sim, { storeId, target: options.target, ratePerSecond, seed, ...(options.lossy ? { lossy: options.lossy } : {}) })
    : undefined;
  if (activity && options.changes !== undefined) {
    const count = options.changes;
    log.info({ target: options.target, changes: count }, 'ecwid simulator making its changes');
    void activity.runChanges(count, { concurrency: 4 }).then(
      (summary) => {
        log.info({ summary }, 'ecwid simulator changes done');
        options.onChangesDone?.(summary);
      },
      (err: unknown) => log.error({ err }, 'ecwid simulator changes failed'),
    );
  } else if (activity) {
    activity.start();
    log.info({ target: options.target, ratePerSecond }, 'ecwid simulator activity started');
  }
  return {
    storeId,
    token,
    clientSecret,
    url: server.url,
    oauthUrl: server.oauthUrl,
    clientId: sim.clientId,
    sim,
    activity,
    async close() {
      await activity?.stop();
      await server.close();
      log.info({ stats: activity?.stats() }, 'ecwid simulator stopped');
    },
  };
}
