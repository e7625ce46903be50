import { z } from 'zod';

/** `GET /application`: the app's subscription in this store. */
export const ecwidApplicationSchema = z.looseObject({
  subscriptionStatus: z.string().optional(),
  subscription: z
    .looseObject({
      status: z.string().optional(),
      startDate: z.string().optional(),
      expirationDate: z.string().optional(),
    })
    .optional(),
});

export type EcwidApplication = z.infer<typeof ecwidApplicationSchema>;
