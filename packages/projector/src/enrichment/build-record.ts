import type { ProjectorRecord } from './append-records.ts';
import type { FetchOutcome } from './fetch-entities.ts';
import type { WorkGroup } from './plan-work.ts';

/**
 * The record answering a work group (0002): a derived `store` snapshot, a `deleted` tombstone,
 * the fetched snapshot, or a `not_found` tombstone. Undefined for a fetch that failed.
 */
export function buildRecord(
  storeId: number,
  group: WorkGroup,
  outcome: FetchOutcome | undefined,
  causedBy: readonly number[],
  now: Date,
): ProjectorRecord | undefined {
  const base = { storeId, entityKind: group.entityKind, causedBy };
  const internalId = 'internalOrderId' in group && group.internalOrderId !== undefined ? { internalId: group.internalOrderId } : {};
  switch (group.action) {
    case 'derived':
      return { ...base, kind: 'snapshot', entityId: group.key, payload: group.payload, fetchedAt: now };
    case 'tombstone':
      return {
        ...base,
        kind: 'tombstone',
        entityId: group.key,
        payload: { reason: 'deleted', eventType: group.eventType, ...internalId },
        fetchedAt: now,
      };
    case 'fetch':
      if (outcome?.status === 'ok')
        return { ...base, kind: 'snapshot', entityId: outcome.entityId, payload: outcome.doc, fetchedAt: outcome.fetchedAt };
      if (outcome?.status === 'gone')
        return {
          ...base,
          kind: 'tombstone',
          entityId: group.key,
          payload: { reason: 'not_found', ...internalId },
          fetchedAt: outcome.fetchedAt,
        };
      return undefined;
  }
}
