import { parseEcwidDate } from '../dates.ts';
import { roundMoney, type SimMoney } from './money.ts';
import type { SimOrder } from './order.ts';

/**
 * What an order should add to a store's sales reports (docs/reporting.md), worked out from the
 * simulator's own model of the order (how priceOrder built it), not from the document a mirror
 * reads: tests compare a mirror's reports with these.
 */
export type SimOrderSales = {
  /** Whether the order is a sale: paid (or refunded), not hidden, neither undeliverable nor returned. */
  counted: boolean;
  /** The day it was placed, in the store's time zone (YYYY-MM-DD). */
  day: string;
  currency: string;
  /** Items before discounts, without tax. */
  gross: number;
  discounts: number;
  /** Shipping and handling without tax. */
  shipping: number;
  taxes: number;
  /** What the customer was charged. */
  total: number;
  refunds: { day: string; amount: number }[];
};

const days = new Map<string, Intl.DateTimeFormat>();

/** The calendar day of a UNIX time in a time zone, as YYYY-MM-DD. */
export function localDay(seconds: number, timezone: string): string {
  let format = days.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
    days.set(timezone, format);
  }
  return format.format(new Date(seconds * 1000));
}

export function orderSales(order: SimOrder, money: SimMoney): SimOrderSales {
  const counted =
    !order.hidden &&
    ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'].includes(order.paymentStatus) &&
    !['WILL_NOT_DELIVER', 'RETURNED'].includes(order.fulfillmentStatus);
  const discounts = roundMoney(order.couponDiscount + order.volumeDiscount);
  // The items' tax-free value after discounts: take the items' tax out where prices held it.
  const net = roundMoney(order.subtotal - discounts - (order.pricesIncludeTax ? order.itemsTax : 0));
  return {
    counted,
    day: localDay(order.createTimestamp, money.timezone),
    currency: money.currency,
    gross: roundMoney(net + discounts),
    discounts,
    shipping: roundMoney((order.shippingOption?.shippingRateWithoutTax ?? 0) + (order.handlingFee?.valueWithoutTax ?? 0)),
    taxes: order.tax,
    total: order.total,
    refunds: order.refunds.map((refund) => ({
      day: localDay(parseEcwidDate(refund.date) ?? order.updateTimestamp, money.timezone),
      amount: refund.amount,
    })),
  };
}
