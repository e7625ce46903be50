import { z } from 'zod';
import { ecwidOrderItemSchema } from './order.ts';

/** `GET /carts/{cartId}`: an abandoned checkout, keyed by a UUID (docs/ecwid.md §4.5). */
export const ecwidCartSchema = z.looseObject({
  cartId: z.string().min(1),
  total: z.number().optional(),
  createTimestamp: z.int(),
  updateTimestamp: z.int(),
  hidden: z.boolean().optional(),
  customerId: z.int().optional(),
  email: z.string().optional(),
  recoveredOrderId: z.union([z.string(), z.int()]).optional(),
  items: z.array(ecwidOrderItemSchema),
});

export type EcwidCart = z.infer<typeof ecwidCartSchema>;
