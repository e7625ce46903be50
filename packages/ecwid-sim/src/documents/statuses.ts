/** Value lists from docs/ecwid.md §1.4. */
export const paymentStatuses = [
  'AWAITING_PAYMENT',
  'PAID',
  'CANCELLED',
  'REFUNDED',
  'PARTIALLY_REFUNDED',
  'INCOMPLETE',
  'CUSTOM_PAYMENT_STATUS_1',
  'CUSTOM_PAYMENT_STATUS_2',
  'CUSTOM_PAYMENT_STATUS_3',
] as const;
export type PaymentStatus = (typeof paymentStatuses)[number];

export const fulfillmentStatuses = [
  'AWAITING_PROCESSING',
  'PROCESSING',
  'SHIPPED',
  'DELIVERED',
  'WILL_NOT_DELIVER',
  'RETURNED',
  'READY_FOR_PICKUP',
  'OUT_FOR_DELIVERY',
  'CUSTOM_FULFILLMENT_STATUS_1',
  'CUSTOM_FULFILLMENT_STATUS_2',
  'CUSTOM_FULFILLMENT_STATUS_3',
] as const;
export type FulfillmentStatus = (typeof fulfillmentStatuses)[number];
