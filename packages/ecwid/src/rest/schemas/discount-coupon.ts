import { z } from 'zod';

/** `GET /discount_coupons/{id}`; `status` is ACTIVE/PAUSED/EXPIRED/USEDUP today. */
export const ecwidDiscountCouponSchema = z.looseObject({
  id: z.int(),
  code: z.string(),
  status: z.string(),
  discountType: z.string().optional(),
  discount: z.number().optional(),
  creationDate: z.string().optional(),
  updateDate: z.string().optional(),
});

export type EcwidDiscountCoupon = z.infer<typeof ecwidDiscountCouponSchema>;
