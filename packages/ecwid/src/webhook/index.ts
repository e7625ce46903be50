export {
  eventCatalog,
  lookupEventType,
  type Confidence,
  type EntityKind,
  type EventAction,
  type EventTypeInfo,
  type RefetchBy,
  type Scope,
} from './event-catalog.ts';
export { parseWebhook, type ParsedWebhook, type WebhookProblem } from './parse-webhook.ts';
export { webhookLogEntry } from './log-entry.ts';
export { isValidSignature, signWebhook } from './signature.ts';
export { ecwidWebhookSchema, type EcwidWebhook } from './webhook-schema.ts';
