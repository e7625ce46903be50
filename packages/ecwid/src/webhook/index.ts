export { isValidSignature, signWebhook } from './signature.ts';
