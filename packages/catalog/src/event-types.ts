import { entityCatalog, kinds, type Confidence, type EventAction, type Kind, type RefetchBy, type Scope } from './entity-catalog.ts';

/**
 * What an event type concerns: an entity kind, or a request that has no table of its own
 * (personal-data requests; size charts, which no documented REST endpoint serves).
 */
export type EventSubject = Kind | 'personal_data_request' | 'size_chart';

/** One event type the mirror understands (docs/ecwid.md §1.3–§1.5). */
export type EventTypeInfo = {
  eventType: string;
  entity: EventSubject;
  action: EventAction;
  scope: Scope;
  refetchBy: RefetchBy;
  confidence: Confidence;
  /** Other spellings seen in Ecwid's own clients (snake_case, docs/ecwid.md §1.3 "event-name drift"). */
  aliases: readonly string[];
};

const fromKinds: EventTypeInfo[] = kinds.flatMap((kind) => {
  const decl = entityCatalog[kind];
  return decl.events.map((e) => ({ ...e, entity: kind, scope: decl.scope }));
});

const request = (eventType: string, action: EventAction, alias: string): EventTypeInfo => ({
  eventType,
  entity: 'personal_data_request',
  action,
  scope: 'read_store_profile',
  refetchBy: 'none',
  confidence: 'confirmed',
  aliases: [alias],
});

const others: EventTypeInfo[] = [
  request('customer.personalDataRemovalRequest', 'removal_requested', 'customer.personal_data_removal_request'),
  request('customer.personalDataExportRequest', 'export_requested', 'customer.personal_data_export_request'),
  request('profile.personalDataRemovalRequest', 'removal_requested', 'profile.personal_data_removal_request'),
  request('profile.personalDataExportRequest', 'export_requested', 'profile.personal_data_export_request'),
  // Seen only in Ecwid's Java client (2025); no REST endpoint for size charts is documented, so
  // these are logged and recognised but nothing is fetched.
  ...(['created', 'updated', 'deleted'] as const).map((action): EventTypeInfo => ({
    eventType: `size_chart.${action}`,
    entity: 'size_chart',
    action,
    scope: 'read_catalog',
    refetchBy: 'none',
    confidence: 'unconfirmed',
    aliases: [],
  })),
];

/** The 45 event types (the 42 documented ones and size_chart.*), keyed by their documented spelling. */
export const eventCatalog: ReadonlyMap<string, EventTypeInfo> = new Map([...fromKinds, ...others].map((info) => [info.eventType, info]));

const byAnySpelling: ReadonlyMap<string, EventTypeInfo> = new Map(
  [...eventCatalog.values()].flatMap((info) => [[info.eventType, info] as const, ...info.aliases.map((alias) => [alias, info] as const)]),
);

/**
 * Looks an event type up by its documented spelling or a known alias. `undefined` means
 * unknown: such events are still logged, never rejected (Ecwid adds types without notice).
 */
export function lookupEventType(eventType: string): EventTypeInfo | undefined {
  return byAnySpelling.get(eventType);
}

/**
 * What the event log keeps of a received webhook (the fields of @mirror/db's WebhookAppend):
 * its identity, the entity the catalogue says it concerns (null for a type outside it, which is
 * kept all the same), and the body exactly as received.
 */
export function webhookLogEntry(
  webhook: { storeId: number; eventId: string; eventType: string; entityId: number | string; eventCreated: number },
  body: string,
) {
  const info = lookupEventType(webhook.eventType);
  return {
    storeId: webhook.storeId,
    eventId: webhook.eventId,
    eventType: webhook.eventType,
    entityKind: info?.entity ?? null,
    entityId: String(webhook.entityId),
    isKnownType: info !== undefined,
    eventCreated: webhook.eventCreated,
    body,
  };
}
