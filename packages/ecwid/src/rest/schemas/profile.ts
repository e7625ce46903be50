import { z } from 'zod';

/** `GET /profile`: only the store id is checked; the rest is stored as is. */
export const ecwidProfileSchema = z.looseObject({
  generalInfo: z.looseObject({ storeId: z.int() }),
});

export type EcwidProfile = z.infer<typeof ecwidProfileSchema>;
