import { writeFileSync } from 'node:fs';
import { buildWebhook, type WebhookInput } from '@mirror/ecwid-sim';

export type IngestRequestOptions = {
  clientSecret: string;
  storeIds: number[];
  /** Seeds the mix of event types and entities, so every run sends the same sequence. */
  seed?: number;
};

type Template = Omit<WebhookInput, 'storeId' | 'eventId' | 'eventCreated'>;

const paymentStatuses = ['AWAITING_PAYMENT', 'PAID', 'CANCELLED', 'REFUNDED'];
const fulfillmentStatuses = ['AWAITING_PROCESSING', 'PROCESSING', 'SHIPPED', 'DELIVERED'];

// Shaped like the simulator's activity (packages/ecwid-sim/src/activity): shops mostly sell,
// ship and touch carts; the catalogue and settings change less often.
const mix: [weight: number, make: (r: Random) => Template][] = [
  [
    22,
    (r) => ({
      eventType: 'order.created',
      entityId: r.orderId(),
      data: {
        orderId: r.publicId(),
        newPaymentStatus: r.pick(paymentStatuses),
        newFulfillmentStatus: 'AWAITING_PROCESSING',
      },
    }),
  ],
  [
    20,
    (r) => ({
      eventType: 'order.updated',
      entityId: r.orderId(),
      data: {
        orderId: r.publicId(),
        oldPaymentStatus: 'PAID',
        newPaymentStatus: 'PAID',
        oldFulfillmentStatus: r.pick(fulfillmentStatuses),
        newFulfillmentStatus: r.pick(fulfillmentStatuses),
      },
    }),
  ],
  [20, (r) => ({ eventType: 'product.updated', entityId: r.int(100_000_000, 800_000_000) })],
  [
    8,
    (r) => ({
      eventType: 'customer.updated',
      entityId: r.int(10_000_000, 300_000_000),
      data: { customerEmail: `customer${r.int(1, 99_999)}@example.com` },
    }),
  ],
  [
    3,
    (r) => ({
      eventType: 'customer.created',
      entityId: r.int(10_000_000, 300_000_000),
      data: { customerEmail: `customer${r.int(1, 99_999)}@example.com` },
    }),
  ],
  [
    8,
    (r) => ({
      eventType: 'unfinished_order.created',
      entityId: r.orderId(),
      data: { orderId: r.publicId(), cartId: r.uuid().toUpperCase() },
    }),
  ],
  [
    6,
    (r) => ({
      eventType: 'unfinished_order.updated',
      entityId: r.orderId(),
      data: { orderId: r.publicId(), cartId: r.uuid().toUpperCase() },
    }),
  ],
  [
    4,
    (r) => ({
      eventType: 'invoice.created',
      entityId: r.int(1, 9_999_999),
      data: { orderId: r.publicId() },
    }),
  ],
  [3, (r) => ({ eventType: 'category.updated', entityId: r.int(100_000_000, 200_000_000) })],
  [
    2,
    (r) => ({
      eventType: 'review.updated',
      entityId: r.int(1, 9_999_999),
      data: {
        productId: r.int(100_000_000, 800_000_000),
        orderId: r.orderId(),
        status: 'PUBLISHED',
      },
    }),
  ],
  [2, (r) => ({ eventType: 'discount_coupon.updated', entityId: r.int(1, 99_999_999) })],
  [1, (r) => ({ eventType: 'order.deleted', entityId: r.orderId(), data: { orderId: r.publicId() } })],
  // The store id, quoted: filled in below once the store is picked.
  [1, () => ({ eventType: 'application.storageChanged', entityId: 0 })],
];
const totalWeight = mix.reduce((sum, [weight]) => sum + weight, 0);

/**
 * Ecwid-shaped webhook bodies for bench/wrk/ingest.lua, one a line: `path<TAB>rest`, where the
 * body is `{"eventId":"<id>","eventCreated":<seconds>` + rest. wrk fills in a fresh eventId and
 * the time and signs each request itself; the mix of templates is seeded, so every run sends
 * the same sequence.
 */
export function writeIngestTemplates(options: IngestRequestOptions, file: string): void {
  const random = createRandom(options.seed ?? 42);
  const lines: string[] = [];
  const head = `{"eventId":"${marker}","eventCreated":0`;
  for (let i = 0; i < 4096; i++) {
    let roll = random.float() * totalWeight;
    const [, make] = mix.find(([weight]) => (roll -= weight) < 0) ?? mix[0]!;
    const template = make(random);
    const storeId = random.pick(options.storeIds);
    const { body, json } = buildWebhook(
      {
        ...template,
        storeId,
        ...(template.eventType.startsWith('application.') && { entityId: storeId }),
        eventId: marker,
        eventCreated: 0,
      },
      options.clientSecret,
    );
    if (!json.startsWith(head)) throw new Error(`buildWebhook no longer starts with eventId, eventCreated: ${json.slice(0, 60)}`);
    // Ecwid appends ?eventtype=…; ingest ignores it, but it is part of the real request.
    lines.push(`/webhooks/ecwid?eventtype=${body.eventType}\t${json.slice(head.length)}`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

const marker = 'EVENT-ID';

type Random = ReturnType<typeof createRandom>;

/** mulberry32: small, fast, seedable. */
function createRandom(seed: number) {
  let state = seed >>> 0;
  const float = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(float() * (max - min + 1));
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
  return {
    float,
    int,
    pick: <T>(items: readonly T[]): T => items[Math.floor(float() * items.length)]!,
    uuid: () => {
      const hex = Array.from({ length: 32 }, () => int(0, 15).toString(16)).join('');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    },
    orderId: () => int(100_000_000, 900_000_000),
    publicId: () => Array.from({ length: 5 }, () => alphabet[int(0, alphabet.length - 1)]).join(''),
  };
}
