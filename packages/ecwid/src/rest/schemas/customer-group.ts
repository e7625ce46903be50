import { z } from 'zod';

/** `GET /customer_groups/{groupId}`; group 0 is "General". */
export const ecwidCustomerGroupSchema = z.looseObject({
  id: z.int(),
  name: z.string(),
});

export type EcwidCustomerGroup = z.infer<typeof ecwidCustomerGroupSchema>;
