import { z } from 'zod';

/** A product variation ("combination"): its own id, sku, price and stock. */
export const ecwidCombinationSchema = z.looseObject({
  id: z.int(),
  sku: z.string().optional(),
  price: z.number().optional(),
  quantity: z.number().optional(),
  unlimited: z.boolean().optional(),
  inStock: z.boolean().optional(),
});

/** `GET /products/{productId}` (docs/ecwid.md §4.5). */
export const ecwidProductSchema = z.looseObject({
  id: z.int(),
  sku: z.string().optional(),
  name: z.string().optional(),
  enabled: z.boolean(),
  price: z.number(),
  quantity: z.number().optional(),
  unlimited: z.boolean().optional(),
  inStock: z.boolean().optional(),
  createTimestamp: z.int(),
  updateTimestamp: z.int(),
  productClassId: z.int().optional(),
  categoryIds: z.array(z.int()).optional(),
  defaultCategoryId: z.int().optional(),
  combinations: z.array(ecwidCombinationSchema).optional(),
});

export type EcwidCombination = z.infer<typeof ecwidCombinationSchema>;
export type EcwidProduct = z.infer<typeof ecwidProductSchema>;
