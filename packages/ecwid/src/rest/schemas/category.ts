import { z } from 'zod';

/** `GET /categories/{categoryId}`; categories carry no update timestamp (docs/ecwid.md §4.5). */
export const ecwidCategorySchema = z.looseObject({
  id: z.int(),
  parentId: z.int().optional(),
  orderBy: z.number().optional(),
  name: z.string().optional(),
  enabled: z.boolean().optional(),
  productIds: z.array(z.int()).optional(),
});

export type EcwidCategory = z.infer<typeof ecwidCategorySchema>;
