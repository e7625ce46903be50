import { z } from 'zod';

const updatedAt = z.string().optional();

/** `GET /latest-stats`: when each family last changed, the cheap change detector. */
export const ecwidLatestStatsSchema = z.looseObject({
  productsUpdated: updatedAt,
  ordersUpdated: updatedAt,
  reviewsUpdated: updatedAt,
  profileUpdated: updatedAt,
  categoriesUpdated: updatedAt,
  discountCouponsUpdated: updatedAt,
  abandonedSalesUpdated: updatedAt,
  customersUpdated: updatedAt,
});

export type EcwidLatestStats = z.infer<typeof ecwidLatestStatsSchema>;
