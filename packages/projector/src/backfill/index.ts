export { backfill, type BackfillOptions, type BackfillProgress, type BackfillSummary } from './backfill.ts';
export { backfillEntities, type BackfillEntity } from './backfill-entities.ts';
