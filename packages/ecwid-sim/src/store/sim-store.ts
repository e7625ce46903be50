import type { Faker } from '@faker-js/faker';
import { formatEcwidDate } from '../dates.ts';
import type { SimCart } from '../documents/cart.ts';
import type { SimCategory } from '../documents/category.ts';
import type { SimCustomer, SimCustomerGroup } from '../documents/customer.ts';
import type { SimCoupon, SimPromotion } from '../documents/discounts.ts';
import type { SimOrder } from '../documents/order.ts';
import type { SimProduct } from '../documents/product.ts';
import type { SimProductType } from '../documents/product-type.ts';
import type { SimApplication, SimProfile } from '../documents/profile.ts';
import type { SimReview } from '../documents/review.ts';
import { EntityTable } from './entity-table.ts';
import type { IdSource } from './id-source.ts';

export type SimDocs = {
  orders: SimOrder;
  carts: SimCart;
  products: SimProduct;
  categories: SimCategory;
  customers: SimCustomer;
  customerGroups: SimCustomerGroup;
  coupons: SimCoupon;
  promotions: SimPromotion;
  productTypes: SimProductType;
  reviews: SimReview;
};
export type SimKind = keyof SimDocs;
type SimKeys = { [K in SimKind]: K extends 'carts' ? string : number };
export type SimKey<K extends SimKind> = SimKeys[K];
type SimTables = { [K in SimKind]: EntityTable<SimKeys[K], SimDocs[K]> };

/** Entities with a `GET /{entity}/deleted` history (docs/ecwid.md §4.4). */
export type DeletedKind = 'orders' | 'products' | 'customers' | 'coupons' | 'reviews';
export type DeletedRecord = { id: number; orderId?: string; deletedAt: number };

/** What `SimStore.beforeChange` names: a table, the app storage or the profile. */
export type SimChangeTarget = SimKind | 'storage' | 'profile';

export type LatestStat =
  | 'productsUpdated'
  | 'ordersUpdated'
  | 'reviewsUpdated'
  | 'profileUpdated'
  | 'categoriesUpdated'
  | 'discountCouponsUpdated'
  | 'abandonedSalesUpdated'
  | 'customersUpdated'
  | 'subscriptionsUpdated';

type KindRules<K extends SimKind> = {
  key: (doc: SimDocs[K]) => SimKeys[K];
  // Which of the document's own fields carry the update time; none for categories and friends.
  stamp: (doc: SimDocs[K], seconds: number) => void;
  stat: LatestStat;
  deleted?: DeletedKind;
};

const noStamp = () => {};

const rules: { [K in SimKind]: KindRules<K> } = {
  orders: {
    key: (doc) => doc.internalId,
    stamp: (doc, s) => Object.assign(doc, { updateTimestamp: s, updateDate: formatEcwidDate(s) }),
    stat: 'ordersUpdated',
    deleted: 'orders',
  },
  carts: {
    key: (doc) => doc.cartId,
    stamp: (doc, s) => Object.assign(doc, { updateTimestamp: s, updateDate: formatEcwidDate(s) }),
    stat: 'abandonedSalesUpdated',
  },
  products: {
    key: (doc) => doc.id,
    stamp: (doc, s) => Object.assign(doc, { updateTimestamp: s, updated: formatEcwidDate(s) }),
    stat: 'productsUpdated',
    deleted: 'products',
  },
  categories: { key: (doc) => doc.id, stamp: noStamp, stat: 'categoriesUpdated' },
  customers: {
    key: (doc) => doc.id,
    stamp: (doc, s) => Object.assign(doc, { updated: formatEcwidDate(s) }),
    stat: 'customersUpdated',
    deleted: 'customers',
  },
  customerGroups: { key: (doc) => doc.id, stamp: noStamp, stat: 'customersUpdated' },
  coupons: {
    key: (doc) => doc.id,
    stamp: (doc, s) => Object.assign(doc, { updateDate: formatEcwidDate(s) }),
    stat: 'discountCouponsUpdated',
    deleted: 'coupons',
  },
  promotions: { key: (doc) => doc.id, stamp: noStamp, stat: 'discountCouponsUpdated' },
  productTypes: { key: (doc) => doc.id, stamp: noStamp, stat: 'productsUpdated' },
  reviews: {
    key: (doc) => doc.id,
    stamp: (doc, s) => Object.assign(doc, { updateTimestamp: s, updateDate: formatEcwidDate(s) }),
    stat: 'reviewsUpdated',
    deleted: 'reviews',
  },
};

/**
 * One simulated store: live, mutable Ecwid-shaped documents. Mutate through `insert`,
 * `update` and `remove` so update timestamps, `/latest-stats` and the deleted-items history
 * move the way Ecwid's do; editing a document in place changes data without those traces.
 */
export class SimStore implements SimTables {
  readonly storeId: number;
  /** The access token the REST API accepts; undefined while the app is uninstalled (every request is refused). */
  token: string | undefined;
  /**
   * The access scopes the store granted the app (`read_orders`, …); undefined: every one. A
   * request that needs another is refused with 403 INSUFFICIENT_APP_SCOPE.
   */
  scopes: ReadonlySet<string> | undefined;
  readonly faker: Faker;
  readonly nextId: IdSource;
  readonly orders = new EntityTable<number, SimOrder>();
  readonly carts = new EntityTable<string, SimCart>();
  readonly products = new EntityTable<number, SimProduct>();
  readonly categories = new EntityTable<number, SimCategory>();
  readonly customers = new EntityTable<number, SimCustomer>();
  readonly customerGroups = new EntityTable<number, SimCustomerGroup>();
  readonly coupons = new EntityTable<number, SimCoupon>();
  readonly promotions = new EntityTable<number, SimPromotion>();
  readonly productTypes = new EntityTable<number, SimProductType>();
  readonly reviews = new EntityTable<number, SimReview>();
  readonly storage = new Map<string, string>();
  readonly deleted: Record<DeletedKind, DeletedRecord[]> = {
    orders: [],
    products: [],
    customers: [],
    coupons: [],
    reviews: [],
  };
  readonly latestStats = new Map<LatestStat, number>();
  /**
   * Called before every write through `insert`, `update`, `remove`, `touchProfile`,
   * `setStorage` and `deleteStorage`, with the key about to change (the storage key, or the
   * store id for the profile). The activity uses it to keep each entity's state before a day.
   */
  beforeChange: ((target: SimChangeTarget, key: number | string) => void) | undefined = undefined;
  profile: SimProfile;
  application: SimApplication;
  // Public order ids stay resolvable after deletion: Ecwid never reuses them.
  readonly #publicOrderIds = new Map<string, number>();
  readonly #now: () => number;
  #lastSecond = 0;

  constructor(init: {
    storeId: number;
    token: string;
    faker: Faker;
    nextId: IdSource;
    now: () => number;
    profile: SimProfile;
    application: SimApplication;
  }) {
    this.storeId = init.storeId;
    this.token = init.token;
    this.scopes = undefined;
    this.faker = init.faker;
    this.nextId = init.nextId;
    this.#now = init.now;
    this.profile = init.profile;
    this.application = init.application;
  }

  /** The app is uninstalled: its token stops working, as Ecwid's does (403 INVALID_API_TOKEN). */
  uninstall(): void {
    this.token = undefined;
  }

  /** The app is installed (again), with this token. */
  install(token: string): void {
    this.token = token;
  }

  /** Current time in seconds; never goes backwards, so a later write always sorts later. */
  clock(): number {
    this.#lastSecond = Math.max(this.#lastSecond, Math.floor(this.#now() / 1000));
    return this.#lastSecond;
  }

  table<K extends SimKind>(kind: K): SimTables[K] {
    return (this as SimTables)[kind];
  }

  /** Adds a document as it is (generated history keeps its own timestamps). */
  insert<K extends SimKind>(kind: K, doc: SimDocs[K], updatedAt = this.clock()): SimDocs[K] {
    const rule: KindRules<K> = rules[kind];
    this.beforeChange?.(kind, rule.key(doc));
    this.table(kind).put(rule.key(doc), doc, updatedAt);
    if (kind === 'orders') this.#publicOrderIds.set((doc as SimOrder).id, (doc as SimOrder).internalId);
    this.#bumpStat(rule.stat, updatedAt);
    return doc;
  }

  /** Applies a change and stamps the document's update time. Undefined when it does not exist. */
  update<K extends SimKind>(kind: K, key: SimKey<K>, change: (doc: SimDocs[K]) => void): SimDocs[K] | undefined {
    const table: EntityTable<SimKey<K>, SimDocs[K]> = this.table(kind);
    const doc = table.get(key);
    if (!doc) return undefined;
    const rule: KindRules<K> = rules[kind];
    const now = this.clock();
    this.beforeChange?.(kind, key);
    change(doc);
    rule.stamp(doc, now);
    table.touch(key, now);
    this.#bumpStat(rule.stat, now);
    return doc;
  }

  /** Deletes a document and records it in the deleted-items history where Ecwid has one. */
  remove<K extends SimKind>(kind: K, key: SimKey<K>): SimDocs[K] | undefined {
    const table: EntityTable<SimKey<K>, SimDocs[K]> = this.table(kind);
    if (!table.has(key)) return undefined;
    this.beforeChange?.(kind, key);
    const doc = table.delete(key)!;
    const rule: KindRules<K> = rules[kind];
    const now = this.clock();
    if (rule.deleted) {
      const order = kind === 'orders' ? (doc as SimOrder) : undefined;
      this.deleted[rule.deleted].push({
        id: Number(key),
        ...(order ? { orderId: order.id } : {}),
        deletedAt: now,
      });
    }
    this.#bumpStat(rule.stat, now);
    return doc;
  }

  /** Resolves `/orders/{orderId}`: the public id (`K8XTQ`) or the internal id. */
  findOrder(reference: string): SimOrder | undefined {
    const internalId = this.#publicOrderIds.get(reference.toUpperCase()) ?? (/^\d+$/.test(reference) ? Number(reference) : NaN);
    return this.orders.get(internalId);
  }

  internalOrderId(publicId: string): number | undefined {
    return this.#publicOrderIds.get(publicId);
  }

  touchProfile(change: (profile: SimProfile) => void): void {
    this.beforeChange?.('profile', this.storeId);
    change(this.profile);
    this.#bumpStat('profileUpdated', this.clock());
  }

  setStorage(key: string, value: string, at = this.clock()): void {
    this.beforeChange?.('storage', key);
    this.storage.set(key, value);
    this.#bumpStat('profileUpdated', at);
  }

  /** Removes an app storage key; false when there was none. */
  deleteStorage(key: string): boolean {
    if (!this.storage.has(key)) return false;
    this.beforeChange?.('storage', key);
    this.storage.delete(key);
    this.#bumpStat('profileUpdated', this.clock());
    return true;
  }

  #bumpStat(stat: LatestStat, seconds: number): void {
    this.latestStats.set(stat, Math.max(this.latestStats.get(stat) ?? 0, seconds));
  }
}
