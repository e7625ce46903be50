export { createApiApp, type ApiDeps, type RequestInfo } from './app.ts';
export { createApiKey, hashApiKey, listApiKeys, revokeApiKey, type ApiKeyInfo } from './api-keys.ts';
export { apiSection, loadApiOptions, type ApiOptions } from './config.ts';
export { createLagHistory, type LagHistory, type LagSample } from './lag-history.ts';
export type { OperatorActions, ParkedRetryOutcome, VerifyKind, VerifyState } from './operations-routes.ts';
export { startApi, type StartApiHooks } from './start-api.ts';
export { storeExists } from './stores.ts';
