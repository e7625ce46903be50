import { makeCustomerGroup } from '../documents/customer.ts';
import { couponStatuses, makeCoupon, makePromotion } from '../documents/discounts.ts';
import { makeReview } from '../documents/review.ts';
import { pickFrom, type ShopAction } from './shop-action.ts';

/** Customer edits and deletions (GDPR-style removals happen too). */
export const editCustomer: ShopAction = ({ store, faker }) => {
  const customer = pickFrom(faker, store.customers);
  if (!customer) return [];
  const data = { customerEmail: customer.email };
  if (faker.datatype.boolean(0.15)) {
    store.remove('customers', customer.id);
    return [{ eventType: 'customer.deleted', entityId: customer.id, data }];
  }
  const group = pickFrom(faker, store.customerGroups);
  store.update('customers', customer.id, (doc) => {
    doc.acceptMarketing = !doc.acceptMarketing;
    if (group) Object.assign(doc, { customerGroupId: group.id, customerGroupName: group.name });
  });
  return [{ eventType: 'customer.updated', entityId: customer.id, data }];
};

/** Customer groups; only an unused group is deleted, never "General" (id 0). */
export const editCustomerGroup: ShopAction = ({ store, faker }) => {
  const roll = faker.number.float();
  const group = pickFrom(faker, store.customerGroups);
  if (!group || roll < 0.3) {
    const created = makeCustomerGroup(faker, store.nextId);
    store.insert('customerGroups', created);
    return [{ eventType: 'customer_group.created', entityId: created.id }];
  }
  if (roll < 0.5) {
    const used = new Set(store.customers.values().map((customer) => customer.customerGroupId));
    const unused = store.customerGroups.values().filter((candidate) => candidate.id !== 0 && !used.has(candidate.id));
    if (unused.length) {
      const removed = faker.helpers.arrayElement(unused);
      store.remove('customerGroups', removed.id);
      return [{ eventType: 'customer_group.deleted', entityId: removed.id }];
    }
  }
  store.update('customerGroups', group.id, (doc) => {
    doc.name = `${faker.word.adjective()} buyers`;
  });
  return [{ eventType: 'customer_group.updated', entityId: group.id }];
};

export const editCoupon: ShopAction = ({ store, faker }) => {
  const roll = faker.number.float();
  const coupon = pickFrom(faker, store.coupons);
  if (!coupon || roll < 0.3) {
    const created = makeCoupon(faker, store.nextId, { createdAt: store.clock() });
    store.insert('coupons', created);
    return [{ eventType: 'discount_coupon.created', entityId: created.id }];
  }
  if (roll < 0.45) {
    store.remove('coupons', coupon.id);
    return [{ eventType: 'discount_coupon.deleted', entityId: coupon.id }];
  }
  store.update('coupons', coupon.id, (doc) => {
    doc.status = faker.helpers.arrayElement(couponStatuses);
  });
  return [{ eventType: 'discount_coupon.updated', entityId: coupon.id }];
};

/** Promotions; their webhooks carry Ecwid's revision counter as `data.version`. */
export const editPromotion: ShopAction = ({ store, faker }) => {
  const roll = faker.number.float();
  const promotion = pickFrom(faker, store.promotions);
  if (!promotion || roll < 0.3) {
    const created = makePromotion(faker, store.nextId);
    store.insert('promotions', created);
    return [{ eventType: 'promotion.created', entityId: created.id, data: { version: 1 } }];
  }
  if (roll < 0.45) {
    const version = store.promotions.revision(promotion.id) + 1;
    store.remove('promotions', promotion.id);
    return [{ eventType: 'promotion.deleted', entityId: promotion.id, data: { version } }];
  }
  store.update('promotions', promotion.id, (doc) => {
    doc.enabled = !doc.enabled;
  });
  return [
    {
      eventType: 'promotion.updated',
      entityId: promotion.id,
      data: { version: store.promotions.revision(promotion.id) },
    },
  ];
};

/** Reviews; webhooks carry the numeric internal order id, REST the public one (docs/ecwid.md §1.4). */
export const editReview: ShopAction = ({ store, faker }) => {
  const roll = faker.number.float();
  const review = pickFrom(faker, store.reviews);
  if (!review || roll < 0.5) {
    const order = pickFrom(faker, store.orders);
    const customer = order?.customerId === undefined ? undefined : store.customers.get(order.customerId);
    const item = order && order.items.length ? faker.helpers.arrayElement(order.items) : undefined;
    if (!order || !customer || !item) return [];
    const created = makeReview(faker, store.nextId, {
      createdAt: store.clock(),
      productId: item.productId,
      orderId: order.id,
      customer: {
        id: customer.id,
        name: customer.name,
        email: customer.email,
        city: customer.billingPerson.city,
      },
    });
    store.insert('reviews', created);
    return [
      {
        eventType: 'review.created',
        entityId: created.id,
        data: { productId: created.productId, orderId: order.internalId, status: created.status },
      },
    ];
  }
  const orderId = store.internalOrderId(review.orderId) ?? 0;
  if (roll < 0.6) {
    store.remove('reviews', review.id);
    return [
      {
        eventType: 'review.deleted',
        entityId: review.id,
        data: { productId: review.productId, orderId },
      },
    ];
  }
  store.update('reviews', review.id, (doc) => {
    doc.status = doc.status === 'PUBLISHED' ? 'MODERATED' : 'PUBLISHED';
  });
  return [
    {
      eventType: 'review.updated',
      entityId: review.id,
      data: { productId: review.productId, orderId, status: review.status },
    },
  ];
};

/**
 * App storage writes, and sometimes a key removed; `data` of `application.storageChanged` is
 * undocumented, so none is sent.
 */
export const writeStorage: ShopAction = ({ store, faker }) => {
  const key = faker.helpers.arrayElement(['public', 'settings', 'lastSync']);
  if (faker.number.float() < 0.2) {
    if (!store.deleteStorage(key)) return [];
  } else store.setStorage(key, JSON.stringify({ at: store.clock() }));
  return [{ eventType: 'application.storageChanged', entityId: String(store.storeId) }];
};

export const editProfile: ShopAction = ({ store, faker }) => {
  store.touchProfile((profile) => {
    profile.settings.storeDescription = faker.company.catchPhrase();
  });
  return [{ eventType: 'profile.updated', entityId: store.storeId }];
};
