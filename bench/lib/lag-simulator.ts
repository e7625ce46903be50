/**
 * bench:lag's simulated Ecwid in a process of its own: the REST server (50 ms latency, gzip)
 * and the activity generator sending signed webhooks. In production Ecwid is elsewhere, so its
 * CPU (documents, gzip, webhook signing) stays out of the measured process.
 */
import { createActivity, createSimulator, type Activity, type SimServer, type SimStoreOptions } from '@mirror/ecwid-sim';
import { serveParent } from './child.ts';

let sim: ReturnType<typeof createSimulator> | undefined;
let server: SimServer | undefined;
let storeIds: number[] = [];
let activities: Activity[] = [];

serveParent({
  async listen(arg: { stores: SimStoreOptions[]; latencyMs: number }) {
    storeIds = arg.stores.map((s) => s.storeId);
    sim = createSimulator({ stores: arg.stores, faults: { latencyMs: arg.latencyMs } });
    server = await sim.listen(0);
    return { url: server.url, clientSecret: sim.clientSecret };
  },
  start(arg: { target: string; ratePerSecond: number }) {
    activities = storeIds.map((storeId) => createActivity(sim!, { storeId, target: arg.target, ratePerSecond: arg.ratePerSecond }));
    for (const a of activities) a.start();
  },
  requests: () => sim!.stats.requests(),
  stop: () => Promise.all(activities.map((a) => a.stop())),
  async close() {
    await Promise.all(activities.map((a) => a.stop()));
    await server?.close();
  },
});
