import { formatEcwidDate } from '../dates.ts';
import type { IdSource } from '../store/id-source.ts';
import { publicOrderId } from '../store/id-source.ts';
import type { SimCoupon } from './discounts.ts';
import { roundMoney, type SimMoney } from './money.ts';
import type { SimPerson } from './person.ts';
import type { SimCombination, SimProduct } from './product.ts';
import type { FulfillmentStatus, PaymentStatus } from './statuses.ts';

export type SimOrderItem = {
  id: number;
  productId: number;
  combinationId?: number;
  categoryId: number;
  sku: string;
  name: string;
  quantity: number;
  price: number;
  tax: number;
  selectedOptions: { name: string; value: string; type: 'CHOICE' }[];
};

export type SimRefund = {
  date: string;
  source: 'CP' | 'API' | 'External';
  reason: string;
  amount: number;
};
export type SimInvoice = {
  internalId: number;
  id: string;
  created: string;
  link: string;
  type: 'SALE' | 'FULL_CANCEL';
};

/**
 * The mutable core of an order: every field a mirror reads. The constant, decorative rest of
 * examples/order.json is added by `renderOrder`, which keeps 100k orders at a sane memory size.
 */
export type SimOrder = {
  id: string;
  internalId: number;
  orderNumber: number;
  email: string;
  customerId?: number;
  paymentStatus: PaymentStatus;
  fulfillmentStatus: FulfillmentStatus;
  paymentMethod: string;
  subtotal: number;
  tax: number;
  total: number;
  pricesIncludeTax: boolean;
  taxRate: number;
  /** The tax on the items alone (the rest is on shipping and handling). */
  itemsTax: number;
  couponDiscount: number;
  /** The discount for a large order (Ecwid's "discount based on subtotal"). */
  volumeDiscount: number;
  shippingOption?: { shippingMethodName: string; shippingRate: number; shippingRateWithoutTax: number };
  handlingFee?: { name: string; value: number; valueWithoutTax: number };
  discountCoupon?: {
    id: number;
    name: string;
    code: string;
    discountType: string;
    discount: number;
  };
  refundedAmount: number;
  ipAddress: string;
  createDate: string;
  updateDate: string;
  createTimestamp: number;
  updateTimestamp: number;
  items: SimOrderItem[];
  refunds: SimRefund[];
  invoices: SimInvoice[];
  billingPerson: SimPerson;
  hidden: boolean;
};

export type OrderLine = {
  product: SimProduct;
  combination?: SimCombination | undefined;
  quantity: number;
};

const taxRate = 0.1;
const round = roundMoney;

/** Items with their tax at the store's rate (10 % added on top when no store is given). */
export function makeOrderItems(
  nextId: IdSource,
  lines: OrderLine[],
  money: Pick<SimMoney, 'pricesIncludeTax' | 'taxRate'> = { pricesIncludeTax: false, taxRate },
): SimOrderItem[] {
  return lines.map(({ product, combination, quantity }) => {
    const price = combination?.price ?? product.price;
    const line = price * quantity;
    return {
      id: nextId('orderItem'),
      productId: product.id,
      ...(combination ? { combinationId: combination.id } : {}),
      categoryId: product.defaultCategoryId,
      sku: combination?.sku ?? product.sku,
      name: product.name,
      quantity,
      price,
      tax: round(money.pricesIncludeTax ? line - line / (1 + money.taxRate) : line * money.taxRate),
      selectedOptions: (combination?.options ?? []).map((option) => ({
        ...option,
        type: 'CHOICE' as const,
      })),
    };
  });
}

export function orderTotals(items: SimOrderItem[], couponDiscount = 0) {
  const subtotal = round(items.reduce((sum, item) => sum + item.price * item.quantity, 0));
  const tax = round(items.reduce((sum, item) => sum + item.tax, 0));
  return { subtotal, tax, total: round(Math.max(0, subtotal - couponDiscount) + tax) };
}

/** What a shopper chose besides the items: a coupon, a shipping method, gift wrapping. */
export type OrderExtras = {
  coupon?: SimCoupon | undefined;
  shipping?: { method: string; rate: number } | undefined;
  handling?: number | undefined;
};

/**
 * An order's money the way Ecwid computes it: the coupon (percent or absolute, at most the
 * subtotal) and a 5 % volume discount from 100 on; shipping and handling; then one flat tax on
 * what is charged. Tax-exclusive: tax on the discounted items only, added on top. Tax-inclusive:
 * every price already holds its tax, which is taken out of the discounted items, the shipping
 * and the handling.
 */
export function priceOrder(items: SimOrderItem[], money: SimMoney, extras: OrderExtras = {}) {
  const rate = money.taxRate;
  const subtotal = round(items.reduce((sum, item) => sum + item.price * item.quantity, 0));
  const coupon = extras.coupon;
  const couponDiscount = !coupon
    ? 0
    : coupon.discountType === 'PERCENT'
      ? round((subtotal * coupon.discount) / 100)
      : Math.min(subtotal, coupon.discount);
  const volumeDiscount = subtotal >= 100 ? round((subtotal - couponDiscount) * 0.05) : 0;
  const discounted = round(subtotal - couponDiscount - volumeDiscount);
  const shippingRate = extras.shipping?.rate ?? 0;
  const handling = extras.handling ?? 0;
  const withoutTax = (value: number) => (money.pricesIncludeTax ? round(value / (1 + rate)) : value);
  const itemsTax = money.pricesIncludeTax ? round(discounted - discounted / (1 + rate)) : round(discounted * rate);
  const tax = money.pricesIncludeTax
    ? round(itemsTax + (shippingRate - withoutTax(shippingRate)) + (handling - withoutTax(handling)))
    : itemsTax;
  const total = round(discounted + shippingRate + handling + (money.pricesIncludeTax ? 0 : tax));
  return {
    subtotal,
    tax,
    itemsTax,
    total,
    pricesIncludeTax: money.pricesIncludeTax,
    taxRate: rate,
    couponDiscount,
    volumeDiscount,
    ...(extras.shipping && {
      shippingOption: { shippingMethodName: extras.shipping.method, shippingRate, shippingRateWithoutTax: withoutTax(shippingRate) },
    }),
    ...(extras.handling && { handlingFee: { name: 'Gift wrapping', value: handling, valueWithoutTax: withoutTax(handling) } }),
    ...(coupon && {
      discountCoupon: { id: coupon.id, name: coupon.name, code: coupon.code, discountType: coupon.discountType, discount: coupon.discount },
    }),
  };
}

export function makeOrder(input: {
  internalId: number;
  createdAt: number;
  items: SimOrderItem[];
  email: string;
  customerId: number | undefined;
  billingPerson: SimPerson;
  paymentStatus: PaymentStatus;
  fulfillmentStatus: FulfillmentStatus;
  paymentMethod: string;
  ipAddress: string;
  money: SimMoney;
  extras?: OrderExtras;
}): SimOrder {
  const date = formatEcwidDate(input.createdAt);
  return {
    id: publicOrderId(input.internalId),
    internalId: input.internalId,
    orderNumber: input.internalId,
    email: input.email,
    ...(input.customerId === undefined ? {} : { customerId: input.customerId }),
    paymentStatus: input.paymentStatus,
    fulfillmentStatus: input.fulfillmentStatus,
    paymentMethod: input.paymentMethod,
    ...priceOrder(input.items, input.money, input.extras),
    refundedAmount: 0,
    ipAddress: input.ipAddress,
    createDate: date,
    updateDate: date,
    createTimestamp: input.createdAt,
    updateTimestamp: input.createdAt,
    items: input.items,
    refunds: [],
    invoices: [],
    billingPerson: input.billingPerson,
    hidden: false,
  };
}

export function makeInvoice(storeId: number, internalId: number, createdAt: number): SimInvoice {
  return {
    internalId,
    // Ecwid numbers invoices per store; the id sequence's low digits are increasing and unique.
    id: String(internalId % 1_000_000),
    created: formatEcwidDate(createdAt),
    link: `https://app.ecwid.com/download_tax_invoice?ownerid=${storeId}&invoice_id=${internalId}`,
    type: 'SALE',
  };
}

function renderOrderItem(
  item: SimOrderItem,
  storeId: number,
  { pricesIncludeTax, taxRate: rate }: Pick<SimOrder, 'pricesIncludeTax' | 'taxRate'>,
) {
  const image = `https://d2j6dbq0eux0bg.cloudfront.net/images/${storeId}/${item.productId}`;
  const { combinationId, selectedOptions, ...rest } = item;
  return {
    ...rest,
    ...(combinationId === undefined ? {} : { combinationId }),
    priceWithoutTax: pricesIncludeTax ? round(item.price - item.tax / item.quantity) : item.price,
    productPrice: item.price,
    shortDescription: '',
    shortDescriptionTranslated: { en: '' },
    shipping: 0,
    quantityInStock: 0,
    nameTranslated: { en: item.name },
    isShippingRequired: true,
    trackQuantity: true,
    fixedShippingRateOnly: false,
    imageUrl: `${image}-1500.jpg`,
    smallThumbnailUrl: `${image}-160.jpg`,
    hdThumbnailUrl: `${image}-800.jpg`,
    fixedShippingRate: 0,
    digital: false,
    productAvailable: true,
    couponApplied: false,
    ...(selectedOptions.length ? { selectedOptions } : {}),
    files: [],
    taxes: [
      {
        name: 'Sales tax',
        value: rate * 100,
        total: item.tax,
        taxOnDiscountedSubtotal: item.tax,
        taxOnShipping: 0,
        includeInPrice: pricesIncludeTax,
        sourceTaxRateId: 0,
        sourceTaxRateType: 'MANUAL',
        taxClassName: 'Standard rate',
        taxClassCode: 'default',
      },
    ],
    dimensions: { length: 0, width: 0, height: 0 },
    discounts: [],
    discountsAllowed: true,
    taxable: true,
    giftCard: false,
    recurringTaxIds: [],
    isCustomerSetPrice: false,
    attributes: [],
  };
}

/** The full examples/order.json shape. */
export function renderOrder(order: SimOrder, storeId: number) {
  return {
    id: order.id,
    internalId: order.internalId,
    refundedAmount: order.refundedAmount,
    subtotal: order.subtotal,
    subtotalWithoutTax: order.pricesIncludeTax ? round(order.subtotal / (1 + order.taxRate)) : order.subtotal,
    total: order.total,
    totalWithoutTax: round(order.total - order.tax),
    giftCardRedemption: 0,
    totalBeforeGiftCardRedemption: order.total,
    giftCardDoubleSpending: false,
    email: order.email,
    paymentMethod: order.paymentMethod,
    tax: order.tax,
    customerTaxExempt: false,
    customerTaxId: '',
    customerTaxIdValid: false,
    b2b_b2c: 'b2c',
    reversedTaxApplied: false,
    customerRequestedInvoice: false,
    customerFiscalCode: '',
    electronicInvoicePecEmail: '',
    electronicInvoiceSdiCode: '',
    ipAddress: order.ipAddress,
    couponDiscount: order.couponDiscount,
    ...(order.discountCoupon ? { discountCoupon: order.discountCoupon } : {}),
    paymentStatus: order.paymentStatus,
    fulfillmentStatus: order.fulfillmentStatus,
    orderNumber: order.orderNumber,
    vendorOrderNumber: order.id,
    publicUid: order.id,
    refererUrl: `https://store${storeId}.company.site/products/`,
    orderComments: '',
    volumeDiscount: order.volumeDiscount,
    ...(order.customerId === undefined ? {} : { customerId: order.customerId }),
    membershipBasedDiscount: 0,
    totalAndMembershipBasedDiscount: 0,
    customDiscount: [],
    customSurcharges: [],
    // Every discount but the coupon's.
    discount: order.volumeDiscount,
    usdTotal: order.total,
    globalReferer: '',
    createDate: order.createDate,
    updateDate: order.updateDate,
    createTimestamp: order.createTimestamp,
    updateTimestamp: order.updateTimestamp,
    items: order.items.map((item) => renderOrderItem(item, storeId, order)),
    ...(order.shippingOption && { shippingOption: order.shippingOption }),
    ...(order.handlingFee && { handlingFee: order.handlingFee }),
    refunds: order.refunds,
    billingPerson: order.billingPerson,
    shippingPerson: order.billingPerson,
    predictedPackage: [],
    shippingLabelAvailableForShipment: false,
    shipments: [],
    additionalInfo: {},
    paymentParams: {},
    extraFields: {},
    ticket: 0,
    hidden: order.hidden,
    taxesOnShipping:
      order.shippingOption && order.pricesIncludeTax && order.shippingOption.shippingRate > order.shippingOption.shippingRateWithoutTax
        ? [{ name: 'Tax', value: 0, total: round(order.shippingOption.shippingRate - order.shippingOption.shippingRateWithoutTax) }]
        : [],
    disableAllCustomerNotifications: false,
    externalFulfillment: false,
    utmDataSets: [],
    invoices: order.invoices,
    pricesIncludeTax: order.pricesIncludeTax,
    loyalty: { customerEnabled: false, earned: 0, balance: 0 },
    customerUserAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)',
  };
}
