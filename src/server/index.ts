export { fetchCasToken, DEFAULT_CAS_TOKEN_PATH, DEFAULT_CAS_TIMEOUT_MS, MAX_CAS_ANSWER_BYTES } from './fetchCasToken.js';
export type { FetchCasTokenOptions } from './fetchCasToken.js';
export {
  createCasTokenHandler,
  DEFAULT_SERVER_REFRESH_LEAD_MS,
  DEFAULT_STORE_TIMEOUT_MS,
  DEFAULT_AUTHORIZE_TIMEOUT_MS,
  DEFAULT_FAILURE_CACHE_MS,
  DEFAULT_MAX_CONCURRENT_CAS_CALLS,
  DEFAULT_CHECK_INTERVAL_MS,
} from './createCasTokenHandler.js';
export type {
  CasTokenAuthorizeContext,
  CasTokenAuthorizeResult,
  CasTokenHandler,
  CasTokenHandlerOptions,
  CasTokenLogger,
} from './createCasTokenHandler.js';
export type { CasTokenProxyErrorCode } from './ProxyFailure.js';
export { casTokenHandlerFromEnv } from './casTokenHandlerFromEnv.js';
export type { CasTokenHandlerFromEnvOptions } from './casTokenHandlerFromEnv.js';
export { createMemoryTokenStore, DEFAULT_MAX_ROOMS, KEEP_PLACE_MS } from './createMemoryTokenStore.js';
export type { MemoryTokenStoreOptions } from './createMemoryTokenStore.js';
export { TokenStoreFullError, isTokenStoreFullError } from './TokenStore.js';
export { createRedisTokenStore, DEFAULT_REDIS_KEY_PREFIX } from './createRedisTokenStore.js';
export type {
  RedisTokenStoreClient,
  RedisTokenStoreOptions,
  NodeRedisClientLike,
  IoRedisClientLike,
  UpstashRedisClientLike,
} from './createRedisTokenStore.js';
export type { TokenStore } from './TokenStore.js';
export { toNodeHandler, DEFAULT_SEND_TIMEOUT_MS } from './toNodeHandler.js';
export type { NodeHandler, NodeNextFunction, NodeRequestLike, NodeResponseLike, ToNodeHandlerOptions } from './toNodeHandler.js';
export type { CasCredentials } from './casConfig.js';
export { CasTokenError, isCasTokenError } from '../core/CasTokenError.js';
export type { CasTokenErrorCode } from '../core/CasTokenError.js';
