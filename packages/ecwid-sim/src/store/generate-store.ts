import type { Faker } from '@faker-js/faker';
import { faker as english } from '@faker-js/faker/locale/en';
import { formatEcwidDate } from '../dates.ts';
import { makeCart } from '../documents/cart.ts';
import { makeCategory } from '../documents/category.ts';
import { addOrderToStats, makeCustomer, makeCustomerGroup, type SimCustomer } from '../documents/customer.ts';
import { makeCoupon, makePromotion } from '../documents/discounts.ts';
import { moneyForSeed, type SimMoney } from '../documents/money.ts';
import { makeInvoice, makeOrder, makeOrderItems, type OrderExtras, type OrderLine } from '../documents/order.ts';
import { makeEmail, makePerson } from '../documents/person.ts';
import { makeProduct, type SimProduct } from '../documents/product.ts';
import { makeGeneralProductType, makeProductType } from '../documents/product-type.ts';
import { makeApplication, makeProfile, moneyOf } from '../documents/profile.ts';
import { makeReview } from '../documents/review.ts';
import type { FulfillmentStatus, PaymentStatus } from '../documents/statuses.ts';
import { createIdSource, publicOrderId } from './id-source.ts';
import { SimStore } from './sim-store.ts';

export type SimSize = {
  products: number;
  categories: number;
  customers: number;
  customerGroups: number;
  coupons: number;
  promotions: number;
  productTypes: number;
  orders: number;
  carts: number;
  reviews: number;
};

export const defaultSize: SimSize = {
  products: 50,
  categories: 10,
  customers: 40,
  customerGroups: 3,
  coupons: 5,
  promotions: 3,
  productTypes: 3,
  orders: 200,
  carts: 20,
  reviews: 30,
};

const day = 86_400;
/**
 * Generated history ends at a fixed instant (2024-09-04 00:00 UTC), not at "now", so a seed
 * always yields the same documents. Live changes are stamped with the simulator's clock.
 */
export const historyEnd = 1_725_408_000;
const historyStart = historyEnd - 365 * day;

export const paymentMethods = ['Credit card', 'PayPal', 'Offline', 'Bank transfer'];

// The English locale's entry point, not the package's: the package's evaluates every locale's
// definitions, 12.6 MB of heap against 1.9 MB, carried for good by the `pnpm start` demo (which
// runs the simulator in its process). It exports an instance only; each store needs its own
// seeded one, made by the same class from the same definitions (English over base).
const FakerWithLocale = english.constructor as typeof Faker;

export function createStoreFaker(seed: number): Faker {
  const faker = new FakerWithLocale({ locale: english.rawDefinitions });
  faker.seed(seed);
  return faker;
}

export function randomIp(faker: Faker): string {
  const n = faker.number.int(0xffffffff);
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Picks 1–3 lines from enabled products; the variation is chosen for products that have them. */
export function pickOrderLines(faker: Faker, products: SimProduct[]): OrderLine[] {
  if (!products.length) return [];
  const count = faker.number.int({ min: 1, max: Math.min(3, products.length) });
  return Array.from({ length: count }, () => {
    const product = products[faker.number.int(products.length - 1)]!;
    const combination = product.combinations.length ? product.combinations[faker.number.int(product.combinations.length - 1)] : undefined;
    return { product, combination, quantity: faker.number.int({ min: 1, max: 3 }) };
  });
}

/**
 * What a shopper added to an order besides its items, decided by the order's id rather than
 * the store's random sequence (so the rest of a seed's documents stay as they were): a coupon
 * on one order in five, shipping on two in three, gift wrapping on one in eight.
 */
export function orderExtras(store: SimStore, internalId: number): OrderExtras {
  let h = Math.imul(internalId ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  const coupons = store.coupons.values().filter((coupon) => coupon.discountType === 'PERCENT' || coupon.discountType === 'ABS');
  const methods = [
    { method: 'Standard', rate: 5 },
    { method: 'Express', rate: 9.5 },
  ];
  return {
    coupon: h % 5 === 0 && coupons.length ? coupons[(h >>> 4) % coupons.length] : undefined,
    shipping: (h >>> 8) % 3 !== 0 ? methods[(h >>> 12) % methods.length] : undefined,
    handling: (h >>> 16) % 8 === 0 ? 2.5 : undefined,
  };
}

function historicStatuses(faker: Faker, ageDays: number): [PaymentStatus, FulfillmentStatus] {
  const roll = faker.number.float();
  if (roll < 0.03) return ['CANCELLED', 'WILL_NOT_DELIVER'];
  if (roll < 0.045) return ['REFUNDED', 'RETURNED'];
  if (roll < 0.055) return ['REFUNDED', 'DELIVERED'];
  if (roll < 0.075) return ['PARTIALLY_REFUNDED', 'DELIVERED'];
  if (ageDays > 14) return ['PAID', 'DELIVERED'];
  if (roll < 0.25) return ['AWAITING_PAYMENT', 'AWAITING_PROCESSING'];
  if (roll < 0.5) return ['PAID', 'AWAITING_PROCESSING'];
  if (roll < 0.7) return ['PAID', 'PROCESSING'];
  return ['PAID', 'SHIPPED'];
}

/** Builds a store's full history from its seed: same seed and size, same documents. */
export function generateStore(options: {
  storeId: number;
  token: string;
  seed: number;
  size: SimSize;
  now: () => number;
  /** Currency, time zone and taxes; by default one of moneyPresets, by seed. */
  money?: SimMoney | undefined;
}): SimStore {
  const { storeId, size } = options;
  const faker = createStoreFaker(options.seed);
  const nextId = createIdSource(faker);
  const store = new SimStore({
    storeId,
    token: options.token,
    faker,
    nextId,
    now: options.now,
    profile: makeProfile(faker, storeId, options.money ?? moneyForSeed(options.seed)),
    application: makeApplication(historyStart),
  });
  const at = (from: number, to: number) => faker.number.int({ min: from, max: to });

  store.setStorage('public', JSON.stringify({ widgetColor: faker.color.rgb() }), historyStart);
  store.setStorage('installedAt', String(historyStart), historyStart);

  const productTypes = [makeGeneralProductType()];
  for (let i = 0; i < size.productTypes; i++) productTypes.push(makeProductType(faker, nextId));
  for (const type of productTypes) store.insert('productTypes', type, historyStart);

  const groups = [{ id: 0, name: 'General' }];
  for (let i = 0; i < size.customerGroups; i++) groups.push(makeCustomerGroup(faker, nextId));
  for (const group of groups) store.insert('customerGroups', group, historyStart);

  const categoryIds: number[] = [];
  for (let i = 0; i < size.categories; i++) {
    // The first third are top level; later ones hang under an earlier category: a tree.
    const parentId = i < Math.ceil(size.categories / 3) ? undefined : faker.helpers.arrayElement(categoryIds);
    const category = makeCategory(faker, nextId, { storeId, parentId, orderBy: (i + 1) * 10 });
    categoryIds.push(category.id);
    store.insert('categories', category, historyStart);
  }

  for (let i = 0; i < size.products; i++) {
    const createdAt = at(historyStart, historyStart + 30 * day);
    const product = makeProduct(faker, nextId, {
      createdAt,
      categoryIds: categoryIds.length ? faker.helpers.arrayElements(categoryIds, { min: 0, max: 2 }) : [],
      productClassId: faker.helpers.arrayElement(productTypes).id,
    });
    const updatedAt = at(createdAt, historyEnd);
    product.updateTimestamp = updatedAt;
    product.updated = formatEcwidDate(updatedAt);
    store.insert('products', product, updatedAt);
  }

  const customers: SimCustomer[] = [];
  const customerUpdatedAt = new Map<number, number>();
  for (let i = 0; i < size.customers; i++) {
    const registeredAt = at(historyStart, historyStart + 60 * day);
    const customer = makeCustomer(faker, nextId, {
      registeredAt,
      group: faker.helpers.arrayElement(groups),
    });
    customers.push(customer);
    customerUpdatedAt.set(customer.id, registeredAt);
  }

  for (let i = 0; i < size.coupons; i++) {
    const createdAt = at(historyStart, historyEnd);
    const coupon = makeCoupon(faker, nextId, { createdAt });
    coupon.orderCount = faker.number.int(40);
    store.insert('coupons', coupon, createdAt);
  }
  for (let i = 0; i < size.promotions; i++) store.insert('promotions', makePromotion(faker, nextId), historyStart);

  generateOrders(store, customers, customerUpdatedAt, size.orders);
  // Inserted after the orders: a customer's `updated` moves with each order they place.
  for (const customer of customers) {
    const updatedAt = customerUpdatedAt.get(customer.id)!;
    customer.updated = formatEcwidDate(updatedAt);
    store.insert('customers', customer, updatedAt);
  }

  const products = store.products.values().filter((product) => product.enabled);
  for (let i = 0; i < size.carts; i++) {
    const createdAt = at(historyEnd - 7 * day, historyEnd);
    const customer = faker.datatype.boolean(0.5) ? faker.helpers.arrayElement(customers) : undefined;
    const person = customer?.billingPerson ?? makePerson(faker);
    const internalId = nextId('order');
    const cart = makeCart({
      cartId: faker.string.uuid().toUpperCase(),
      createdAt,
      items: makeOrderItems(nextId, pickOrderLines(faker, products)),
      email: customer?.email ?? makeEmail(faker, person),
      customerId: customer?.id,
      billingPerson: person,
      ipAddress: randomIp(faker),
      unfinishedOrder: { id: publicOrderId(internalId), internalId },
    });
    store.insert('carts', cart, createdAt);
  }

  const reviewable = store.orders.values().filter((order) => order.customerId !== undefined && order.items.length);
  for (let i = 0; i < size.reviews && reviewable.length; i++) {
    const order = faker.helpers.arrayElement(reviewable);
    const customer = store.customers.get(order.customerId!)!;
    const createdAt = Math.min(historyEnd, order.createTimestamp + at(day, 20 * day));
    const review = makeReview(faker, nextId, {
      createdAt,
      productId: faker.helpers.arrayElement(order.items).productId,
      orderId: order.id,
      customer: {
        id: customer.id,
        name: customer.name,
        email: customer.email,
        city: customer.billingPerson.city,
      },
    });
    store.insert('reviews', review, createdAt);
  }
  return store;
}

function generateOrders(store: SimStore, customers: SimCustomer[], customerUpdatedAt: Map<number, number>, count: number): void {
  const { faker, nextId, storeId } = store;
  const products = store.products.values();
  const money = moneyOf(store.profile);
  const span = historyEnd - (historyStart + 30 * day);
  const step = span / Math.max(1, count);
  for (let i = 0; i < count; i++) {
    // Orders are created in id order, spread evenly over the history.
    const createdAt = Math.floor(historyStart + 30 * day + i * step + faker.number.float() * step);
    const customer = customers.length && faker.number.float() < 0.75 ? customers[faker.number.int(customers.length - 1)] : undefined;
    const person = customer?.billingPerson ?? makePerson(faker);
    const [paymentStatus, fulfillmentStatus] = historicStatuses(faker, (historyEnd - createdAt) / day);
    const internalId = nextId('order');
    const order = makeOrder({
      internalId,
      createdAt,
      items: makeOrderItems(nextId, pickOrderLines(faker, products), money),
      money,
      extras: orderExtras(store, internalId),
      email: customer?.email ?? makeEmail(faker, person),
      customerId: customer?.id,
      billingPerson: person,
      paymentStatus,
      fulfillmentStatus,
      paymentMethod: paymentMethods[faker.number.int(paymentMethods.length - 1)]!,
      ipAddress: randomIp(faker),
    });
    const refunded = paymentStatus === 'REFUNDED' || paymentStatus === 'PARTIALLY_REFUNDED';
    if (paymentStatus !== 'AWAITING_PAYMENT' && paymentStatus !== 'CANCELLED') {
      order.invoices.push(makeInvoice(storeId, nextId('invoice'), createdAt));
    }
    const updatedAt = createdAt + Math.floor(faker.number.float() * Math.min(5 * day, historyEnd - createdAt));
    if (refunded) {
      // Refunded on the order's last update, up to five days after it was placed.
      const amount = paymentStatus === 'REFUNDED' ? order.total : Math.round(order.total * 50) / 100;
      order.refunds.push({ date: formatEcwidDate(updatedAt), source: 'CP', reason: 'Returned by customer', amount });
      order.refundedAmount = amount;
    }
    order.updateTimestamp = updatedAt;
    order.updateDate = formatEcwidDate(updatedAt);
    store.insert('orders', order, updatedAt);
    if (customer) {
      addOrderToStats(customer, order);
      customerUpdatedAt.set(customer.id, Math.max(customerUpdatedAt.get(customer.id)!, createdAt));
    }
  }
}
