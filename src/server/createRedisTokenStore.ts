/*
 * The Redis clients are typed by the few members called here, never imported: the package keeps
 * zero runtime dependencies, nothing of theirs is bundled, and the published types compile
 * without them installed. Each is told apart by a member only it has (see `clientKind`).
 */
import { CasTokenError } from '../core/CasTokenError.js';
import { checkRedisSettings, type RedisClientKind } from './checkRedisSettings.js';
import { createWritePadding } from './createWritePadding.js';
import { TokenStoreFullError, type TokenStore } from './TokenStore.js';

/** What every key starts with unless told otherwise: the handler keeps a room at `cas-token:room:<room>`. */
export const DEFAULT_REDIS_KEY_PREFIX = 'cas-token:';

/**
 * A node-redis client, v4 to v6: `createClient()` from `redis` or `@redis/client` (or a cluster
 * from `createCluster()`), connected. Recognized by a boolean `isOpen` next to `sendCommand`.
 */
export interface NodeRedisClientLike {
  readonly isOpen: boolean;
  sendCommand: (...args: never[]) => unknown;
  get: (key: string) => Promise<unknown>;
  set: (key: string, value: string, options: { NX: true; PX: number }) => Promise<unknown>;
  eval: (script: string, options: { keys: string[]; arguments: string[] }) => Promise<unknown>;
  /** Read when present: Redis's clock. */
  time?: () => Promise<unknown>;
}

/** An ioredis client, v4 or later: `new Redis()` or `new Cluster()`. Recognized by `defineCommand` next to a string `status`. */
export interface IoRedisClientLike {
  readonly status: string;
  defineCommand: (...args: never[]) => unknown;
  get: (key: string) => Promise<unknown>;
  set: (key: string, value: string, millisecondsToken: 'PX', milliseconds: number, nx: 'NX') => Promise<unknown>;
  eval: (script: string, numberOfKeys: number, ...keysAndArguments: string[]) => Promise<unknown>;
  /** Read when present: Redis's clock. */
  time?: () => Promise<unknown>;
}

/**
 * An Upstash REST client: `new Redis({ url, token })` or `Redis.fromEnv()` from `@upstash/redis`
 * (every 1.x release since 2022). Recognized by `createScript`, which neither TCP client has.
 */
export interface UpstashRedisClientLike {
  createScript: (...args: never[]) => unknown;
  set: (key: string, value: string, options: { nx: true; px: number }) => Promise<unknown>;
  eval: (script: string, keys: string[], args: string[]) => Promise<unknown>;
  /** Read when present: Redis's clock. */
  time?: () => Promise<unknown>;
}

/** The clients `createRedisTokenStore` takes. */
export type RedisTokenStoreClient = NodeRedisClientLike | IoRedisClientLike | UpstashRedisClientLike;

export interface RedisTokenStoreOptions {
  /**
   * Put before every key, so the tokens have a namespace of their own in a shared database, and
   * two apps (or two environments) on one Redis keep apart.
   * @defaultValue 'cas-token:'
   */
  prefix?: string;
}

type ClientKind = RedisClientKind;

/** The stored value, without the padding a write may add (see createWritePadding), in a Lua local `stored`. */
const READ_UNPADDED =
  "local stored = redis.call('GET', KEYS[1]) " +
  "if stored and string.sub(stored, 1, 1) == '{' then stored = string.gsub(stored, '} +$', '}') end ";
/** Compare-and-delete: removes the key only while it still holds the caller's value, padded or not. Answers 1 or 0. */
const DELETE_IF_EQUAL = READ_UNPADDED + "if stored == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
/** Compare-and-expire: renews the key's time to live only while it still holds the caller's value. Answers 1 or 0. */
const EXTEND_IF_EQUAL = READ_UNPADDED + "if stored == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
/**
 * How Redis words a write refused for want of memory (`maxmemory`, `noeviction`); Upstash's client
 * puts `Command failed: ` before it.
 */
const OUT_OF_MEMORY = /^(?:Command failed: )?OOM /;
/**
 * GET for Upstash. Its client parses every answer as JSON unless `automaticDeserialization` is
 * off, so a stored `{"token":...}` would come back an object and "123" a number. No JSON text
 * starts with `v`, so the marked value comes back as the exact string under either setting.
 */
const GET_MARKED = "local value = redis.call('GET', KEYS[1]) if value then return 'v:' .. value end return false";

function clientKind(client: unknown): ClientKind | undefined {
  if ((typeof client !== 'object' && typeof client !== 'function') || client === null) return undefined;
  const member = (name: string): unknown => (client as Record<string, unknown>)[name];
  const has = (name: string) => typeof member(name) === 'function';
  if (!has('set') || !has('eval')) return undefined;
  if (typeof member('isOpen') === 'boolean' && has('sendCommand') && has('get')) return 'node-redis';
  if (typeof member('status') === 'string' && has('defineCommand') && has('get')) return 'ioredis';
  if (has('createScript')) return 'upstash';
  return undefined;
}

/**
 * `TIME`'s answer in epoch ms: seconds and microseconds (as strings or numbers), or a `Date`
 * (node-redis 4 turns it into one).
 */
function timeToMs(reply: unknown): number | undefined {
  if (reply instanceof Date) return reply.getTime();
  if (!Array.isArray(reply) || reply.length !== 2) return undefined;
  const [seconds, micros] = reply.map(Number) as [number, number];
  const ms = seconds * 1000 + Math.floor(micros / 1000);
  return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof (value as { then?: unknown }).then === 'function') {
    return 'a Promise: await it first (e.g. `await createClient().connect()`)';
  }
  if (typeof value !== 'object') return `a ${typeof value}`;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? `a ${name}` : 'an object without the methods of one of them';
}

/** Secrets a client error might quote: the client's own password, and the value being written. */
function redact(text: string, secrets: readonly string[]): string {
  let safe = text
    // Upstash appends the whole command to its errors, the stored token included.
    .replace(/, command was: [\s\S]*$/, '')
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@')
    .replace(/\b(Bearer\s+)\S+/gi, '$1***');
  for (const secret of secrets) if (secret !== '') safe = safe.split(secret).join('***');
  return safe;
}

function hint(kind: ClientKind, message: string): string {
  if (kind === 'node-redis' && /client is closed/i.test(message)) return ' (call `await client.connect()` before using the store)';
  return '';
}

/**
 * A `TokenStore` on Redis, so every server process (serverless instances, or Node processes
 * behind a load balancer) hands out the same token for a room. Takes the client you already
 * use: node-redis (v4-v6), ioredis, or Upstash's REST client for serverless and edge hosts.
 * None of them is a dependency of this package: pass the client, connected.
 *
 * Each key the handler uses is stored at `<prefix><key>`: a room at `<prefix>room:<room>`
 * (default `cas-token:room:<room>`), holding its token entry or a lock, written with
 * `SET key value NX PX ttl`, read with `GET` (with Upstash, a script that returns it unparsed,
 * so it comes back exactly as stored whatever `automaticDeserialization` says), and removed by
 * a compare-and-delete script.
 *
 * Failures reject with a `CasTokenError`: `network` when the client or server fails (offline,
 * refused, an error reply), `invalid-response` for an unexpected reply, `invalid-config` for a
 * `ttlMs` that is not a whole number of ms above 0. Their messages name the client and the
 * key, and never quote the client's password or the value written. A write a full Redis refuses
 * (`OOM`, `maxmemory` reached under `noeviction`) rejects with a `TokenStoreFullError`: the
 * handler answers 503 `too-many-rooms`. JSON values are padded with spaces to the longest value
 * written, so a room's lock holds the memory its entry will need.
 *
 * `checkSettings()` reads Redis's `maxmemory-policy` (`CONFIG GET`, else `INFO memory`) and
 * resolves to a warning when it lets Redis drop keys: the handler logs it at its first request.
 *
 * A client that queues commands while Redis is away (node-redis and ioredis by default) makes
 * calls wait until it reconnects: create it with `disableOfflineQueue: true` (node-redis) or
 * `enableOfflineQueue: false` (ioredis) so they fail at once.
 *
 * @throws `CasTokenError` `invalid-config` when `client` is none of the three.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 *
 * const redis = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true });
 * redis.on('error', (error) => console.error('Redis:', error.message));
 * // connect() waits for Redis however long: wait 2 s at most, the store answers 503 until then.
 * await Promise.race([redis.connect(), new Promise((resolve) => setTimeout(resolve, 2_000))]);
 * const handler = casTokenHandlerFromEnv({ authorize, store: createRedisTokenStore(redis) });
 * ```
 */
export function createRedisTokenStore(client: RedisTokenStoreClient, options: RedisTokenStoreOptions = {}): TokenStore {
  const found = clientKind(client);
  if (found === undefined) {
    throw new CasTokenError(
      'invalid-config',
      'createRedisTokenStore takes a node-redis client (`createClient()` of the `redis` package), an ioredis client (`new Redis()` of `ioredis`) ' +
        `or an Upstash client (\`new Redis()\` of \`@upstash/redis\`); got ${describeValue(client)}.`,
    );
  }
  const kind: ClientKind = found;
  const prefix = options.prefix ?? DEFAULT_REDIS_KEY_PREFIX;
  if (typeof prefix !== 'string') {
    throw new CasTokenError('invalid-config', `\`prefix\` must be a string; got ${describeValue(prefix)}.`);
  }
  const time = (client as { time?: () => Promise<unknown> }).time;
  const password = (client as { options?: { password?: unknown } }).options?.password;
  const clientSecrets = typeof password === 'string' ? [password] : [];
  const padding = createWritePadding();

  async function call(command: string, key: string, written: string | undefined, run: () => Promise<unknown>): Promise<unknown> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof Error && OUT_OF_MEMORY.test(error.message)) {
        throw new TokenStoreFullError(`Redis (${kind}) is full: it refused ${command} ${key} (used memory > maxmemory).`);
      }
      // The client's error is not kept as `cause`: a logger printing causes could print what it quotes.
      const secrets = written === undefined ? clientSecrets : [...clientSecrets, written, JSON.stringify(written).slice(1, -1)];
      const reason = redact(error instanceof Error ? `${error.name}: ${error.message}` : String(error), secrets);
      throw new CasTokenError('network', `Redis (${kind}) failed on ${command} ${key}: ${reason}${hint(kind, reason)}`);
    }
  }

  /** Runs a Lua script, the same for every client. */
  function script(source: string, keys: string[], args: string[]): Promise<unknown> {
    if (kind === 'node-redis') return (client as NodeRedisClientLike).eval(source, { keys, arguments: args });
    if (kind === 'ioredis') return (client as IoRedisClientLike).eval(source, keys.length, ...keys, ...args);
    return (client as UpstashRedisClientLike).eval(source, keys, args);
  }

  function checkTtl(ttlMs: number): void {
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
      throw new CasTokenError('invalid-config', `\`ttlMs\` must be a whole number of ms above 0; got ${String(ttlMs)}.`);
    }
  }

  function unexpected(command: string, key: string, reply: unknown, expected: string): CasTokenError {
    const shown = typeof reply === 'string' ? 'a string' : reply === null ? 'null' : typeof reply;
    return new CasTokenError('invalid-response', `Redis (${kind}) answered ${command} ${key} with ${shown}; expected ${expected}.`);
  }

  /** A stored value as it was given, counted towards the length locks are padded to. */
  function read(stored: string): string {
    const value = padding.unpad(stored);
    padding.learn(value);
    return value;
  }

  return {
    async get(room) {
      const key = prefix + room;
      if (kind === 'upstash') {
        const upstash = client as UpstashRedisClientLike;
        const reply = await call('GET', key, undefined, () => upstash.eval(GET_MARKED, [key], []));
        if (reply === null) return null;
        if (typeof reply === 'string' && reply.startsWith('v:')) return read(reply.slice(2));
        throw unexpected('GET', key, reply, 'a string or null');
      }
      const tcp = client as NodeRedisClientLike | IoRedisClientLike;
      const reply = await call('GET', key, undefined, () => tcp.get(key));
      if (reply === null) return null;
      if (typeof reply === 'string') return read(reply);
      throw unexpected('GET', key, reply, 'a string or null');
    },

    async setIfAbsent(room, value, ttlMs) {
      const key = prefix + room;
      checkTtl(ttlMs);
      const padded = padding.pad(value);
      const reply = await call('SET NX PX', key, value, () => {
        // node-redis 5 and 6 deprecate NX/PX for `condition`/`expiration`, which 4 does not know.
        if (kind === 'node-redis') return (client as NodeRedisClientLike).set(key, padded, { NX: true, PX: ttlMs });
        if (kind === 'ioredis') return (client as IoRedisClientLike).set(key, padded, 'PX', ttlMs, 'NX');
        return (client as UpstashRedisClientLike).set(key, padded, { nx: true, px: ttlMs });
      });
      if (reply === 'OK') return true;
      if (reply === null) return false;
      throw unexpected('SET NX PX', key, reply, "'OK' or null");
    },

    async deleteIfEqual(room, value) {
      const key = prefix + room;
      const reply = await call('compare-and-delete', key, value, () => script(DELETE_IF_EQUAL, [key], [value]));
      if (reply === 1) return true;
      if (reply === 0) return false;
      throw unexpected('compare-and-delete', key, reply, '1 or 0');
    },

    async extendIfEqual(room, value, ttlMs) {
      const key = prefix + room;
      checkTtl(ttlMs);
      const reply = await call('compare-and-expire', key, value, () => script(EXTEND_IF_EQUAL, [key], [value, String(ttlMs)]));
      if (reply === 1) return true;
      if (reply === 0) return false;
      throw unexpected('compare-and-expire', key, reply, '1 or 0');
    },

    // Redis's clock, read with TIME: a read that a paused or busy primary still answers.
    ...(typeof time === 'function' && {
      async now() {
        const reply = await call('TIME', '(the clock)', undefined, () => time.call(client));
        const ms = timeToMs(reply);
        if (ms === undefined) throw unexpected('TIME', '(the clock)', reply, 'seconds and microseconds');
        return ms;
      },
    }),

    checkSettings: () => checkRedisSettings(client, kind),
  };
}
