import { z } from 'zod';

/** `GET /customers/{customerId}`: dates are strings, there is no numeric timestamp. */
export const ecwidCustomerSchema = z.looseObject({
  id: z.int(),
  email: z.string().optional(),
  registered: z.string().optional(),
  updated: z.string().optional(),
  customerGroupId: z.int().optional(),
});

export type EcwidCustomer = z.infer<typeof ecwidCustomerSchema>;
