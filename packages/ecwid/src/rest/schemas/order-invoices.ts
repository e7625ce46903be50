import { z } from 'zod';

/** `GET /orders/{orderId}/invoices`. */
export const ecwidOrderInvoicesSchema = z.looseObject({
  invoices: z.array(
    z.looseObject({
      internalId: z.int(),
      id: z.string(),
      created: z.string().optional(),
      type: z.string().optional(),
    }),
  ),
});

export type EcwidOrderInvoices = z.infer<typeof ecwidOrderInvoicesSchema>;
