/*
 * Several server processes on one Redis, as a deployment runs them: each handler instance has its
 * own Redis client (node-redis 6, ioredis 6, Upstash's REST client through the local bridge, and
 * node-redis 5 speaking RESP3), all on the same redis-server and prefix, and each serves HTTP on
 * 127.0.0.1 through toNodeHandler and node:http. Used by the tests and by `npm run bench`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis as Upstash } from '@upstash/redis';
import { Redis as IoRedis } from 'ioredis';
import { createClient as createClient5 } from 'node-redis-v5';
import { createClient } from 'redis';
import {
  createCasTokenHandler,
  createMemoryTokenStore,
  createRedisTokenStore,
  toNodeHandler,
  type CasTokenHandler,
  type CasTokenHandlerOptions,
  type RedisTokenStoreClient,
  type TokenStore,
} from 'react-cas-token/server';
import type { UpstashBridge } from '../support/upstashBridge';

export type ClientKind = 'node-redis 6' | 'ioredis 6' | 'upstash' | 'node-redis 5 (RESP3)';
export const CLIENT_KINDS: readonly ClientKind[] = ['node-redis 6', 'ioredis 6', 'upstash', 'node-redis 5 (RESP3)'];

/**
 * - `default`: each client as `createClient(url)` / `new Redis(url)` makes it: node-redis and
 *   ioredis queue commands while Redis is away.
 * - `recommended`: the outage options of docs/redis.md: node-redis `disableOfflineQueue: true`, ioredis
 *   `enableOfflineQueue: false`. Upstash's default is what it recommends.
 */
export type ClientOptions = 'default' | 'recommended';

export interface Logged {
  level: 'warn' | 'error';
  message: string;
}

export interface Instance {
  readonly name: string;
  /** The instance's endpoint, e.g. `http://127.0.0.1:41234/api/cas-token`. */
  readonly url: string;
  readonly handler: CasTokenHandler;
  /** What this instance's handler logged. */
  readonly lines: Logged[];
  /** HTTP requests this instance answered. */
  readonly requests: number;
  /** Its answers other than 200, in order. */
  readonly failures: { at: number; status: number; error: string | undefined }[];
}

export interface Instances {
  readonly all: readonly Instance[];
  /** Stops the HTTP servers and closes the clients. */
  close(): Promise<void>;
}

export interface RedisTarget {
  /** `redis://127.0.0.1:<port>` */
  redisUrl: string;
  /** Needed for the Upstash client only. */
  bridge?: UpstashBridge;
}

/** One connected client of `kind`, and how to close it. */
export async function connectClient(
  kind: ClientKind,
  { redisUrl, bridge }: RedisTarget,
  options: ClientOptions,
): Promise<{ client: RedisTokenStoreClient; close: () => Promise<void> | void }> {
  const recommended = options === 'recommended';
  switch (kind) {
    case 'node-redis 6':
    case 'node-redis 5 (RESP3)': {
      const client =
        kind === 'node-redis 6'
          ? createClient({ url: redisUrl, ...(recommended && { disableOfflineQueue: true }) })
          : createClient5({ url: redisUrl, RESP: 3, ...(recommended && { disableOfflineQueue: true }) });
      // An 'error' event nobody listens to ends the process; reconnection is the client's own.
      client.on('error', () => {});
      await client.connect();
      return { client, close: () => client.destroy() };
    }
    case 'ioredis 6': {
      const client = new IoRedis(redisUrl, { lazyConnect: true, ...(recommended && { enableOfflineQueue: false }) });
      client.on('error', () => {});
      await client.connect();
      return { client, close: () => client.disconnect() };
    }
    case 'upstash':
      if (bridge === undefined) throw new Error('The Upstash client needs the REST bridge: pass `bridge`.');
      return { client: new Upstash({ url: bridge.url, token: bridge.token, enableTelemetry: false }), close: () => {} };
  }
}

/** Serves `handler` on 127.0.0.1 at a free port; resolves to the server and its token URL. */
async function serve(handler: CasTokenHandler, counted: () => void): Promise<{ server: Server; url: string }> {
  const node = toNodeHandler(handler);
  const server = createServer((req, res) => {
    counted();
    void node(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/cas-token` };
}

async function startServed(
  stores: { name: string; store: TokenStore }[],
  handlerOptions: Omit<CasTokenHandlerOptions, 'store' | 'logger'>,
  closeClients: () => Promise<void>,
): Promise<Instances> {
  const servers: Server[] = [];
  const all: Instance[] = [];
  try {
    for (const { name, store } of stores) {
      const lines: Logged[] = [];
      const logger = {
        warn: (message: string) => void lines.push({ level: 'warn', message }),
        error: (message: string) => void lines.push({ level: 'error', message }),
      };
      const handler = createCasTokenHandler({ authorize: () => true, ...handlerOptions, store, logger });
      const failures: Instance['failures'] = [];
      const recorded: CasTokenHandler = async (request) => {
        const response = await handler(request);
        if (response.status !== 200) {
          const { error } = (await response.clone().json()) as { error?: string };
          failures.push({ at: Date.now(), status: response.status, error });
        }
        return response;
      };
      let requests = 0;
      const { server, url } = await serve(recorded, () => (requests += 1));
      servers.push(server);
      all.push({
        name,
        url,
        handler,
        lines,
        failures,
        get requests() {
          return requests;
        },
      });
    }
  } catch (error) {
    await stopServers(servers);
    await closeClients();
    throw error;
  }
  return {
    all,
    async close() {
      await stopServers(servers);
      await closeClients();
    },
  };
}

async function stopServers(servers: Server[]): Promise<void> {
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
}

export interface RedisInstancesOptions extends RedisTarget {
  /** Every instance's key prefix: one per test, so tests on one redis-server keep apart. */
  prefix: string;
  /** @defaultValue CLIENT_KINDS: one instance per client kind */
  kinds?: readonly ClientKind[];
  clientOptions?: ClientOptions;
  handler: Omit<CasTokenHandlerOptions, 'store' | 'logger'>;
}

/** Handler instances on one Redis, one client each, served over HTTP on 127.0.0.1. */
export async function startRedisInstances(options: RedisInstancesOptions): Promise<Instances> {
  const closers: (() => Promise<void> | void)[] = [];
  const closeClients = async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  };
  const stores: { name: string; store: TokenStore }[] = [];
  try {
    for (const kind of options.kinds ?? CLIENT_KINDS) {
      const { client, close } = await connectClient(kind, options, options.clientOptions ?? 'recommended');
      closers.push(close);
      stores.push({ name: kind, store: createRedisTokenStore(client, { prefix: options.prefix }) });
    }
  } catch (error) {
    await closeClients();
    throw error;
  }
  return startServed(stores, options.handler, closeClients);
}

/** The broken deployment: `count` instances, each with its own memory store. */
export function startMemoryInstances(count: number, handler: Omit<CasTokenHandlerOptions, 'store' | 'logger'>): Promise<Instances> {
  const stores = Array.from({ length: count }, (_, index) => ({ name: `memory ${index + 1}`, store: createMemoryTokenStore() }));
  return startServed(stores, handler, async () => {});
}

export interface Answer {
  room: string;
  instance: string;
  status: number;
  /** The token of a 200; undefined otherwise. */
  token: string | undefined;
  /** `error` of a failure's body. */
  error: string | undefined;
  retryAfter: string | null;
  /** From sending the request to reading the whole answer. */
  ms: number;
  /** When it was sent (Date.now()). */
  sentAt: number;
}

/** One GET for `room` over HTTP; its answer, timed. */
export async function ask(instance: Instance, room: string): Promise<Answer> {
  const sentAt = Date.now();
  const started = performance.now();
  const response = await fetch(`${instance.url}?room=${encodeURIComponent(room)}`);
  const body = (await response.json()) as { token?: string; error?: string };
  return {
    room,
    instance: instance.name,
    status: response.status,
    token: body.token,
    error: body.error,
    retryAfter: response.headers.get('retry-after'),
    ms: performance.now() - started,
    sentAt,
  };
}

/** The distinct tokens each room got. */
export function tokensByRoom(answers: readonly Answer[]): Map<string, Set<string>> {
  const byRoom = new Map<string, Set<string>>();
  for (const { room, token } of answers) {
    if (token !== undefined) byRoom.set(room, (byRoom.get(room) ?? new Set()).add(token));
  }
  return byRoom;
}

/** `count` concurrent requests over `rooms` rooms, spread over the instances round-robin. */
export function burst(instances: Instances, count: number, rooms: number, roomName = (index: number) => `room-${index}`): Promise<Answer[]> {
  return Promise.all(
    Array.from({ length: count }, (_, index) => {
      const instance = instances.all[index % instances.all.length]!;
      return ask(instance, roomName(Math.floor(index / instances.all.length) % rooms));
    }),
  );
}
