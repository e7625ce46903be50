import { z } from 'zod';

/** An item of `GET /reviews`; `orderId` is the public order id (a string). */
export const ecwidReviewSchema = z.looseObject({
  id: z.int(),
  productId: z.int(),
  status: z.string(),
  rating: z.number(),
  orderId: z.union([z.string(), z.int()]).optional(),
  customerId: z.int().optional(),
  createTimestamp: z.int(),
  updateTimestamp: z.int(),
});

export type EcwidReview = z.infer<typeof ecwidReviewSchema>;
