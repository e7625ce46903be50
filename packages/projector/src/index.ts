export { projectBatch, projectNextBatch, type BatchOutcome, type ProjectBatchOptions } from './projection/project-batch.ts';
export { projectedKinds, tablesOf, type ProjectedKind } from './projection/entity-specs.ts';
// Enrichment (webhooks → snapshots/tombstones), backfill and store tokens.
export * from './enrichment/index.ts';
export * from './backfill/index.ts';
export * from './stores/index.ts';
