// One proxy instance in a process of its own, as a deployment runs them: the handler of a built
// `react-cas-token/server` (SERVER_MODULE, an absolute path) on a Redis store (node-redis 6 with
// the README's `disableOfflineQueue`), served over HTTP on 127.0.0.1 at a free port. Started by
// test/server/faultKit.tsx; tells it what happens as JSON lines on stdout:
//   { "type": "listening", "port" }       once it serves
//   { "type": "request" }                 each request, as it arrives
//   { "type": "answered", "status" }      each answer, once sent
//   { "type": "log", "level", "message" } each line the handler logs
// Settings (env): SERVER_MODULE, REDIS_URL, KEY_PREFIX, HANDLER_OPTIONS (JSON: casUrl, apiKey,
// apiSecret and any other handler option). It exits when its stdin closes (the parent is gone).
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { createClient } from 'redis';

const { SERVER_MODULE, REDIS_URL, KEY_PREFIX, HANDLER_OPTIONS } = process.env;
if (!SERVER_MODULE || !REDIS_URL || !KEY_PREFIX || !HANDLER_OPTIONS) {
  throw new Error('instanceProcess.mjs needs SERVER_MODULE, REDIS_URL, KEY_PREFIX and HANDLER_OPTIONS.');
}

const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

const server = await import(pathToFileURL(SERVER_MODULE).href);
const redis = createClient({ url: REDIS_URL, disableOfflineQueue: true });
// An 'error' event nobody listens to ends the process; reconnecting is the client's own.
redis.on('error', () => {});
await redis.connect();

const handler = server.createCasTokenHandler({
  authorize: () => true,
  ...JSON.parse(HANDLER_OPTIONS),
  store: server.createRedisTokenStore(redis, { prefix: KEY_PREFIX }),
  logger: {
    warn: (message) => emit({ type: 'log', level: 'warn', message }),
    error: (message) => emit({ type: 'log', level: 'error', message }),
  },
});
const node = server.toNodeHandler(handler);

const http = createServer((req, res) => {
  emit({ type: 'request' });
  res.on('finish', () => emit({ type: 'answered', status: res.statusCode }));
  // Node writes its own Date header from the real clock; a machine whose clock is off sends its own.
  res.setHeader('Date', new Date().toUTCString());
  void node(req, res);
});
http.listen(0, '127.0.0.1', () => emit({ type: 'listening', port: http.address().port }));
