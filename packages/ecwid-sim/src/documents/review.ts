import type { Faker } from '@faker-js/faker';
import { formatEcwidDate } from '../dates.ts';
import type { IdSource } from '../store/id-source.ts';

/** An item of `GET /reviews` (docs/ecwid.md §4.5); `orderId` is the public order id here. */
export type SimReview = {
  id: number;
  status: 'PUBLISHED' | 'MODERATED';
  rating: number;
  customerId: number;
  productId: number;
  orderId: string;
  review: string;
  reviewerInfo: { name: string; email: string; city: string; country: string; orders: number };
  createDate: string;
  updateDate: string;
  createTimestamp: number;
  updateTimestamp: number;
};

export function makeReview(
  faker: Faker,
  nextId: IdSource,
  input: {
    createdAt: number;
    productId: number;
    orderId: string;
    customer: { id: number; name: string; email: string; city: string };
  },
): SimReview {
  const date = formatEcwidDate(input.createdAt);
  return {
    id: nextId('review'),
    status: faker.datatype.boolean(0.7) ? 'PUBLISHED' : 'MODERATED',
    rating: faker.helpers.weightedArrayElement([
      { value: 5, weight: 5 },
      { value: 4, weight: 3 },
      { value: 3, weight: 1 },
      { value: 2, weight: 1 },
      { value: 1, weight: 1 },
    ]),
    customerId: input.customer.id,
    productId: input.productId,
    orderId: input.orderId,
    review: faker.lorem.sentence(),
    reviewerInfo: {
      name: input.customer.name,
      email: input.customer.email,
      city: input.customer.city,
      country: 'United States',
      orders: 1,
    },
    createDate: date,
    updateDate: date,
    createTimestamp: input.createdAt,
    updateTimestamp: input.createdAt,
  };
}
