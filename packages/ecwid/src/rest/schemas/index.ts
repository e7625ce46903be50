export { ecwidApplicationSchema, type EcwidApplication } from './application.ts';
export {
  ecwidBatchResponseSchema,
  ecwidBatchStatusSchema,
  ecwidBatchTicketSchema,
  type EcwidBatchStatusBody,
} from './batch.ts';
export { ecwidCartSchema, type EcwidCart } from './cart.ts';
export { ecwidCategorySchema, type EcwidCategory } from './category.ts';
export { ecwidCustomerGroupSchema, type EcwidCustomerGroup } from './customer-group.ts';
export { ecwidCustomerSchema, type EcwidCustomer } from './customer.ts';
export { ecwidDeletedItemSchema, type EcwidDeletedItem } from './deleted-item.ts';
export { ecwidDiscountCouponSchema, type EcwidDiscountCoupon } from './discount-coupon.ts';
export { ecwidLatestStatsSchema, type EcwidLatestStats } from './latest-stats.ts';
export { ecwidOrderInvoicesSchema, type EcwidOrderInvoices } from './order-invoices.ts';
export {
  ecwidOrderItemSchema,
  ecwidOrderSchema,
  type EcwidOrder,
  type EcwidOrderItem,
} from './order.ts';
export {
  ecwidProductTypeListSchema,
  ecwidProductTypeSchema,
  type EcwidProductType,
} from './product-type.ts';
export {
  ecwidCombinationSchema,
  ecwidProductSchema,
  type EcwidCombination,
  type EcwidProduct,
} from './product.ts';
export { ecwidProfileSchema, type EcwidProfile } from './profile.ts';
export { ecwidPromotionSchema, type EcwidPromotion } from './promotion.ts';
export { ecwidReviewSchema, type EcwidReview } from './review.ts';
export { searchPageSchema, type SearchPage } from './search-page.ts';
export { ecwidStorageEntrySchema, ecwidStorageSchema, type EcwidStorageEntry } from './storage.ts';
