/*
 * The Redis clients the store supports, as the tests create them: every node-redis major (v4 is
 * @redis/client 1.x, v5 and v6 are @redis/client 5.x and 6.x), ioredis 5 and 6, and Upstash's
 * REST client through the local bridge. Each opened client is closed by `closeAll`.
 */
import { Redis as Upstash, type RedisConfigNodejs } from '@upstash/redis';
import { Redis as IoRedis6, type RedisOptions as IoRedis6Options } from 'ioredis';
import { Redis as IoRedis5 } from 'ioredis-v5';
import { createClient as createClient4 } from 'node-redis-v4';
import { createClient as createClient5 } from 'node-redis-v5';
import { createClient as createClient6 } from 'redis';
import type { RedisTokenStoreClient } from 'react-cas-token/server';
import type { UpstashBridge } from './upstashBridge';

export type ClientName = 'node-redis 6' | 'node-redis 5' | 'node-redis 4' | 'ioredis 6' | 'ioredis 5' | 'upstash' | 'upstash (raw)';

/** node-redis options shared by every major version used here. */
export interface NodeRedisOptions {
  disableOfflineQueue?: boolean;
}

/** ioredis options shared by v5 and v6. */
export type IoRedisOptions = Pick<IoRedis6Options, 'enableOfflineQueue' | 'maxRetriesPerRequest'>;

export function redisClients() {
  const closers: (() => Promise<unknown> | void)[] = [];
  const quietly = (client: { on(event: 'error', listener: (error: unknown) => void): unknown }) => {
    // A node-redis or ioredis client with no 'error' listener crashes (or spams) on every reconnect.
    client.on('error', () => {});
  };

  async function nodeRedis(version: 4 | 5 | 6, url: string, options: NodeRedisOptions = {}): Promise<RedisTokenStoreClient> {
    if (version === 4) {
      const client = createClient4({ url, ...options });
      quietly(client);
      closers.push(() => (client.isOpen ? client.disconnect() : undefined));
      return client.connect().then(() => client);
    }
    const client = version === 5 ? createClient5({ url, ...options }) : createClient6({ url, ...options });
    quietly(client);
    closers.push(() => client.destroy());
    await client.connect();
    return client;
  }

  async function ioRedis(version: 5 | 6, url: string, options: IoRedisOptions = {}): Promise<RedisTokenStoreClient> {
    const client = version === 5 ? new IoRedis5(url, { lazyConnect: true, ...options }) : new IoRedis6(url, { lazyConnect: true, ...options });
    quietly(client);
    closers.push(() => client.disconnect());
    await client.connect();
    return client;
  }

  function upstash(bridge: UpstashBridge, options: Partial<RedisConfigNodejs> = {}): RedisTokenStoreClient {
    return new Upstash({ url: bridge.url, token: bridge.token, enableTelemetry: false, ...options });
  }

  /** Any supported client by its name, connected; Upstash's `raw` variant turns off JSON parsing, base64 and auto-pipelining. */
  async function byName(name: ClientName, redisUrl: string, bridge: UpstashBridge): Promise<RedisTokenStoreClient> {
    switch (name) {
      case 'node-redis 6':
        return nodeRedis(6, redisUrl);
      case 'node-redis 5':
        return nodeRedis(5, redisUrl);
      case 'node-redis 4':
        return nodeRedis(4, redisUrl);
      case 'ioredis 6':
        return ioRedis(6, redisUrl);
      case 'ioredis 5':
        return ioRedis(5, redisUrl);
      case 'upstash':
        return upstash(bridge);
      case 'upstash (raw)':
        return upstash(bridge, { automaticDeserialization: false, responseEncoding: false, enableAutoPipelining: false });
    }
  }

  return {
    nodeRedis,
    ioRedis,
    upstash,
    byName,
    async closeAll() {
      await Promise.all(closers.splice(0).map((close) => close()));
    },
  };
}

export const CLIENT_NAMES: readonly ClientName[] = ['node-redis 6', 'node-redis 5', 'node-redis 4', 'ioredis 6', 'ioredis 5', 'upstash', 'upstash (raw)'];

/** A plain node-redis client on `url`, for a test to look at what the stores wrote; quiet through an outage. */
export async function connectInspector(url: string) {
  const client = createClient6({ url });
  client.on('error', () => {});
  await client.connect();
  return client;
}
