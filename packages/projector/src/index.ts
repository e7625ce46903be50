// Enrichment (webhooks → snapshots/tombstones), backfill and store tokens.
export * from './enrichment/index.ts';
export * from './backfill/index.ts';
export * from './stores/index.ts';
