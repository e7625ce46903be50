export { buildAuthorizeUrl, ecwidOAuthBaseUrl, exchangeOAuthCode, OAuthExchangeError, type OAuthGrant } from './oauth.ts';
