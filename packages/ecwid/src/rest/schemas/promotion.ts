import { z } from 'zod';

/** An item of `GET /promotions`: no timestamps and no get-by-id endpoint exist. */
export const ecwidPromotionSchema = z.looseObject({
  id: z.int(),
  name: z.string().optional(),
  enabled: z.boolean().optional(),
  amount: z.number().optional(),
});

export type EcwidPromotion = z.infer<typeof ecwidPromotionSchema>;
