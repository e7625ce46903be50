export { prepareTestBackend, type TestBackend } from './test-backend.ts';
export { concurrencySkipReason, createTestDatabase, postgresSkipReason, type TestDatabase } from './test-database.ts';
