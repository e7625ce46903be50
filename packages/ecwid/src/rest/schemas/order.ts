import { z } from 'zod';

// Only what the mirror reads is checked; `looseObject` keeps every other field, so the
// stored document stays whole and a new Ecwid field cannot break parsing.

/** A line of an order or abandoned cart. */
export const ecwidOrderItemSchema = z.looseObject({
  id: z.int().optional(),
  productId: z.int().optional(),
  sku: z.string().optional(),
  quantity: z.number(),
  price: z.number(),
  // Set when the line is a product variation (Ecwid "combination").
  combinationId: z.int().optional(),
});

/** `GET /orders/{orderId}` (docs/ecwid.md §4.5). */
export const ecwidOrderSchema = z.looseObject({
  id: z.string().min(1),
  internalId: z.int(),
  orderNumber: z.int().optional(),
  paymentStatus: z.string().optional(),
  fulfillmentStatus: z.string().optional(),
  total: z.number(),
  subtotal: z.number().optional(),
  createTimestamp: z.int(),
  updateTimestamp: z.int(),
  customerId: z.int().optional(),
  email: z.string().optional(),
  hidden: z.boolean().optional(),
  items: z.array(ecwidOrderItemSchema),
});

export type EcwidOrderItem = z.infer<typeof ecwidOrderItemSchema>;
export type EcwidOrder = z.infer<typeof ecwidOrderSchema>;
