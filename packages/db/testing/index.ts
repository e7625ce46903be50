export { prepareTestBackend, type TestBackend } from './test-backend.ts';
export { concurrencySkipReason, createTestDatabase, type TestDatabase } from './test-database.ts';
