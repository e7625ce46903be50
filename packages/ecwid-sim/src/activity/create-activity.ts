import type { Simulator } from '../create-simulator.ts';
import { createRandom } from '../random.ts';
import { createStoreFaker } from '../store/generate-store.ts';
import { buildWebhook, type EcwidWebhookBody } from './build-webhook.ts';
import { editCategory, editProduct, editProductType } from './catalog-actions.ts';
import { createDelivery, defaultDeliveryOptions, type DeliveryOptions, type DeliveryStats } from './deliver-webhooks.ts';
import { advanceOrder, checkout, createInvoice, deleteOrder, touchCart } from './order-actions.ts';
import type { ShopAction } from './shop-action.ts';
import { editCoupon, editCustomer, editCustomerGroup, editProfile, editPromotion, editReview, writeStorage } from './store-actions.ts';

/** One webhook caused by a change, as enqueued for delivery. */
export type SimChange = EcwidWebhookBody;

export type ActivityOptions = {
  storeId: number;
  /** Webhook URL; `?eventtype=` is appended like Ecwid does. */
  target: string;
  /** Changes per second while started. */
  ratePerSecond?: number;
  seed?: number;
  delivery?: Partial<DeliveryOptions>;
  fetch?: typeof fetch;
};

export type Activity = {
  start(): void;
  /** Stops making changes, drops retries not yet due and waits for requests in flight. */
  stop(): Promise<void>;
  /** Performs one random change and enqueues its webhooks. */
  step(): Promise<SimChange[]>;
  /** Waits until every queued webhook is delivered or given up. */
  flush(): Promise<void>;
  stats(): DeliveryStats;
};

// Relative frequencies: shops mostly sell and ship; catalogue and settings change less often.
const actions: [weight: number, action: ShopAction][] = [
  [30, checkout],
  [20, advanceOrder],
  [5, createInvoice],
  [1, deleteOrder],
  [10, touchCart],
  [8, editProduct],
  [3, editCategory],
  [1, editProductType],
  [4, editCustomer],
  [1, editCustomerGroup],
  [3, editCoupon],
  [2, editPromotion],
  [5, editReview],
  [2, writeStorage],
  [1, editProfile],
];
const totalWeight = actions.reduce((sum, [weight]) => sum + weight, 0);

/** Makes a store live: changes like a shop's, each followed by signed webhooks to `target`. */
export function createActivity(sim: Simulator, options: ActivityOptions): Activity {
  const store = sim.store(options.storeId);
  const seed = options.seed ?? options.storeId + 1;
  const faker = createStoreFaker(seed);
  const delivery = createDelivery({
    target: options.target,
    fetch: options.fetch ?? globalThis.fetch,
    delivery: { ...defaultDeliveryOptions, ...options.delivery },
    random: createRandom(seed),
  });
  const intervalMs = 1000 / (options.ratePerSecond ?? 1);
  let timer: NodeJS.Timeout | undefined;

  function pickAction(): ShopAction {
    let roll = faker.number.float() * totalWeight;
    for (const [weight, action] of actions) {
      roll -= weight;
      if (roll < 0) return action;
    }
    return checkout;
  }

  async function step(): Promise<SimChange[]> {
    // Some changes do not apply to the current state (no order to ship); try another.
    for (let attempt = 0; attempt < 20; attempt++) {
      const events = pickAction()({ store, faker });
      if (!events.length) continue;
      const eventCreated = store.clock();
      return events.map((event) => {
        const webhook = buildWebhook({ ...event, storeId: store.storeId, eventId: faker.string.uuid(), eventCreated }, sim.clientSecret);
        delivery.enqueue(webhook);
        return webhook.body;
      });
    }
    return [];
  }

  return {
    step,
    start() {
      if (timer) return;
      timer = setInterval(() => void step(), intervalMs);
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      delivery.cancel();
      await delivery.flush();
    },
    flush: delivery.flush,
    stats: () => ({ ...delivery.stats }),
  };
}
