import { z } from 'zod';

/** `POST /batch` answer. */
export const ecwidBatchTicketSchema = z.looseObject({ ticket: z.string().min(1) });

/** One sub-request's result in `GET /batch?ticket=…&escapedJson=true`. */
export const ecwidBatchResponseSchema = z.looseObject({
  // Absent when the sub-request was sent without one.
  id: z.string().optional(),
  status: z.string(),
  httpStatusCode: z.int().optional(),
  httpStatusLine: z.string().optional(),
  // With escapedJson=true the body arrives as a JSON string; legacy answers embed it as JSON.
  escapedHttpBody: z.string().optional(),
  httpBody: z.unknown().optional(),
});

/** `GET /batch?ticket=…` (docs/ecwid.md §5). `status` is QUEUED, IN_PROGRESS or COMPLETED. */
export const ecwidBatchStatusSchema = z.looseObject({
  status: z.string(),
  totalRequests: z.int().nonnegative(),
  completedRequests: z.int().nonnegative(),
  responses: z.array(ecwidBatchResponseSchema).optional(),
});

export type EcwidBatchStatusBody = z.infer<typeof ecwidBatchStatusSchema>;
