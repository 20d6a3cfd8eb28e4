import { describe, expectTypeOf, it } from 'vitest';
import { createClient, createCluster } from 'redis';
import { Redis as IoRedis, Cluster as IoRedisCluster } from 'ioredis';
import { Redis as Upstash } from '@upstash/redis';
import { Redis as IoRedis5 } from 'ioredis-v5';
import { createClient as createClient4 } from 'node-redis-v4';
import { createClient as createClient5 } from 'node-redis-v5';
import {
  casTokenHandlerFromEnv,
  createCasTokenHandler,
  createMemoryTokenStore,
  createRedisTokenStore,
  fetchCasToken,
  isTokenStoreFullError,
  toNodeHandler,
  TokenStoreFullError,
  type CasTokenAuthorizeContext,
  type CasTokenAuthorizeResult,
  type CasTokenErrorCode,
  type CasTokenHandler,
  type CasTokenHandlerOptions,
  type CasTokenProxyErrorCode,
  type NodeHandler,
  type TokenStore,
} from 'react-cas-token/server';

const cas = { casUrl: 'https://cas.example.com', apiKey: 'key', apiSecret: 'secret' };

describe('fetchCasToken', () => {
  it('takes the CAS settings and resolves to the token string', () => {
    expectTypeOf(fetchCasToken).returns.toEqualTypeOf<Promise<string>>();
    void fetchCasToken({ ...cas, path: '/sync/token/', signal: AbortSignal.timeout(1_000), fetch: globalThis.fetch });
    // @ts-expect-error the secret is required
    void fetchCasToken({ casUrl: cas.casUrl, apiKey: cas.apiKey });
  });
});

describe('createCasTokenHandler', () => {
  it('returns a standard Fetch-API handler', () => {
    const handler = createCasTokenHandler(cas);
    expectTypeOf(handler).toEqualTypeOf<CasTokenHandler>();
    expectTypeOf(handler).toEqualTypeOf<(request: Request) => Promise<Response>>();
  });

  it('takes authorize, room, store, timing, limits, fetch and logger options', () => {
    createCasTokenHandler({
      ...cas,
      authorize: async (request, { room }) => {
        expectTypeOf(request).toEqualTypeOf<Request>();
        expectTypeOf(room).toEqualTypeOf<string>();
        return request.headers.has('cookie') && room !== 'vip';
      },
      room: (request) => new URL(request.url).searchParams.get('session'),
      store: createMemoryTokenStore({ maxEntries: 1_000 }),
      refreshLeadMs: 120_000,
      timeoutMs: 5_000,
      storeTimeoutMs: 500,
      authorizeTimeoutMs: 2_000,
      failureCacheMs: 0,
      maxConcurrentCasCalls: 4,
      fetch: globalThis.fetch,
      logger: console,
    });
    expectTypeOf<CasTokenHandlerOptions['authorize']>().toEqualTypeOf<
      | ((request: Request, context: CasTokenAuthorizeContext) => CasTokenAuthorizeResult | Promise<CasTokenAuthorizeResult>)
      | undefined
    >();
    expectTypeOf<CasTokenAuthorizeResult>().toEqualTypeOf<boolean | 'forbidden' | Response>();
  });

  it("lets authorize tell a signed-out request (false: 401) from a user refused this room ('forbidden': 403)", () => {
    const session = (request: Request) => (request.headers.has('cookie') ? { user: 'ada' } : null);
    createCasTokenHandler({
      ...cas,
      authorize: async (request, { room }) => {
        const user = session(request);
        if (user === null) return false;
        return room.startsWith(`${user.user}-`) ? true : 'forbidden';
      },
    });
    // What apps wrote before 'forbidden' existed still compiles, and still means 401 when false.
    createCasTokenHandler({ ...cas, authorize: async (request) => session(request) !== null });
    createCasTokenHandler({ ...cas, authorize: () => 'forbidden' });
    // TypeScript widens a lone literal an async function returns when its contextual type is
    // `T | Promise<T>`: one that only ever refuses says so with `as const`.
    createCasTokenHandler({ ...cas, authorize: async () => 'forbidden' as const });
  });

  it('lets authorize answer with a Response of its own, such as a rate limit', () => {
    createCasTokenHandler({
      ...cas,
      authorize: () => Response.json({ error: 'rate-limited' }, { status: 429, headers: { 'Retry-After': '10' } }),
    });
    createCasTokenHandler({ ...cas, authorize: async () => (Math.random() > 0.5 ? true : new Response(null, { status: 429 })) });
  });

  it('names every error code its answers carry', () => {
    expectTypeOf<CasTokenProxyErrorCode>().toEqualTypeOf<
      | 'method-not-allowed'
      | 'invalid-room'
      | 'unauthorized'
      | 'forbidden'
      | 'authorize-timeout'
      | 'too-many-rooms'
      | 'store-unavailable'
      | 'cas-busy'
      | 'cas-unauthorized'
      | 'cas-http'
      | 'cas-network'
      | 'cas-timeout'
      | 'cas-invalid-response'
      | 'cas-invalid-token'
      | 'internal'
    >();
  });

  it('refuses misconfigured options', () => {
    // @ts-expect-error the API secret is required
    createCasTokenHandler({ casUrl: cas.casUrl, apiKey: cas.apiKey });
    // @ts-expect-error authorize answers a boolean (or a Response), not a user
    createCasTokenHandler({ ...cas, authorize: () => ({ id: 1 }) });
    // @ts-expect-error authorize answers true, not the string "true"
    createCasTokenHandler({ ...cas, authorize: () => 'true' });
    // @ts-expect-error a refused room is 'forbidden', exactly
    createCasTokenHandler({ ...cas, authorize: () => 'Forbidden' });
    // @ts-expect-error 401 is false: there is no 'unauthorized' answer to misspell
    createCasTokenHandler({ ...cas, authorize: () => 'unauthorized' });
    // @ts-expect-error maxConcurrentCasCalls is a number
    createCasTokenHandler({ ...cas, maxConcurrentCasCalls: '16' });
    // @ts-expect-error room answers a string or null
    createCasTokenHandler({ ...cas, room: () => 42 });
    // @ts-expect-error refreshLeadMs is a number of ms
    createCasTokenHandler({ ...cas, refreshLeadMs: '5m' });
    // @ts-expect-error a store needs setIfAbsent
    createCasTokenHandler({ ...cas, store: { get: () => null } });
    // @ts-expect-error a logger needs warn and error
    createCasTokenHandler({ ...cas, logger: { info: () => {} } });
  });
});

describe('TokenStore', () => {
  it('can be backed by a synchronous map or an async shared store', () => {
    const map = new Map<string, string>();
    const syncStore: TokenStore = {
      get: (key) => map.get(key),
      setIfAbsent: (key, value) => (map.has(key) ? false : (map.set(key, value), true)),
      deleteIfEqual: (key, value) => map.get(key) === value && map.delete(key),
    };
    const asyncStore: TokenStore = {
      get: async () => null,
      setIfAbsent: async (_key, _value, ttlMs) => ttlMs > 0,
      deleteIfEqual: async () => false,
    };
    // @ts-expect-error a store needs deleteIfEqual, or a stale entry could never be replaced
    const incomplete: TokenStore = { get: () => null, setIfAbsent: () => true };
    void incomplete;
    expectTypeOf(createMemoryTokenStore()).toEqualTypeOf<TokenStore>();
    const fullStore: TokenStore = {
      get: () => null,
      setIfAbsent: () => {
        throw new TokenStoreFullError('Redis is out of memory.', 60_000);
      },
      deleteIfEqual: () => false,
    };
    expectTypeOf(new TokenStoreFullError('full').retryAfterMs).toEqualTypeOf<number | undefined>();
    expectTypeOf(isTokenStoreFullError).guards.toEqualTypeOf<TokenStoreFullError>();
    void fullStore;
    void [syncStore, asyncStore];
  });

  it('may check its own settings, resolving to lines to warn about', () => {
    const checked: TokenStore = { get: () => null, setIfAbsent: () => true, deleteIfEqual: () => false, checkSettings: async () => [] };
    // @ts-expect-error the handler logs lines: a store answers strings, asynchronously
    const wrong: TokenStore = { get: () => null, setIfAbsent: () => true, deleteIfEqual: () => false, checkSettings: () => 'fine' };
    void [checked, wrong];
  });
});

describe('createRedisTokenStore', () => {
  it('takes a node-redis, ioredis or Upstash client (and their clusters) and returns a TokenStore', () => {
    expectTypeOf(createRedisTokenStore(createClient())).toEqualTypeOf<TokenStore>();
    createRedisTokenStore(createClient({ url: 'redis://localhost', disableOfflineQueue: true }), { prefix: 'app:' });
    createRedisTokenStore(createCluster({ rootNodes: [{ url: 'redis://localhost' }] }));
    createRedisTokenStore(createClient4({ url: 'redis://localhost' }));
    createRedisTokenStore(createClient5({ url: 'redis://localhost', RESP: 3 }));
    createRedisTokenStore(new IoRedis5());
    createRedisTokenStore(new IoRedis({ enableOfflineQueue: false }));
    createRedisTokenStore(new IoRedisCluster([{ port: 6379 }]));
    createRedisTokenStore(new Upstash({ url: 'https://example.upstash.io', token: 'token' }));
    createRedisTokenStore(Upstash.fromEnv({ automaticDeserialization: false }));
  });

  it('refuses anything else at compile time', () => {
    // @ts-expect-error a connection URL is not a client
    createRedisTokenStore('redis://localhost:6379');
    // @ts-expect-error the promise createClient().connect() returns must be awaited
    createRedisTokenStore(createClient().connect());
    // @ts-expect-error a Map is not Redis
    createRedisTokenStore(new Map<string, string>());
    // @ts-expect-error a store is not a client
    createRedisTokenStore(createMemoryTokenStore());
    // @ts-expect-error the prefix is a string
    createRedisTokenStore(createClient(), { prefix: 1 });
  });
});

describe('toNodeHandler and casTokenHandlerFromEnv', () => {
  it('adapts a handler to node:http, Express and Connect', () => {
    const node = toNodeHandler(createCasTokenHandler(cas));
    expectTypeOf(node).toEqualTypeOf<NodeHandler>();
    // @ts-expect-error it adapts a handler, not options
    toNodeHandler(cas);
    toNodeHandler(createCasTokenHandler(cas), { sendTimeoutMs: 2_000 });
    // @ts-expect-error a duration is a number of ms
    toNodeHandler(createCasTokenHandler(cas), { sendTimeoutMs: '2s' });
  });

  it('reads the CAS settings from the environment, so it takes everything else', () => {
    expectTypeOf(casTokenHandlerFromEnv()).toEqualTypeOf<CasTokenHandler>();
    casTokenHandlerFromEnv({ authorize: () => true, refreshLeadMs: 60_000 });
    // @ts-expect-error the secret comes from CAS_API_SECRET, never from code
    casTokenHandlerFromEnv({ apiSecret: 'secret' });
  });

  it('shares the client error codes', () => {
    expectTypeOf<CasTokenErrorCode>().toEqualTypeOf<
      'network' | 'timeout' | 'http' | 'unauthorized' | 'forbidden' | 'invalid-response' | 'invalid-token' | 'invalid-config'
    >();
  });
});
