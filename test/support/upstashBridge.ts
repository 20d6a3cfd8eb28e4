/*
 * A local stand-in for Upstash's REST API in front of a real redis-server, so the real
 * `@upstash/redis` client can be tested here (there is no local Upstash server). It speaks what
 * the client sends and reads, as read in @upstash/redis 1.39 (pkg/http.ts, pkg/pipeline.ts):
 *
 * - `POST /` with a JSON command array (`["set","k","v","nx","px",200]`) answers `{ "result" }`,
 *   or HTTP 400 `{ "error" }` when Redis answers an error;
 * - `POST /pipeline` with an array of command arrays (the client's auto-pipelining, on by
 *   default) answers one `{ "result" }` or `{ "error" }` per command, in order;
 * - `Authorization: Bearer <token>` is checked: 401 `{ "error": "Unauthorized" }` otherwise;
 * - with `Upstash-Encoding: base64` (the client's default) every string in a result is base64
 *   of its UTF-8 bytes, except the status reply `OK`, which is sent as is.
 *
 * Not served: `/multi-exec` (`redis.multi()`), GET-style URL commands, streams. Values travel as
 * UTF-8 text, so binary values are not byte-exact. While Redis is down it answers 503.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createClient, ErrorReply } from 'redis';

export interface UpstashBridge {
  /** The REST URL to give the client, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly token: string;
  /** Requests answered so far, by path: `{ '/': 3, '/pipeline': 5 }`. */
  readonly requests: Record<string, number>;
  /** Stops answering (connections refused), keeping the port for `start`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Resolves once its connection to Redis is up (it reconnects on its own after an outage); bounded by `withinMs`. */
  untilConnected(withinMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface UpstashBridgeOptions {
  /** The redis-server to forward to, e.g. `redis.url` from startRedisServer. */
  redisUrl: string;
  /** @defaultValue 'bridge-token' */
  token?: string;
}

type Reply = string | number | null | Reply[];

function encode(reply: Reply): Reply {
  if (typeof reply === 'string') return reply === 'OK' ? reply : Buffer.from(reply, 'utf8').toString('base64');
  if (Array.isArray(reply)) return reply.map(encode);
  return reply;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}

function isCommand(value: unknown): value is (string | number | boolean)[] {
  return Array.isArray(value) && value.length > 0 && value.every((part) => ['string', 'number', 'boolean'].includes(typeof part));
}

export async function startUpstashBridge(options: UpstashBridgeOptions): Promise<UpstashBridge> {
  const token = options.token ?? 'bridge-token';
  // RESP2, as Upstash answers: arrays, never maps. Fails at once while Redis is down.
  const redis = createClient({ url: options.redisUrl, RESP: 2, disableOfflineQueue: true });
  redis.on('error', () => {
    // Reconnects on its own; each request reports its own failure.
  });
  await redis.connect();
  const requests: Record<string, number> = {};

  async function run(command: (string | number | boolean)[], base64: boolean): Promise<{ result: Reply } | { error: string }> {
    try {
      const reply = (await redis.sendCommand(command.map(String))) as Reply;
      return { result: base64 ? encode(reply) : reply };
    } catch (error) {
      if (error instanceof ErrorReply) return { error: error.message };
      throw error;
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://bridge').pathname;
    requests[path] = (requests[path] ?? 0) + 1;
    const body = await readBody(request);
    if (request.headers.authorization !== `Bearer ${token}`) return send(response, 401, { error: 'Unauthorized' });
    if (request.method !== 'POST') return send(response, 405, { error: 'ERR only POST is served by this bridge' });
    const base64 = request.headers['upstash-encoding'] === 'base64';
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return send(response, 400, { error: 'ERR failed to parse the command' });
    }
    try {
      if (path === '/') {
        if (!isCommand(parsed)) return send(response, 400, { error: 'ERR the body is not a command array' });
        const answer = await run(parsed, base64);
        return send(response, 'error' in answer ? 400 : 200, answer);
      }
      if (path === '/pipeline') {
        if (!Array.isArray(parsed) || !parsed.every(isCommand)) return send(response, 400, { error: 'ERR the body is not an array of commands' });
        // One connection runs them in order, as a pipeline does; not atomically, as a pipeline does not.
        return send(response, 200, await Promise.all(parsed.map((command) => run(command, base64))));
      }
      return send(response, 404, { error: `ERR ${path} is not served by this bridge` });
    } catch (error) {
      return send(response, 503, { error: `ERR the Redis behind the bridge is unavailable: ${(error as Error).message}` });
    }
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => send(response, 500, { error: `ERR bridge failure: ${String(error)}` }));
  });
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      // The client keeps connections alive: drop them, or close() waits for them.
      server.closeAllConnections();
    });
  await listen();

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    stop: stopListening,
    start: () => (server.listening ? Promise.resolve() : listen()),
    async untilConnected(withinMs = 10_000) {
      const deadline = Date.now() + withinMs;
      while (!redis.isReady) {
        if (Date.now() > deadline) throw new Error(`The bridge did not reconnect to Redis within ${withinMs} ms.`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      await stopListening();
      redis.destroy();
    },
  };
}
