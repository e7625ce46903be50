/** One sub-request of a batch; `path` is relative to the store, e.g. `/orders/K8XTQ`. */
export type EcwidBatchRequest = {
  id?: string;
  path: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
};

/** Query options of `POST /batch` (docs/ecwid.md §5). */
export type CreateBatchOptions = {
  /** Ecwid's default is true; with false, 4xx moves on and 5xx is retried by Ecwid. */
  stopOnFirstFailure?: boolean;
  /** Up to 100 sub-requests at once instead of one after another. */
  allowParallelMode?: boolean;
  /** Makes a repeated create return the first ticket; the client generates one when absent. */
  deduplicationKey?: string;
  groupId?: string;
};

/** One sub-request's outcome, its body already parsed from `escapedHttpBody`. */
export type EcwidBatchResult = {
  id: string | undefined;
  /** COMPLETED, FAILED or NOT_EXECUTED. */
  status: string;
  httpStatusCode: number | undefined;
  body: unknown;
};

/** `GET /batch?ticket=…&escapedJson=true`, with sub-request bodies parsed. */
export type EcwidBatchStatus = {
  /** QUEUED, IN_PROGRESS or COMPLETED. */
  status: string;
  totalRequests: number;
  completedRequests: number;
  responses: EcwidBatchResult[];
};

/** Most sub-requests Ecwid accepts in one batch. */
export const maxBatchSize = 500;
