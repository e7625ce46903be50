import { formatEcwidDate } from '../dates.ts';
import { makeCart } from '../documents/cart.ts';
import { addOrderToStats, makeCustomer, type SimCustomer } from '../documents/customer.ts';
import { makeInvoice, makeOrder, makeOrderItems, orderTotals, type SimOrder } from '../documents/order.ts';
import { makeEmail, makePerson } from '../documents/person.ts';
import { refreshStock } from '../documents/product.ts';
import type { FulfillmentStatus, PaymentStatus } from '../documents/statuses.ts';
import { moneyOf } from '../documents/profile.ts';
import { orderExtras, paymentMethods, pickOrderLines, randomIp } from '../store/generate-store.ts';
import { publicOrderId } from '../store/id-source.ts';
import { pickFrom, type ShopAction, type SimEvent } from './shop-action.ts';

/**
 * A purchase: one order, stock taken from each product, a new or updated customer; three or
 * more webhooks for one action, as docs/ecwid.md §1.7 describes.
 */
export const checkout: ShopAction = ({ store, faker }) => {
  const products = store.products.values().filter((product) => product.enabled && product.inStock);
  const lines = pickOrderLines(faker, products).filter(({ product, combination }) =>
    combination ? combination.quantity > 0 : product.unlimited || (product.quantity ?? 0) > 0,
  );
  if (!lines.length) return [];
  for (const line of lines) {
    const available = line.combination?.quantity ?? (line.product.unlimited ? Infinity : (line.product.quantity ?? 0));
    line.quantity = Math.min(line.quantity, available);
  }
  const roll = faker.number.float();
  const existing = roll < 0.6 ? pickFrom(faker, store.customers) : undefined;
  const group = store.customerGroups.get(0) ?? { id: 0, name: 'General' };
  const created: SimCustomer | undefined =
    !existing && roll < 0.85 ? makeCustomer(faker, store.nextId, { registeredAt: store.clock(), group }) : undefined;
  const customer = existing ?? created;
  const person = customer?.billingPerson ?? makePerson(faker);
  const paymentStatus: PaymentStatus = faker.datatype.boolean(0.7) ? 'PAID' : 'AWAITING_PAYMENT';
  const money = moneyOf(store.profile);
  const internalId = store.nextId('order');
  const order = makeOrder({
    internalId,
    createdAt: store.clock(),
    items: makeOrderItems(store.nextId, lines, money),
    money,
    extras: orderExtras(store, internalId),
    email: customer?.email ?? makeEmail(faker, person),
    customerId: customer?.id,
    billingPerson: person,
    paymentStatus,
    fulfillmentStatus: 'AWAITING_PROCESSING',
    paymentMethod: faker.helpers.arrayElement(paymentMethods),
    ipAddress: randomIp(faker),
  });
  store.insert('orders', order);
  const events: SimEvent[] = [
    {
      eventType: 'order.created',
      entityId: order.internalId,
      data: {
        orderId: order.id,
        newPaymentStatus: order.paymentStatus,
        newFulfillmentStatus: order.fulfillmentStatus,
      },
    },
  ];
  for (const productId of new Set(lines.map((line) => line.product.id))) {
    store.update('products', productId, (product) => {
      for (const line of lines.filter((candidate) => candidate.product.id === productId)) {
        if (line.combination) line.combination.quantity -= line.quantity;
        else if (!product.unlimited) product.quantity = (product.quantity ?? 0) - line.quantity;
      }
      refreshStock(product);
    });
    events.push({ eventType: 'product.updated', entityId: productId });
  }
  if (created) {
    addOrderToStats(created, order);
    store.insert('customers', created);
    events.push({
      eventType: 'customer.created',
      entityId: created.id,
      data: { customerEmail: created.email },
    });
  } else if (existing) {
    store.update('customers', existing.id, (doc) => addOrderToStats(doc, order));
    events.push({
      eventType: 'customer.updated',
      entityId: existing.id,
      data: { customerEmail: existing.email },
    });
  }
  return events;
};

const nextFulfillment: Partial<Record<FulfillmentStatus, FulfillmentStatus>> = {
  AWAITING_PROCESSING: 'PROCESSING',
  PROCESSING: 'SHIPPED',
  SHIPPED: 'DELIVERED',
};

function nextStatuses(order: SimOrder, roll: number): [PaymentStatus, FulfillmentStatus] | undefined {
  if (order.paymentStatus === 'AWAITING_PAYMENT') return roll < 0.8 ? ['PAID', order.fulfillmentStatus] : ['CANCELLED', 'WILL_NOT_DELIVER'];
  if (order.paymentStatus !== 'PAID') return undefined;
  const fulfillment = nextFulfillment[order.fulfillmentStatus];
  if (fulfillment) return ['PAID', fulfillment];
  if (order.fulfillmentStatus === 'DELIVERED' && roll < 0.05) return ['REFUNDED', 'RETURNED'];
  if (order.fulfillmentStatus === 'DELIVERED' && roll < 0.1) return ['PARTIALLY_REFUNDED', 'DELIVERED'];
  return undefined;
}

/** Moves an order along payment and fulfillment, the usual source of `order.updated`. */
export const advanceOrder: ShopAction = ({ store, faker }) => {
  const order = pickFrom(faker, store.orders);
  const next = order && nextStatuses(order, faker.number.float());
  if (!order || !next) return [];
  const [oldPaymentStatus, oldFulfillmentStatus] = [order.paymentStatus, order.fulfillmentStatus];
  store.update('orders', order.internalId, (doc) => {
    [doc.paymentStatus, doc.fulfillmentStatus] = next;
    // Refunded now, days after the order was placed: the whole order, or half of it.
    if (doc.paymentStatus === 'REFUNDED' || doc.paymentStatus === 'PARTIALLY_REFUNDED') {
      const amount = doc.paymentStatus === 'REFUNDED' ? doc.total : Math.round(doc.total * 50) / 100;
      doc.refunds.push({ date: formatEcwidDate(store.clock()), source: 'CP', reason: 'Returned by customer', amount });
      doc.refundedAmount = amount;
    }
  });
  return [
    {
      eventType: 'order.updated',
      entityId: order.internalId,
      data: {
        orderId: order.id,
        oldPaymentStatus,
        newPaymentStatus: order.paymentStatus,
        oldFulfillmentStatus,
        newFulfillmentStatus: order.fulfillmentStatus,
      },
    },
  ];
};

/**
 * A tax invoice for a paid order. The invoice list is part of the order, so the order changes
 * too and sends `order.updated` ("any change to the order", docs/ecwid.md §1.3).
 */
export const createInvoice: ShopAction = ({ store, faker }) => {
  const order = pickFrom(faker, store.orders);
  if (!order || order.paymentStatus !== 'PAID' || order.invoices.length) return [];
  const invoice = makeInvoice(store.storeId, store.nextId('invoice'), store.clock());
  store.update('orders', order.internalId, (doc) => doc.invoices.push(invoice));
  return [{ eventType: 'invoice.created', entityId: invoice.internalId, data: { orderId: order.id } }, orderTouched(order)];
};

/** An invoice removed from its order: `invoice.deleted`, and the order changes (`order.updated`). */
export const deleteInvoice: ShopAction = ({ store, faker }) => {
  const order = pickFrom(faker, store.orders);
  if (!order?.invoices.length) return [];
  const invoice = faker.helpers.arrayElement(order.invoices);
  store.update('orders', order.internalId, (doc) => {
    doc.invoices = doc.invoices.filter((candidate) => candidate !== invoice);
  });
  return [{ eventType: 'invoice.deleted', entityId: invoice.internalId, data: { orderId: order.id } }, orderTouched(order)];
};

/** `order.updated` for a change that leaves both statuses as they were. */
function orderTouched(order: SimOrder): SimEvent {
  return {
    eventType: 'order.updated',
    entityId: order.internalId,
    data: {
      orderId: order.id,
      oldPaymentStatus: order.paymentStatus,
      newPaymentStatus: order.paymentStatus,
      oldFulfillmentStatus: order.fulfillmentStatus,
      newFulfillmentStatus: order.fulfillmentStatus,
    },
  };
}

export const deleteOrder: ShopAction = ({ store, faker }) => {
  const order = pickFrom(faker, store.orders);
  if (!order) return [];
  store.remove('orders', order.internalId);
  return [{ eventType: 'order.deleted', entityId: order.internalId, data: { orderId: order.id } }];
};

/**
 * Abandoned carts: a new one, a changed one, one hidden from the admin (Ecwid's "delete" there
 * only hides and sends `unfinished_order.updated`) or a real API delete (docs/ecwid.md §1.6).
 */
export const touchCart: ShopAction = ({ store, faker }) => {
  const roll = faker.number.float();
  const existing = roll < 0.5 ? pickFrom(faker, store.carts) : undefined;
  const products = store.products.values().filter((product) => product.enabled);
  const items = makeOrderItems(store.nextId, pickOrderLines(faker, products));
  if (!existing) {
    if (!items.length) return [];
    const customer = faker.datatype.boolean(0.5) ? pickFrom(faker, store.customers) : undefined;
    const person = customer?.billingPerson ?? makePerson(faker);
    const internalId = store.nextId('order');
    const cart = makeCart({
      cartId: faker.string.uuid().toUpperCase(),
      createdAt: store.clock(),
      items,
      email: customer?.email ?? makeEmail(faker, person),
      customerId: customer?.id,
      billingPerson: person,
      ipAddress: randomIp(faker),
      unfinishedOrder: { id: publicOrderId(internalId), internalId },
    });
    store.insert('carts', cart);
    return [cartEvent('unfinished_order.created', cart.unfinishedOrder, cart.cartId)];
  }
  if (roll < 0.05) {
    store.remove('carts', existing.cartId);
    return [cartEvent('unfinished_order.deleted', existing.unfinishedOrder, existing.cartId)];
  }
  store.update('carts', existing.cartId, (cart) => {
    if (roll < 0.15 || !items.length) cart.hidden = true;
    else Object.assign(cart, { items }, orderTotals(items));
  });
  return [cartEvent('unfinished_order.updated', existing.unfinishedOrder, existing.cartId)];
};

function cartEvent(eventType: string, order: { id: string; internalId: number }, cartId: string): SimEvent {
  return { eventType, entityId: order.internalId, data: { orderId: order.id, cartId } };
}
