import type { ProjectorRecord } from './append-records.ts';
import type { FetchOutcome } from './fetch-entities.ts';
import type { WorkGroup } from './plan-work.ts';

/**
 * The record answering a work group (0002): a derived `store` snapshot, the fetched snapshot, or
 * a tombstone when Ecwid answered 404: `deleted` when a `*.deleted` webhook said so (now
 * confirmed), `not_found` otherwise. A `*.deleted` for an entity Ecwid still serves gets the
 * snapshot, noted `unconfirmed_delete`. Undefined for a fetch that failed.
 */
export function buildRecord(
  storeId: number,
  group: WorkGroup,
  outcome: FetchOutcome | undefined,
  causedBy: readonly number[],
  now: Date,
): ProjectorRecord | undefined {
  const base = { storeId, entityKind: group.entityKind, causedBy };
  switch (group.action) {
    case 'derived':
      return { ...base, kind: 'snapshot', entityId: group.key, payload: group.payload, fetchedAt: now };
    case 'fetch': {
      const internalId = group.internalOrderId !== undefined ? { internalId: group.internalOrderId } : {};
      if (outcome?.status === 'ok')
        return {
          ...base,
          kind: 'snapshot',
          entityId: outcome.entityId,
          payload: outcome.doc,
          fetchedAt: outcome.fetchedAt,
          ...(group.deleteClaim && { note: 'unconfirmed_delete' }),
        };
      if (outcome?.status === 'gone')
        return {
          ...base,
          kind: 'tombstone',
          entityId: group.key,
          payload: group.deleteClaim
            ? { reason: 'deleted', eventType: group.deleteClaim.eventType, ...internalId }
            : { reason: 'not_found', ...internalId },
          fetchedAt: outcome.fetchedAt,
        };
      return undefined;
    }
  }
}
