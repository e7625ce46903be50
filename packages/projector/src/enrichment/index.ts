export { appendRecords, type ProjectorRecord, type RecordEntityKind, type TombstoneReason } from './append-records.ts';
export { createClientFactory, workerRateLimitWaitMs, type ClientFactory, type ClientFactoryOptions } from './create-client-factory.ts';
export { enrichStore, type EnrichPassResult, type EnrichStoreDeps } from './enrich-store.ts';
export { readEnrichmentState, type EnrichmentState, type EnrichmentStatus } from './enrichment-state.ts';
export { fetchEntities, type FetchOutcome, type FetchRequest } from './fetch-entities.ts';
export { findStores, type StoreWork } from './find-stores.ts';
export { planWork, type Lifecycle, type WorkGroup, type WorkPlan } from './plan-work.ts';
export {
  readStatus,
  type BackfillStatus,
  type MirrorStatus,
  type ProjectionStatus,
  type ReconcileStatus,
  type StoreStatus,
} from './read-status.ts';
export { retryParked, type RetryParkedOptions, type RetryParkedResult } from './retry-parked.ts';
export { runEnrichment, type RunEnrichmentOptions } from './run-enrichment.ts';
export { createStoreLeases, enrichmentLeaseKey, type StoreLeases } from './store-leases.ts';
