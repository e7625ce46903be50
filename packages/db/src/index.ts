export {
  createDb,
  databaseOver,
  defaultPoolSize,
  execPrepared,
  execPreparedSql,
  execRows,
  type CreateDbOptions,
  type Database,
  type Db,
  type DbKind,
  type DedicatedDb,
  type Executor,
  type Session,
  type Tx,
} from './create-db.ts';
export {
  appendWebhooks,
  commitWebhooks,
  waitForCommittedWebhooks,
  waitForDurableLog,
  type AppendOutcome,
  type WebhookAppend,
} from './event-log/append-webhooks.ts';
export { appendChannel, createLogSignal, listenForAppends, type LogSignal } from './event-log/log-signal.ts';
export { readLog, readLogHead, type ReadLogOptions } from './event-log/read-log.ts';
export { migrationsFolder } from './migrations.ts';
export * from './schema/index.ts';
export { entityTableNames, grantReporting } from './reporting/grant-reporting.ts';
export { failedRequirement, pipelineCommit, requireSql } from './pipeline.ts';
export { sqlState } from './sql-state.ts';
export { listMirroredStores } from './stores/mirrored-stores.ts';
export { lastFetchAt, lastReconcileAt, readStoreOverview, type StoreOverview, type StoreStatus } from './stores/store-overview.ts';
export { claimEmbedded, DataDirInUseError, type ClaimOptions, type EmbeddedClaim, type ReleaseOptions } from './embedded/claim-embedded.ts';
export { serveEmbedded, type EmbeddedServer, type EmbeddedServerOptions } from './embedded/embedded-server.ts';
export { livenessOf, ownerRecordPath, readOwnerRecord, type OwnerRecord } from './embedded/owner-record.ts';
export {
  answerRequest,
  createRequest,
  emailShape,
  exportDeletedReason,
  exportReadable,
  getRequest,
  listRequests,
  normalizeEmail,
  readExport,
  RequestInputError,
  type NewRequest,
  type PersonalDataRequest,
  type RequestKind,
  type RequestScope,
} from './personal-data/requests.ts';
