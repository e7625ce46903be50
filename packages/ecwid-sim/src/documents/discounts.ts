import type { Faker } from '@faker-js/faker';
import { formatEcwidDate } from '../dates.ts';
import type { IdSource } from '../store/id-source.ts';

export const couponStatuses = ['ACTIVE', 'PAUSED', 'EXPIRED', 'USEDUP'] as const;

/** Shaped like examples/discount-coupon.json. */
export type SimCoupon = {
  id: number;
  name: string;
  code: string;
  discountType: 'ABS' | 'PERCENT' | 'SHIPPING' | 'ABS_AND_SHIPPING' | 'PERCENT_AND_SHIPPING';
  status: (typeof couponStatuses)[number];
  discount: number;
  launchDate: string;
  expirationDate?: string;
  usesLimit: 'UNLIMITED' | 'ONCEPERCUSTOMER' | 'SINGLE';
  repeatCustomerOnly: boolean;
  applicationLimit: 'UNLIMITED' | 'NEW_CUSTOMER_ONLY' | 'REPEAT_CUSTOMER_ONLY';
  creationDate: string;
  updateDate: string;
  orderCount: number;
};

export function makeCoupon(faker: Faker, nextId: IdSource, input: { createdAt: number }): SimCoupon {
  const percent = faker.datatype.boolean(0.6);
  const discount = percent ? faker.helpers.arrayElement([5, 10, 15, 20, 25]) : faker.number.int({ min: 2, max: 30 });
  const date = formatEcwidDate(input.createdAt);
  return {
    id: nextId('coupon'),
    name: percent ? `${discount}% OFF` : `$${discount} OFF`,
    code: faker.string.alphanumeric({ length: 8, casing: 'upper' }),
    discountType: percent ? 'PERCENT' : 'ABS',
    status: faker.helpers.weightedArrayElement([
      { value: 'ACTIVE', weight: 7 },
      { value: 'PAUSED', weight: 1 },
      { value: 'EXPIRED', weight: 1 },
      { value: 'USEDUP', weight: 1 },
    ]),
    discount,
    launchDate: date,
    usesLimit: 'UNLIMITED',
    repeatCustomerOnly: false,
    applicationLimit: 'UNLIMITED',
    creationDate: date,
    updateDate: date,
    orderCount: 0,
  };
}

/** An item of `GET /promotions` (docs/ecwid.md §4.5): no timestamps, no get-by-id endpoint. */
export type SimPromotion = {
  id: number;
  name: string;
  enabled: boolean;
  discountBase: 'SUBTOTAL' | 'ITEM';
  discountType: 'PERCENT' | 'ABSOLUTE';
  amount: number;
  triggers: { subtotal?: number; customerGroupIds?: number[] };
  targets: { categoryIds?: number[] };
  externalReferenceId: string;
};

export function makePromotion(faker: Faker, nextId: IdSource): SimPromotion {
  const amount = faker.helpers.arrayElement([5, 10, 15]);
  const subtotal = faker.helpers.arrayElement([50, 100, 200]);
  return {
    id: nextId('promotion'),
    name: `${amount}% off orders over $${subtotal}`,
    enabled: faker.datatype.boolean(0.8),
    discountBase: 'SUBTOTAL',
    discountType: 'PERCENT',
    amount,
    triggers: { subtotal },
    targets: {},
    externalReferenceId: '',
  };
}
