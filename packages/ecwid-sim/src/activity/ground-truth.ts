import { createHash } from 'node:crypto';
import { parseEcwidDate } from '../dates.ts';
import { publicOrderId } from '../store/id-source.ts';
import type { SimChangeTarget, SimKind, SimStore } from '../store/sim-store.ts';
import type { EcwidWebhookBody } from './build-webhook.ts';

/** The mirror's entity kinds that the activity changes (packages/catalog's names). */
export type TruthKind =
  | 'order'
  | 'abandoned_cart'
  | 'product'
  | 'category'
  | 'customer'
  | 'customer_group'
  | 'discount_coupon'
  | 'promotion'
  | 'product_type'
  | 'review'
  | 'invoice'
  | 'app_storage'
  | 'store_profile';

export const truthKinds: readonly TruthKind[] = [
  'order',
  'abandoned_cart',
  'product',
  'category',
  'customer',
  'customer_group',
  'discount_coupon',
  'promotion',
  'product_type',
  'review',
  'invoice',
  'app_storage',
  'store_profile',
];

/**
 * What became of a change's webhook: `silent` (the change sent none), `dropped` (Ecwid gave up
 * before any attempt reached the target), `pending` (queued or in flight), `delivered` (at least
 * one copy was acknowledged), `failed` (every copy was refused or timed out until retries ran out).
 */
export type TruthFate = 'silent' | 'dropped' | 'pending' | 'delivered' | 'failed';

/** One change the activity made to one entity, and its webhook's fate. */
export type TruthChange = {
  /** 1-based, in the order the changes were made. */
  seq: number;
  /** The activity change (one shop action) it belongs to: one checkout is one step, several changes. */
  step: number;
  /** `eventCreated` of its webhook: the store's clock, seconds. */
  at: number;
  kind: TruthKind;
  /**
   * The mirror's key of the document the webhook names: the public order id for orders and
   * invoices (an order's invoices are one document), the cart UUID, the store id for
   * `app_storage` and `store_profile`, otherwise the numeric id as text.
   */
  entityId: string;
  /** `entityId` of the webhook body (the internal order id for orders, carts and invoices). */
  webhookEntityId: number | string;
  eventType: string;
  action: 'created' | 'updated' | 'deleted';
  /** Generated for silent changes too (never sent), so a seed gives the same ids with or without losses. */
  eventId: string;
  fate: TruthFate;
  /** A second copy was sent. */
  duplicated: boolean;
  /** Held back so that later webhooks overtook it. */
  reordered: boolean;
  /** Copies acknowledged by the target (2 for a delivered duplicate). */
  deliveries: number;
};

/** `missing`: in the store, not in the mirror; `stale`: in both, different; `missedDelete`: gone from the store, still in the mirror. */
export type TruthStatus = 'missing' | 'stale' | 'missedDelete';

/** One row the mirror has wrong at the end of the day. */
export type TruthEntity = {
  kind: TruthKind;
  entityId: string;
  /** For `invoice` and `app_storage` (one document, many rows): the invoice id or the storage key. */
  itemId?: string;
  status: TruthStatus;
  /**
   * Stale, and the mirror's copy has the same update time (seconds) as the store's: a check by
   * `updateTimestamp`/`updated`/`updateDate` alone cannot see it. Only for kinds that have one.
   */
  sameSecond?: boolean;
};

export type KindTruth = {
  /** Rows that differ between the start of the day and now: what a mirror that got no webhook would have wrong. */
  changedOverDay: number;
  missing: number;
  stale: number;
  /** Of `stale`, rows whose update time (seconds) is the same in the mirror and the store (`TruthEntity.sameSecond`). */
  staleSameSecond: number;
  missedDeletes: number;
  /** Changed (created or updated) without a webhook that reached the mirror: `missing + stale`. */
  changed: number;
  /** Deleted without a webhook that reached the mirror: `missedDeletes`. */
  deleted: number;
};

/**
 * When the mirror reads the entity a delivered webhook names: `onDelivery`, right away (a live
 * mirror that keeps up); `atEnd`, after the day, once every delivered webhook is processed (a
 * mirror whose workers run after `runChanges`).
 */
export type TruthReads = 'onDelivery' | 'atEnd';

export type GroundTruth = {
  reads: TruthReads;
  /** Activity changes (shop actions) made since the day began. */
  steps: number;
  changes: TruthChange[];
  webhooks: {
    /** One per change. */
    total: number;
    silent: number;
    dropped: number;
    /** Sent at least once (pending, delivered or failed). */
    sent: number;
    delivered: number;
    failed: number;
    pending: number;
    duplicated: number;
    reordered: number;
    /** Acknowledged copies, duplicates included: what a target counting requests saw succeed. */
    deliveries: number;
  };
  byKind: Record<TruthKind, KindTruth>;
  /** Every row the mirror has wrong, by the definition in the README. */
  entities: TruthEntity[];
};

type Fingerprint = { hash: string; stamp: number | undefined };
/** A document's rows: one for an entity, one per invoice or storage key for a set. */
type DocState = Map<string, Fingerprint>;

type TrackedDoc = {
  kind: TruthKind;
  key: string;
  initial: DocState;
  /** Bumped before each write to the document; `fetched` is reused while it stays the same. */
  version: number;
  fetched: DocState | undefined;
  fetchedVersion: number;
  deliveries: number;
};

const eventKinds: Record<string, TruthKind> = {
  order: 'order',
  unfinished_order: 'abandoned_cart',
  product: 'product',
  category: 'category',
  customer: 'customer',
  customer_group: 'customer_group',
  discount_coupon: 'discount_coupon',
  promotion: 'promotion',
  product_class: 'product_type',
  review: 'review',
  invoice: 'invoice',
  application: 'app_storage',
  profile: 'store_profile',
};

const tableKinds: Record<SimKind, TruthKind> = {
  orders: 'order',
  carts: 'abandoned_cart',
  products: 'product',
  categories: 'category',
  customers: 'customer',
  customerGroups: 'customer_group',
  coupons: 'discount_coupon',
  promotions: 'promotion',
  productTypes: 'product_type',
  reviews: 'review',
};

type EntityTruthKind = 'product' | 'category' | 'customer' | 'customer_group' | 'discount_coupon' | 'promotion' | 'product_type' | 'review';

const entityTables: Record<EntityTruthKind, Exclude<SimKind, 'orders' | 'carts'>> = {
  product: 'products',
  category: 'categories',
  customer: 'customers',
  customer_group: 'customerGroups',
  discount_coupon: 'coupons',
  promotion: 'promotions',
  product_type: 'productTypes',
  review: 'reviews',
};

function hash(value: unknown): string {
  return createHash('sha1').update(JSON.stringify(value)).digest('base64');
}

// The update time a cheap listing would compare, in seconds; none for categories and friends.
function stampOf(kind: TruthKind, doc: Record<string, unknown>): number | undefined {
  if (kind === 'customer') return parseEcwidDate(String(doc['updated']));
  if (kind === 'discount_coupon') return parseEcwidDate(String(doc['updateDate']));
  return typeof doc['updateTimestamp'] === 'number' ? doc['updateTimestamp'] : undefined;
}

function entityState(kind: TruthKind, key: string, doc: object | undefined): DocState {
  const state: DocState = new Map();
  if (doc) state.set(key, { hash: hash(doc), stamp: stampOf(kind, doc as Record<string, unknown>) });
  return state;
}

/**
 * The activity's ground truth: every change it made, its webhook's fate, and each touched
 * document's state at the start of the day and whenever the mirror would have read it.
 * States are fingerprints of the stored documents (own fields only: derived fields such as a
 * category's `productCount` are rendered, never stored, so they never count as a change).
 */
export class TruthRecorder {
  readonly #store: SimStore;
  readonly #docs = new Map<string, TrackedDoc>();
  readonly #byEventId = new Map<string, { change: TruthChange; doc: TrackedDoc; outstanding: number }>();
  #changes: TruthChange[] = [];
  #steps = 0;

  constructor(store: SimStore) {
    this.#store = store;
  }

  /** Forgets everything: the mirror is taken to equal the store from now on. */
  reset(): void {
    this.#docs.clear();
    this.#byEventId.clear();
    this.#changes = [];
    this.#steps = 0;
  }

  /** `SimStore.beforeChange`: keeps the state of each document before its first write of the day. */
  beforeChange(target: SimChangeTarget, key: number | string): void {
    if (target === 'storage') this.#track('app_storage', String(this.#store.storeId)).version++;
    else if (target === 'profile') this.#track('store_profile', String(this.#store.storeId)).version++;
    else if (target === 'orders') {
      const orderId = this.#store.orders.get(Number(key))?.id ?? publicOrderId(Number(key));
      this.#track('order', orderId).version++;
      this.#track('invoice', orderId).version++;
    } else this.#track(tableKinds[target], String(key)).version++;
  }

  stepDone(): number {
    return ++this.#steps;
  }

  /** Records one change; `sent` webhooks stay `pending` until `settled` reports each copy. */
  record(
    body: EcwidWebhookBody,
    plan: { fate: 'silent' | 'dropped' | 'sent'; duplicate: boolean; reordered: boolean },
    step: number,
  ): TruthChange {
    const [prefix = '', action = ''] = body.eventType.split('.');
    const kind = eventKinds[prefix];
    if (!kind) throw new Error(`no mirror kind for ${body.eventType}`);
    const key = this.#documentKey(kind, body);
    const doc = this.#track(kind, key);
    const change: TruthChange = {
      seq: this.#changes.length + 1,
      step,
      at: body.eventCreated,
      kind,
      entityId: key,
      webhookEntityId: body.entityId,
      eventType: body.eventType,
      action: action === 'created' || action === 'deleted' ? action : 'updated',
      eventId: body.eventId,
      fate: plan.fate === 'sent' ? 'pending' : plan.fate,
      duplicated: plan.duplicate,
      reordered: plan.reordered,
      deliveries: 0,
    };
    this.#changes.push(change);
    if (plan.fate === 'sent') this.#byEventId.set(body.eventId, { change, doc, outstanding: plan.duplicate ? 2 : 1 });
    return change;
  }

  /** The delivery decided on a second copy itself (an activity without `lossy`). */
  duplicated(eventId: string): void {
    const entry = this.#byEventId.get(eventId);
    if (!entry) return;
    entry.change.duplicated = true;
    entry.outstanding++;
  }

  /** One copy's outcome; a delivered copy is a read of the document's current state. */
  settled(eventId: string, delivered: boolean): void {
    const entry = this.#byEventId.get(eventId);
    if (!entry) return;
    entry.outstanding--;
    if (delivered) {
      entry.change.deliveries++;
      entry.change.fate = 'delivered';
      const doc = entry.doc;
      doc.deliveries++;
      if (!doc.fetched || doc.fetchedVersion !== doc.version) {
        doc.fetched = this.#read(doc.kind, doc.key) ?? new Map();
        doc.fetchedVersion = doc.version;
      }
    } else if (entry.outstanding === 0 && entry.change.deliveries === 0) entry.change.fate = 'failed';
  }

  summarize(reads: TruthReads): GroundTruth {
    const byKind = Object.fromEntries(
      truthKinds.map((kind) => [
        kind,
        { changedOverDay: 0, missing: 0, stale: 0, staleSameSecond: 0, missedDeletes: 0, changed: 0, deleted: 0 },
      ]),
    ) as Record<TruthKind, KindTruth>;
    const entities: TruthEntity[] = [];
    for (const doc of this.#docs.values()) {
      const current = this.#read(doc.kind, doc.key);
      // The invoices of an order deleted today: no invoice webhook tells of them (they follow the order).
      if (!current) continue;
      const mirror = reads === 'atEnd' ? (doc.deliveries ? current : doc.initial) : (doc.fetched ?? doc.initial);
      const counts = byKind[doc.kind];
      const set = doc.kind === 'invoice' || doc.kind === 'app_storage';
      for (const itemId of new Set([...doc.initial.keys(), ...current.keys(), ...mirror.keys()])) {
        const now = current.get(itemId);
        const seen = mirror.get(itemId);
        if (doc.initial.get(itemId)?.hash !== now?.hash) counts.changedOverDay++;
        let status: TruthStatus | undefined;
        if (now && !seen) status = 'missing';
        else if (!now && seen) status = 'missedDelete';
        else if (now && seen && now.hash !== seen.hash) status = 'stale';
        if (!status) continue;
        const sameSecond = status === 'stale' && seen?.stamp !== undefined ? seen.stamp === now?.stamp : undefined;
        if (status === 'missing') counts.missing++;
        else if (status === 'stale') counts.stale++;
        else counts.missedDeletes++;
        if (sameSecond) counts.staleSameSecond++;
        entities.push({
          kind: doc.kind,
          entityId: doc.key,
          ...(set ? { itemId } : {}),
          status,
          ...(sameSecond === undefined ? {} : { sameSecond }),
        });
      }
    }
    for (const counts of Object.values(byKind)) {
      counts.changed = counts.missing + counts.stale;
      counts.deleted = counts.missedDeletes;
    }
    const changes = this.#changes.map((change) => ({ ...change }));
    const count = (fate: TruthFate) => changes.filter((change) => change.fate === fate).length;
    const sent = changes.filter((change) => change.fate !== 'silent' && change.fate !== 'dropped');
    return {
      reads,
      steps: this.#steps,
      changes,
      webhooks: {
        total: changes.length,
        silent: count('silent'),
        dropped: count('dropped'),
        sent: sent.length,
        delivered: count('delivered'),
        failed: count('failed'),
        pending: count('pending'),
        duplicated: sent.filter((change) => change.duplicated).length,
        reordered: sent.filter((change) => change.reordered).length,
        deliveries: changes.reduce((sum, change) => sum + change.deliveries, 0),
      },
      byKind,
      entities,
    };
  }

  #documentKey(kind: TruthKind, body: EcwidWebhookBody): string {
    const data = body.data ?? {};
    if (kind === 'order' || kind === 'invoice') return String(data['orderId']);
    if (kind === 'abandoned_cart') return String(data['cartId']);
    if (kind === 'app_storage' || kind === 'store_profile') return String(this.#store.storeId);
    return String(body.entityId);
  }

  /** The document's record, keeping its current state as the day's start the first time. */
  #track(kind: TruthKind, key: string): TrackedDoc {
    const id = `${kind}:${key}`;
    let doc = this.#docs.get(id);
    if (!doc) {
      doc = { kind, key, initial: this.#read(kind, key) ?? new Map(), version: 0, fetched: undefined, fetchedVersion: -1, deliveries: 0 };
      this.#docs.set(id, doc);
    }
    return doc;
  }

  /** The document's rows now; undefined for the invoices of an order that no longer exists. */
  #read(kind: TruthKind, key: string): DocState | undefined {
    const store = this.#store;
    switch (kind) {
      case 'order':
        return entityState(kind, key, store.findOrder(key));
      case 'abandoned_cart':
        return entityState(kind, key, store.carts.get(key));
      case 'invoice': {
        const order = store.findOrder(key);
        if (!order) return undefined;
        return new Map(order.invoices.map((invoice) => [invoice.id, { hash: hash(invoice), stamp: undefined }]));
      }
      case 'app_storage':
        return new Map(Array.from(store.storage, ([storageKey, value]) => [storageKey, { hash: hash(value), stamp: undefined }]));
      case 'store_profile':
        return entityState(kind, key, store.profile);
      case 'product':
      case 'category':
      case 'customer':
      case 'customer_group':
      case 'discount_coupon':
      case 'promotion':
      case 'product_type':
      case 'review':
        return entityState(kind, key, store.table(entityTables[kind]).get(Number(key)));
    }
  }
}
