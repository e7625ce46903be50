export { backfill, type BackfillOptions, type BackfillProgress, type BackfillSummary } from './backfill.ts';
export { backfillKinds, type BackfillKind } from './backfill-entities.ts';
