export { createApiApp, type ApiDeps, type RequestInfo } from './app.ts';
export { createApiKey, hashApiKey, listApiKeys, revokeApiKey, type ApiKeyInfo } from './api-keys.ts';
export { apiSection, loadApiOptions, type ApiOptions } from './config.ts';
export { startApi } from './start-api.ts';
