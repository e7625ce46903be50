export { parseWebhook, type ParsedWebhook, type WebhookProblem } from './parse-webhook.ts';
export { isValidSignature, signWebhook } from './signature.ts';
export { ecwidWebhookSchema, type EcwidWebhook } from './webhook-schema.ts';
