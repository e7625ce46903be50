export * from './webhook/index.ts';
export * from './rest/index.ts';
export * from './oauth/index.ts';
