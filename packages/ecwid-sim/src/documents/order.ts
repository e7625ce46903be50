import { formatEcwidDate } from '../dates.ts';
import type { IdSource } from '../store/id-source.ts';
import { publicOrderId } from '../store/id-source.ts';
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
  couponDiscount: number;
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
const round = (value: number) => Math.round(value * 100) / 100;

export function makeOrderItems(nextId: IdSource, lines: OrderLine[]): SimOrderItem[] {
  return lines.map(({ product, combination, quantity }) => {
    const price = combination?.price ?? product.price;
    return {
      id: nextId('orderItem'),
      productId: product.id,
      ...(combination ? { combinationId: combination.id } : {}),
      categoryId: product.defaultCategoryId,
      sku: combination?.sku ?? product.sku,
      name: product.name,
      quantity,
      price,
      tax: round(price * quantity * taxRate),
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
    ...orderTotals(input.items),
    couponDiscount: 0,
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

function renderOrderItem(item: SimOrderItem, storeId: number) {
  const image = `https://d2j6dbq0eux0bg.cloudfront.net/images/${storeId}/${item.productId}`;
  const { combinationId, selectedOptions, ...rest } = item;
  return {
    ...rest,
    ...(combinationId === undefined ? {} : { combinationId }),
    priceWithoutTax: item.price,
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
        value: taxRate * 100,
        total: item.tax,
        taxOnDiscountedSubtotal: item.tax,
        taxOnShipping: 0,
        includeInPrice: false,
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
    subtotalWithoutTax: order.subtotal,
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
    volumeDiscount: 0,
    ...(order.customerId === undefined ? {} : { customerId: order.customerId }),
    membershipBasedDiscount: 0,
    totalAndMembershipBasedDiscount: 0,
    customDiscount: [],
    customSurcharges: [],
    discount: 0,
    usdTotal: order.total,
    globalReferer: '',
    createDate: order.createDate,
    updateDate: order.updateDate,
    createTimestamp: order.createTimestamp,
    updateTimestamp: order.updateTimestamp,
    items: order.items.map((item) => renderOrderItem(item, storeId)),
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
    taxesOnShipping: [],
    disableAllCustomerNotifications: false,
    externalFulfillment: false,
    utmDataSets: [],
    invoices: order.invoices,
    pricesIncludeTax: false,
    loyalty: { customerEnabled: false, earned: 0, balance: 0 },
    customerUserAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)',
  };
}
