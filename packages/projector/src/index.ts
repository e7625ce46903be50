export { projectBatch, projectNextBatch, type BatchOutcome, type ProjectBatchOptions } from './projection/project-batch.ts';
export { tablesOf } from './projection/entity-specs.ts';
export { entityUpdatedAtSql } from './projection/entity-updated-at.ts';
// Enrichment (webhooks → snapshots/tombstones), backfill and store tokens.
export * from './enrichment/index.ts';
export * from './backfill/index.ts';
export * from './stores/index.ts';
export { runProjection, type RunProjectionOptions } from './projection/run-projection.ts';
export { replay, type ReplayOptions } from './rebuild/replay.ts';
export { rebuild, type RebuildOptions, type RebuildPhase, type RebuildProgress, type RebuildResult } from './rebuild/rebuild.ts';
export * from './reconcile/index.ts';
export * from './personal-data/index.ts';
