export {
  entityCatalog,
  fetchedKinds,
  isKind,
  kindDecl,
  kinds,
  requiredScopes,
  type ChildDecl,
  type CollectionApi,
  type CollectionKind,
  type Confidence,
  type DeletedListing,
  type EntityCatalog,
  type EntityTable,
  type EventAction,
  type EventDecl,
  type FetchedKind,
  type FetchMode,
  type FilterDecl,
  type Kind,
  type KindDecl,
  type RefetchBy,
  type Scope,
  type SingletonApi,
  type SingletonKind,
} from './entity-catalog.ts';
export { eventCatalog, lookupEventType, webhookLogEntry, type EventSubject, type EventTypeInfo } from './event-types.ts';
export { kindName, parseKindList, publicKindName, resolveKindName, type KindList, type ResolvedKind } from './kind-names.ts';
export { childArrays, childOmitted, fieldList, internalKeys, jsonField, parentKeyOf, printedFields, rowJson } from './row-printer.ts';
export {
  batchRowsWhere,
  keyRowsWhere,
  renderedKinds,
  renderingAuditText,
  renderStatement,
  renderStatementText,
  shareRowsWhere,
  storedListJson,
} from './list-rendering.ts';
