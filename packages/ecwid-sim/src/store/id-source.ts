import type { Faker } from '@faker-js/faker';

export type IdKind =
  | 'order'
  | 'orderItem'
  | 'invoice'
  | 'product'
  | 'combination'
  | 'category'
  | 'customer'
  | 'contact'
  | 'customerGroup'
  | 'coupon'
  | 'promotion'
  | 'productType'
  | 'attribute'
  | 'review';

// Ranges look like real Ecwid ids and never overlap, so a mixed-up id is a 404, not a wrong hit.
const bases: Record<IdKind, number> = {
  order: 516_000_000,
  orderItem: 1_828_000_000,
  invoice: 117_000_000,
  product: 692_000_000,
  combination: 331_000_000,
  category: 9_691_000,
  customer: 270_900_000,
  contact: 113_800_000,
  customerGroup: 10_400,
  coupon: 162_400_000,
  promotion: 2_500_000,
  productType: 1_300,
  attribute: 178_000,
  review: 293_200_000,
};

export type IdSource = (kind: IdKind) => number;

/** Increasing ids with small random gaps, like a shared database sequence. */
export function createIdSource(faker: Faker): IdSource {
  const last = new Map<IdKind, number>();
  return (kind) => {
    const next = (last.get(kind) ?? bases[kind]) + faker.number.int({ min: 1, max: 9 });
    last.set(kind, next);
    return next;
  };
}

const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/**
 * Five-character public order id (`K8XTQ`) derived from the internal id. Multiplying by an odd
 * constant modulo 32^5 = 2^25 is a bijection, so ids within 33M of each other never collide.
 */
export function publicOrderId(internalId: number): string {
  let x = Number((BigInt(internalId) * 2_654_435_761n) % 33_554_432n);
  let id = '';
  for (let i = 0; i < 5; i++) {
    id += alphabet[x % 32];
    x = Math.floor(x / 32);
  }
  return id;
}
