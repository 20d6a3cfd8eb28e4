export { fetchCasToken, DEFAULT_CAS_TOKEN_PATH, DEFAULT_CAS_TIMEOUT_MS } from './fetchCasToken.js';
export type { FetchCasTokenOptions } from './fetchCasToken.js';
export { createCasTokenHandler, DEFAULT_SERVER_REFRESH_LEAD_MS } from './createCasTokenHandler.js';
export type { CasTokenHandler, CasTokenHandlerOptions, CasTokenLogger } from './createCasTokenHandler.js';
export { casTokenHandlerFromEnv } from './casTokenHandlerFromEnv.js';
export type { CasTokenHandlerFromEnvOptions } from './casTokenHandlerFromEnv.js';
export { createMemoryTokenStore, DEFAULT_MAX_ROOMS } from './createMemoryTokenStore.js';
export type { MemoryTokenStoreOptions } from './createMemoryTokenStore.js';
export { createRedisTokenStore, DEFAULT_REDIS_KEY_PREFIX } from './createRedisTokenStore.js';
export type {
  RedisTokenStoreClient,
  RedisTokenStoreOptions,
  NodeRedisClientLike,
  IoRedisClientLike,
  UpstashRedisClientLike,
} from './createRedisTokenStore.js';
export type { TokenStore } from './TokenStore.js';
export { toNodeHandler } from './toNodeHandler.js';
export type { NodeHandler, NodeNextFunction, NodeRequestLike, NodeResponseLike } from './toNodeHandler.js';
export type { CasCredentials } from './casConfig.js';
export { CasTokenError, isCasTokenError } from '../core/CasTokenError.js';
export type { CasTokenErrorCode } from '../core/CasTokenError.js';
