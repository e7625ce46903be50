export { createIngestApp, type IngestDeps, type WebhookOutcome } from './app.ts';
export { ingestSection, loadIngestOptions, type IngestOptions } from './config.ts';
export { createIngest } from './start-ingest.ts';
