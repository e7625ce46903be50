export { createApiApp, type ApiDeps, type RequestInfo } from './app.ts';
export { createApiKey, hashApiKey, listApiKeys, revokeApiKey, type ApiKeyInfo } from './api-keys.ts';
export { loadApiConfig, type ApiConfig } from './config.ts';
export { listen, startApi } from './start-api.ts';
