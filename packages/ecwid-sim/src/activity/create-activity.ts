import type { Simulator } from '../create-simulator.ts';
import { createRandom } from '../random.ts';
import { createStoreFaker } from '../store/generate-store.ts';
import { buildWebhook, type EcwidWebhookBody, type SignedWebhook } from './build-webhook.ts';
import { editCategory, editProduct, editProductType } from './catalog-actions.ts';
import { createDelivery, defaultDeliveryOptions, type DeliveryOptions, type DeliveryStats } from './deliver-webhooks.ts';
import { httpPost } from './http-post.ts';
import { TruthRecorder, type GroundTruth, type TruthReads } from './ground-truth.ts';
import { createWebhookPlanner, defaultLossyOptions, type LossyOptions, type WebhookPlan } from './lossy.ts';
import { advanceOrder, checkout, createInvoice, deleteInvoice, deleteOrder, touchCart } from './order-actions.ts';
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
  /** How webhooks are POSTed (tests inject failures here); default: node:http (httpPost). */
  fetch?: typeof fetch;
  /**
   * A lossy day: silent changes, dropped, duplicated and reordered webhooks, all decided by the
   * seed. Without it, `step`/`start` behave as before (duplicates and delays from `delivery`).
   */
  lossy?: Partial<LossyOptions>;
  /** Keep the ground truth for `groundTruth()`; on by default when `lossy` is given. */
  truth?: boolean;
};

export type RunChangesOptions = {
  /** Deliveries in flight at once (default 1: each is answered before the next change). */
  concurrency?: number;
  /** Called before each change, e.g. to move a fake clock given to `createSimulator({ now })`. */
  beforeChange?: (index: number) => void;
};

/** What one `runChanges` call did, counted per webhook (a change may send several). */
export type RunSummary = {
  /** Activity changes made (shop actions). */
  steps: number;
  /** Webhooks the changes would send, one per changed entity. */
  webhooks: number;
  silent: number;
  dropped: number;
  /** Webhooks sent (each at least once). */
  sent: number;
  /** Sent webhooks with at least one acknowledged copy. */
  delivered: number;
  /** Sent webhooks whose every copy failed, retries included. */
  failed: number;
  duplicated: number;
  reordered: number;
};

export type Activity = {
  start(): void;
  /** Stops making changes, drops retries not yet due and waits for requests in flight. */
  stop(): Promise<void>;
  /** Performs one random change and enqueues its webhooks (those not silent or dropped). */
  step(): Promise<SimChange[]>;
  /** Waits until every queued webhook is delivered or given up. */
  flush(): Promise<void>;
  stats(): DeliveryStats;
  /**
   * A simulated day, fast: `count` changes, each followed at once by its webhooks (no delays;
   * retries are immediate), with the `lossy` options. Resolves when every webhook is settled.
   */
  runChanges(count: number, options?: RunChangesOptions): Promise<RunSummary>;
  /**
   * Every change since the day began, each webhook's fate, and per mirror kind what the mirror
   * has wrong (packages/ecwid-sim/README.md, "Ground truth"). Throws unless `truth` is on.
   */
  groundTruth(options?: { reads?: TruthReads }): GroundTruth;
  /** Starts a new day: the mirror is taken to equal the store now (e.g. right after a reconcile). */
  resetTruth(): void;
};

// Relative frequencies: shops mostly sell and ship; catalogue and settings change less often.
const actions: [weight: number, action: ShopAction][] = [
  [30, checkout],
  [20, advanceOrder],
  [5, createInvoice],
  [1, deleteInvoice],
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

type PlannedWebhook = { webhook: SignedWebhook; plan: WebhookPlan };

/** Makes a store live: changes like a shop's, each followed by signed webhooks to `target`. */
export function createActivity(sim: Simulator, options: ActivityOptions): Activity {
  const store = sim.store(options.storeId);
  const seed = options.seed ?? options.storeId + 1;
  const faker = createStoreFaker(seed);
  const deliveryOptions = { ...defaultDeliveryOptions, ...options.delivery };
  const lossy: LossyOptions = { ...defaultLossyOptions, duplicateRate: deliveryOptions.duplicateRate, ...options.lossy };
  // Its own generator: losses never disturb which changes a seed makes.
  const planWebhook = createWebhookPlanner(lossy, createRandom(seed ^ 0x5f3759df));
  const truth = (options.truth ?? options.lossy !== undefined) ? new TruthRecorder(store) : undefined;
  if (truth) store.beforeChange = (target, key) => truth.beforeChange(target, key);
  const delivery = createDelivery({
    target: options.target,
    fetch: options.fetch ?? httpPost,
    delivery: deliveryOptions,
    random: createRandom(seed),
    hooks: truth ? { onSettled: (webhook, delivered) => truth.settled(webhook.body.eventId, delivered) } : {},
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

  const inOrder: WebhookPlan = { fate: 'sent', duplicate: false, hold: 0, duplicateLag: 0 };

  /** One shop action and the webhooks it would send, each with its fate (recorded in the truth). */
  function change(lossless: boolean): PlannedWebhook[] {
    // Some changes do not apply to the current state (no order to ship); try another.
    for (let attempt = 0; attempt < 20; attempt++) {
      const events = pickAction()({ store, faker });
      if (!events.length) continue;
      const eventCreated = store.clock();
      const step = truth?.stepDone() ?? 0;
      return events.map((event) => {
        const webhook = buildWebhook({ ...event, storeId: store.storeId, eventId: faker.string.uuid(), eventCreated }, sim.clientSecret);
        const plan = lossless ? inOrder : planWebhook();
        truth?.record(webhook.body, { fate: plan.fate, duplicate: plan.duplicate, reordered: plan.hold > 0 }, step);
        return { webhook, plan };
      });
    }
    return [];
  }

  async function step(): Promise<SimChange[]> {
    // Without `lossy`, the delivery draws duplicates itself, as it always did.
    const planned = change(options.lossy === undefined);
    const sent: SimChange[] = [];
    for (const { webhook, plan } of planned) {
      if (plan.fate !== 'sent') continue;
      if (options.lossy !== undefined) delivery.enqueue(webhook, { duplicate: plan.duplicate, holdMs: plan.hold * intervalMs });
      else if (delivery.enqueue(webhook)) truth?.duplicated(webhook.body.eventId);
      sent.push(webhook.body);
    }
    return sent;
  }

  async function runChanges(count: number, run: RunChangesOptions = {}): Promise<RunSummary> {
    const concurrency = Math.max(1, run.concurrency ?? 1);
    const summary: RunSummary = {
      steps: 0,
      webhooks: 0,
      silent: 0,
      dropped: 0,
      sent: 0,
      delivered: 0,
      failed: 0,
      duplicated: 0,
      reordered: 0,
    };
    const outcome = new Map<string, boolean>();
    // Copies waiting for their turn: `due` is the change after which they go out.
    let queue: { due: number; order: number; webhook: SignedWebhook; duplicate: boolean }[] = [];
    let order = 0;
    const inFlight = new Set<Promise<void>>();

    async function send(webhook: SignedWebhook, duplicate: boolean) {
      const delivered = await delivery.deliverNow(webhook, duplicate);
      outcome.set(webhook.body.eventId, (outcome.get(webhook.body.eventId) ?? false) || delivered);
    }

    async function sendDue(upTo: number) {
      const due = queue.filter((copy) => copy.due <= upTo).sort((a, b) => a.due - b.due || a.order - b.order);
      if (!due.length) return;
      queue = queue.filter((copy) => copy.due > upTo);
      for (const copy of due) {
        if (concurrency === 1) {
          await send(copy.webhook, copy.duplicate);
          continue;
        }
        const sending = send(copy.webhook, copy.duplicate).finally(() => inFlight.delete(sending));
        inFlight.add(sending);
        if (inFlight.size >= concurrency) await Promise.race(inFlight);
      }
    }

    for (let index = 0; index < count; index++) {
      run.beforeChange?.(index);
      const planned = change(false);
      summary.steps++;
      for (const { webhook, plan } of planned) {
        summary.webhooks++;
        if (plan.fate !== 'sent') {
          summary[plan.fate]++;
          continue;
        }
        summary.sent++;
        outcome.set(webhook.body.eventId, false);
        if (plan.hold) summary.reordered++;
        queue.push({ due: index + plan.hold, order: order++, webhook, duplicate: false });
        if (plan.duplicate) {
          summary.duplicated++;
          queue.push({ due: index + plan.duplicateLag, order: order++, webhook, duplicate: true });
        }
      }
      await sendDue(index);
    }
    await sendDue(Infinity);
    await Promise.all(inFlight);
    for (const delivered of outcome.values()) summary[delivered ? 'delivered' : 'failed']++;
    return summary;
  }

  return {
    step,
    runChanges,
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
    groundTruth(truthOptions = {}) {
      if (!truth) throw new Error('this activity keeps no ground truth: create it with `lossy` or `truth: true`');
      return truth.summarize(truthOptions.reads ?? 'onDelivery');
    },
    resetTruth() {
      truth?.reset();
    },
  };
}
