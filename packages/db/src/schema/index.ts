export { eventLogTable, recordKinds, type EventLogRow, type NewEventLogRow, type RecordKind } from './event-log.ts';
export * from './entities.ts';
export * from './renderings.ts';
export * from './operations.ts';
