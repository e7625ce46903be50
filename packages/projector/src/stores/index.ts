export {
  addStoreToken,
  listStoreTokens,
  maskToken,
  parseEcwidStores,
  removeStoreToken,
  StoreTokensFormatError,
  syncEnvTokens,
  type StoreToken,
  type StoreTokenListing,
} from './store-tokens.ts';
