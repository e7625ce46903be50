import { z } from 'zod';

/** An item of `GET /{entity}/deleted`: the id and when it was deleted. */
export const ecwidDeletedItemSchema = z.looseObject({
  id: z.union([z.int(), z.string()]),
  date: z.string(),
  // Deleted orders also carry the public order id (Ecwid's Java client, DeletedOrder.kt).
  orderId: z.string().optional(),
});

export type EcwidDeletedItem = z.infer<typeof ecwidDeletedItemSchema>;
