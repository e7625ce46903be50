import { EcwidValidationError } from './errors.ts';
import type { EcwidBatchResult, EcwidBatchStatus } from './batch-types.ts';
import type { EcwidBatchStatusBody } from './schemas/batch.ts';

/**
 * Ecwid returns each sub-response as a JSON string in `escapedHttpBody` when asked with
 * `escapedJson=true` (as Ecwid's Java client does); legacy answers embed it in `httpBody`.
 */
export function parseBatchStatus(body: EcwidBatchStatusBody, request: { method: string; path: string }): EcwidBatchStatus {
  const responses = (body.responses ?? []).map((response, index): EcwidBatchResult => {
    let parsed: unknown = response.httpBody;
    if (response.escapedHttpBody !== undefined && response.escapedHttpBody !== '') {
      try {
        parsed = JSON.parse(response.escapedHttpBody) as unknown;
      } catch (cause) {
        throw new EcwidValidationError(request, [{ path: `responses[${index}].escapedHttpBody`, message: 'not JSON' }], { cause });
      }
    }
    return {
      id: response.id,
      status: response.status,
      httpStatusCode: response.httpStatusCode,
      body: parsed,
    };
  });
  return {
    status: body.status,
    totalRequests: body.totalRequests,
    completedRequests: body.completedRequests,
    responses,
  };
}
