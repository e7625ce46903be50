export { createDb, execRows, type CreateDbOptions, type Database, type Db, type DbKind, type Executor, type Tx } from './create-db.ts';
export { appendWebhooks, type AppendOutcome, type WebhookAppend } from './event-log/append-webhooks.ts';
export { readLog, readLogHead, type ReadLogOptions } from './event-log/read-log.ts';
export { migrationsFolder } from './migrations.ts';
export * from './schema/index.ts';
export { entityTableNames, grantReporting } from './reporting/grant-reporting.ts';
export { sqlState } from './sql-state.ts';
export { listMirroredStores } from './stores/mirrored-stores.ts';
