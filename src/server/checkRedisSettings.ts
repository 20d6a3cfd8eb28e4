/*
 * Redis's `maxmemory-policy` decides what a full Redis does. `noeviction` refuses new keys (the
 * handler answers too-many-rooms and keeps every room in use); any other policy makes room by
 * dropping keys, a room in use among them (the `volatile-*` ones too: every key the handler
 * writes has a TTL), and whoever joins that room next gets a new token: a second session.
 * Nothing tells the handler when Redis drops a key, so the policy is read and warned about.
 */

export type RedisClientKind = 'node-redis' | 'ioredis' | 'upstash';

type Call = (...args: unknown[]) => Promise<unknown>;

/** A policy name as Redis spells them; anything else read is not quoted in a log line. */
const POLICY_NAME = /^[a-z][a-z-]{0,39}$/;

/**
 * Whether Redis refused the command (`ERR unknown command 'CONFIG'` where a provider disabled it,
 * `NOPERM` for an ACL user), rather than not being reached or busy (`LOADING`, `BUSY`, a closed
 * connection), which a later check may get past.
 */
function isRefusal(error: unknown): boolean {
  return error instanceof Error && /^(?:Command failed: )?(?:ERR|NOPERM) /.test(error.message);
}

function member(client: object, name: string): Call | undefined {
  const value = (client as Record<string, unknown>)[name];
  return typeof value === 'function' ? (value as Call).bind(client) : undefined;
}

/** Sends a command that names no key, to the server (node-redis) or to any node of a cluster. */
function commandSender(client: object, kind: RedisClientKind): (args: string[]) => Promise<unknown> {
  if (kind === 'node-redis') {
    const send = member(client, 'sendCommand') as Call;
    // A node-redis cluster takes (firstKey, isReadonly, args); a client takes (args).
    const cluster = typeof (client as Record<string, unknown>).getSlotMaster === 'function';
    return (args) => (cluster ? send(undefined, true, args) : send(args));
  }
  if (kind === 'ioredis') {
    return ([command, ...rest]) => {
      const method = member(client, (command ?? '').toLowerCase());
      if (method === undefined) return Promise.reject(new Error(`this ioredis client has no ${command} method`));
      return method(...rest);
    };
  }
  // Upstash: its generic `exec` (1.35 and later), else INFO in a script, which Redis allows.
  const exec = member(client, 'exec');
  const evalScript = member(client, 'eval') as Call;
  return (args) => (exec !== undefined ? exec(args) : evalScript(`return redis.call('${args.join("', '")}')`, [], []));
}

/** The value of `maxmemory-policy` in a CONFIG GET reply: a flat array (RESP2), or a map or object (RESP3). */
function fromConfigReply(reply: unknown): unknown {
  if (Array.isArray(reply)) {
    const at = reply.indexOf('maxmemory-policy');
    return at >= 0 ? reply[at + 1] : undefined;
  }
  if (reply instanceof Map) return reply.get('maxmemory-policy');
  if (typeof reply === 'object' && reply !== null) return (reply as Record<string, unknown>)['maxmemory-policy'];
  return undefined;
}

function fromInfoReply(reply: unknown): unknown {
  return typeof reply === 'string' ? /^maxmemory_policy:([^\r\n]*)/m.exec(reply)?.[1] : undefined;
}

function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // Upstash appends the command; an error reply is one line anyway.
  return text.replace(/, command was: [\s\S]*$/, '').slice(0, 120);
}

/**
 * Reads `maxmemory-policy` with CONFIG GET, or from INFO memory where CONFIG is refused (managed
 * Redis often disables it) or does not say (Upstash answers CONFIG GET for one setting only, so
 * its client is asked INFO at once: one request less). Resolves to the policy, or to `refused`
 * with why when Redis answered both with an error; rejects when Redis could not be reached.
 */
async function readPolicy(send: (args: string[]) => Promise<unknown>, kind: RedisClientKind): Promise<{ policy: string } | { refused: string }> {
  const reasons: string[] = [];
  if (kind !== 'upstash') {
    try {
      const policy = fromConfigReply(await send(['CONFIG', 'GET', 'maxmemory-policy']));
      if (typeof policy === 'string') return { policy };
      reasons.push('CONFIG GET did not name it');
    } catch (error) {
      if (!isRefusal(error)) throw error;
      reasons.push(`CONFIG GET: ${reason(error)}`);
    }
  }
  try {
    const policy = fromInfoReply(await send(['INFO', 'memory']));
    if (typeof policy === 'string') return { policy };
    reasons.push('INFO memory did not name it');
  } catch (error) {
    if (!isRefusal(error)) throw error;
    reasons.push(`INFO: ${reason(error)}`);
  }
  return { refused: reasons.join('; ') };
}

const FIX =
  "To fix: set `maxmemory-policy noeviction` (in redis.conf, with `CONFIG SET maxmemory-policy noeviction`, or in your provider's " +
  'settings; on Upstash: turn Eviction off)';

/**
 * What to warn about in this Redis's settings: one line when its `maxmemory-policy` evicts keys,
 * or when it could not be read; none for `noeviction`. Rejects when Redis cannot be reached.
 */
export async function checkRedisSettings(client: object, kind: RedisClientKind): Promise<string[]> {
  const read = await readPolicy(commandSender(client, kind), kind);
  if ('refused' in read) {
    return [
      `Could not read Redis's maxmemory-policy (${read.refused}). Make sure it is noeviction: with any other policy a full Redis ` +
        'drops keys, a room in use among them, and people joining that room get a new token (a second session). ' +
        `${FIX}.`,
    ];
  }
  const policy = read.policy.trim();
  if (policy === 'noeviction') return [];
  const shown = POLICY_NAME.test(policy) ? policy : 'not noeviction';
  return [
    `Redis's maxmemory-policy is ${shown}: when Redis is full it drops keys to make room, a room in use among them ` +
      '(every key the token handler writes has a TTL, so volatile-* policies drop them too), and people joining that room ' +
      `then get a new token: a second session. ${FIX}: a full Redis then refuses new rooms (503 too-many-rooms) ` +
      'and keeps the rooms in use.',
  ];
}
