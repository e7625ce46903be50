export { createSimulator, type Simulator, type SimulatorOptions, type SimServer, type SimStoreOptions } from './create-simulator.ts';
export type { FaultOptions } from './http/faults.ts';
export type { RequestStats } from './http/request-stats.ts';
export { defaultSize, historyEnd, type SimSize } from './store/generate-store.ts';
export {
  SimStore,
  type SimDocs,
  type SimKind,
  type SimChangeTarget,
  type DeletedKind,
  type DeletedRecord,
  type LatestStat,
} from './store/sim-store.ts';
export type { EntityTable } from './store/entity-table.ts';
export { formatEcwidDate, parseEcwidDate } from './dates.ts';
export type { SimOrder, SimOrderItem, SimInvoice, SimRefund } from './documents/order.ts';
export { moneyPresets, moneyForSeed, type SimMoney } from './documents/money.ts';
export { moneyOf } from './documents/profile.ts';
export { orderSales, localDay, type SimOrderSales } from './documents/order-sales.ts';
export type { SimProduct, SimCombination, SimProductOption } from './documents/product.ts';
export type { SimCategory } from './documents/category.ts';
export type { SimCustomer, SimCustomerGroup } from './documents/customer.ts';
export type { SimCoupon, SimPromotion } from './documents/discounts.ts';
export type { SimCart } from './documents/cart.ts';
export type { SimReview } from './documents/review.ts';
export type { SimProductType } from './documents/product-type.ts';
export type { SimProfile, SimApplication } from './documents/profile.ts';
export { paymentStatuses, fulfillmentStatuses, type PaymentStatus, type FulfillmentStatus } from './documents/statuses.ts';
export {
  createActivity,
  type Activity,
  type ActivityOptions,
  type SimChange,
  type RunChangesOptions,
  type RunSummary,
} from './activity/create-activity.ts';
export { defaultLossyOptions, type LossyOptions } from './activity/lossy.ts';
export {
  truthKinds,
  type GroundTruth,
  type KindTruth,
  type TruthChange,
  type TruthEntity,
  type TruthFate,
  type TruthKind,
  type TruthReads,
  type TruthStatus,
} from './activity/ground-truth.ts';
export { buildWebhook, type EcwidWebhookBody, type SignedWebhook, type WebhookInput } from './activity/build-webhook.ts';
export { defaultDeliveryOptions, type DeliveryOptions, type DeliveryStats } from './activity/deliver-webhooks.ts';
export { runSimulatorServer, type RunSimulatorOptions, type RunningSimulator } from './run-simulator-server.ts';
export { createRandom } from './random.ts';
