import { formatEcwidDate } from '../dates.ts';
import type { SimOrderItem } from './order.ts';
import { orderTotals } from './order.ts';
import type { SimPerson } from './person.ts';

/**
 * An abandoned cart (`GET /carts/{cartId}`). `unfinishedOrder` is the order Ecwid creates
 * behind the cart: `unfinished_order.*` webhooks carry its ids (docs/ecwid.md §1.4); it is
 * not part of the REST body.
 */
export type SimCart = {
  cartId: string;
  email: string;
  customerId?: number;
  paymentStatus: 'INCOMPLETE';
  fulfillmentStatus: 'AWAITING_PROCESSING';
  subtotal: number;
  tax: number;
  total: number;
  createDate: string;
  updateDate: string;
  createTimestamp: number;
  updateTimestamp: number;
  hidden: boolean;
  items: SimOrderItem[];
  billingPerson: SimPerson;
  ipAddress: string;
  recoveredOrderId?: string;
  recoveredOrderNumber?: number;
  unfinishedOrder: { id: string; internalId: number };
};

export function makeCart(input: {
  cartId: string;
  createdAt: number;
  items: SimOrderItem[];
  email: string;
  customerId: number | undefined;
  billingPerson: SimPerson;
  ipAddress: string;
  unfinishedOrder: { id: string; internalId: number };
}): SimCart {
  const date = formatEcwidDate(input.createdAt);
  return {
    cartId: input.cartId,
    email: input.email,
    ...(input.customerId === undefined ? {} : { customerId: input.customerId }),
    paymentStatus: 'INCOMPLETE',
    fulfillmentStatus: 'AWAITING_PROCESSING',
    ...orderTotals(input.items),
    createDate: date,
    updateDate: date,
    createTimestamp: input.createdAt,
    updateTimestamp: input.createdAt,
    hidden: false,
    items: input.items,
    billingPerson: input.billingPerson,
    ipAddress: input.ipAddress,
    unfinishedOrder: input.unfinishedOrder,
  };
}

export function renderCart(cart: SimCart) {
  const { unfinishedOrder: _unfinishedOrder, ...body } = cart;
  return body;
}
