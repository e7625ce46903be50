import type { EcwidStoreErrorCode } from './errors.ts';

/**
 * Which answers mean "the store cannot be read" rather than "this request failed"
 * (docs/ecwid.md §4.3). `undefined`: not a store-level answer.
 */
export function storeErrorCodeFor(status: number, errorCode: string | undefined): EcwidStoreErrorCode | undefined {
  if (status === 402) return errorCode === 'STORE_IS_SUSPENDED' ? 'SUSPENDED' : 'PLAN';
  if (status === 401) return 'TOKEN';
  if (status === 403) {
    if (errorCode === 'INVALID_API_TOKEN') return 'TOKEN';
    if (errorCode?.endsWith('_FEATURE_NOT_AVAILABLE')) return 'FEATURE';
    return 'SCOPE';
  }
  if (status === 404 && (errorCode === 'STORE_NOT_FOUND' || errorCode === 'PROFILE_NOT_FOUND')) {
    return 'STORE_NOT_FOUND';
  }
  return undefined;
}
