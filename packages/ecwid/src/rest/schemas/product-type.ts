import { z } from 'zod';

/** `GET /classes/{classId}`, a product type; id 0 is "General". */
export const ecwidProductTypeSchema = z.looseObject({
  id: z.int(),
  name: z.string().optional(),
  attributes: z.array(z.looseObject({ id: z.int().optional() })).optional(),
});

/** `GET /classes` answers a bare array, not a search envelope. */
export const ecwidProductTypeListSchema = z.array(ecwidProductTypeSchema);

export type EcwidProductType = z.infer<typeof ecwidProductTypeSchema>;
