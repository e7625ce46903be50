export { createIngestApp, type IngestDeps, type WebhookOutcome } from './app.ts';
export { loadIngestConfig, type IngestConfig } from './config.ts';
export { createIngest, listen, type IngestOptions } from './start-ingest.ts';
export { mountHealth, type CheckReady } from './health.ts';
