import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

type ServerModule = typeof import('react-cas-token/server');
type MockCasModule = typeof import('./server/mockCas');
type MockCas = Awaited<ReturnType<MockCasModule['startMockCas']>>;
type MockCasMode = Parameters<MockCas['setMode']>[0];
type DemoStoreModule = typeof import('./server/demoStore');
type DemoStore = ReturnType<DemoStoreModule['createDemoStore']>;

const root = import.meta.dirname;
const src = `${root}/../src`;

/** The mock CAS answers the page's failure buttons may choose. */
const MODES: readonly MockCasMode[] = ['ok', 'unauthorized', 'error', 'html', 'no-token', 'hang'];

/**
 * How the token proxy itself is doing, as the page's "Token proxy" buttons set it:
 * - `serving`: as it should;
 * - `store-down`: its store (Redis) cannot be reached: the handler answers 503 `store-unavailable`;
 * - `dropping`: the connection is closed with no answer, as by a crashed instance or a load
 *   balancer with no backend left: the page sees a network error.
 */
export type ProxyMode = 'serving' | 'store-down' | 'dropping';
const PROXY_MODES: readonly ProxyMode[] = ['serving', 'store-down', 'dropping'];

export interface CasTokenDevServerApi {
  /** The embedded mock CAS, or undefined when CAS_URL, CAS_API_KEY or CAS_API_SECRET is set. */
  readonly mockCas: MockCas | undefined;
  /** The proxy's token store, which the page's buttons can empty or take down. */
  readonly store: DemoStore | undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return JSON.parse(text || '{}');
}

/** The handler's `checkIntervalMs`, from CHECK_INTERVAL_MS (0 turns the checks off). */
function readCheckInterval(env: NodeJS.ProcessEnv): number | undefined {
  if (env.CHECK_INTERVAL_MS === undefined || env.CHECK_INTERVAL_MS === '') return undefined;
  const checkIntervalMs = Number(env.CHECK_INTERVAL_MS);
  if (!Number.isSafeInteger(checkIntervalMs) || checkIntervalMs < 0) {
    throw new Error(`CHECK_INTERVAL_MS must be a whole number of ms, 0 to turn the checks off; got ${env.CHECK_INTERVAL_MS}.`);
  }
  return checkIntervalMs;
}

function readLifetime(env: NodeJS.ProcessEnv): number {
  const lifetimeMs = Number(env.MOCK_CAS_LIFETIME_MS ?? 30_000);
  if (!Number.isFinite(lifetimeMs) || lifetimeMs < 2_000) {
    throw new Error(`MOCK_CAS_LIFETIME_MS must be a number of ms, 2000 or more; got ${env.MOCK_CAS_LIFETIME_MS}.`);
  }
  return lifetimeMs;
}

/**
 * Serves the token proxy on the dev server, as an app's backend would: `react-cas-token/server`'s
 * handler at `/api/cas-token`, over an in-memory store (checks every CHECK_INTERVAL_MS, the
 * handler's default 8 s when unset). Without CAS settings in the environment it starts a mock CAS
 * on 127.0.0.1 (tokens live MOCK_CAS_LIFETIME_MS, default 30 s), which `/api/mock-cas/mode` can
 * make fail; `/api/mock-proxy/mode` and `/api/mock-proxy/lose-rooms` break the proxy itself.
 */
function casTokenDevServer(): Plugin<CasTokenDevServerApi> {
  let mockCas: MockCas | undefined;
  let demoStore: DemoStore | undefined;
  let mode: MockCasMode = 'ok';
  let proxyMode: ProxyMode = 'serving';
  let closing: Promise<void> | undefined;

  return {
    name: 'react-cas-token-example',
    apply: 'serve',
    api: {
      get mockCas() {
        return mockCas;
      },
      get store() {
        return demoStore;
      },
    },

    async configureServer(server) {
      // Loaded through the dev server, so the import reads as in an app: the alias below maps
      // the package name to the source.
      const { casTokenHandlerFromEnv, createCasTokenHandler, toNodeHandler } = (await server.ssrLoadModule(
        'react-cas-token/server',
      )) as ServerModule;
      const env = process.env;
      // A real app checks its own session here (a cookie, a bearer token). The demo has no
      // users, so everyone who can reach this dev server on 127.0.0.1 may have a token.
      const authorize = () => true;
      const checkIntervalMs = readCheckInterval(env);
      const { createDemoStore } = (await server.ssrLoadModule('/server/demoStore.ts')) as DemoStoreModule;
      const demo = (demoStore = createDemoStore());
      const common = { authorize, store: demo.store, ...(checkIntervalMs !== undefined && { checkIntervalMs }) };
      let handler: ReturnType<ServerModule['createCasTokenHandler']>;
      if (env.CAS_URL || env.CAS_API_KEY || env.CAS_API_SECRET) {
        // Throws at once, naming the variable, when one of the three is missing.
        handler = casTokenHandlerFromEnv(common);
        server.config.logger.info(`  CAS: ${new URL(env.CAS_URL ?? '').origin} (CAS_URL)`);
      } else {
        const { startMockCas } = (await server.ssrLoadModule('/server/mockCas.ts')) as MockCasModule;
        const lifetimeMs = readLifetime(env);
        // A fresh secret per run: should it ever reach the page, the browser test would find it.
        mockCas = await startMockCas({ apiKey: 'mock-cas-key', apiSecret: `mock-secret-${randomUUID()}`, lifetimeMs });
        handler = createCasTokenHandler({ ...common, casUrl: mockCas.url, apiKey: mockCas.apiKey, apiSecret: mockCas.apiSecret });
        server.config.logger.info(`  Mock CAS: ${mockCas.url}, tokens live ${lifetimeMs / 1000} s`);
      }
      if (checkIntervalMs === 0) server.config.logger.info('  Checks are off (CHECK_INTERVAL_MS=0): a store that loses a room splits it.');

      const serve = toNodeHandler(handler);
      server.middlewares.use('/api/cas-token', (req, res, next) => {
        // No answer at all: the browser sees the connection close, as when an instance crashes.
        if (proxyMode === 'dropping') return void req.socket.destroy();
        return serve(req, res, next);
      });

      const proxyState = () => ({
        mode: proxyMode,
        checkIntervalMs: checkIntervalMs ?? null,
        storeLosses: demo.losses,
        lastLossAt: demo.lastLossAt ?? null,
      });
      server.middlewares.use('/api/mock-proxy/mode', (req, res) => {
        if (req.method === 'GET') return sendJson(res, 200, proxyState());
        if (req.method !== 'POST') {
          res.setHeader('Allow', 'GET, POST');
          return sendJson(res, 405, { error: 'method-not-allowed', message: 'GET or POST {"mode": ...}' });
        }
        readJson(req).then(
          (body) => {
            const next = (body as { mode?: unknown } | null)?.mode;
            if (!PROXY_MODES.includes(next as ProxyMode)) {
              return sendJson(res, 400, { error: 'invalid-mode', message: `mode must be one of ${PROXY_MODES.join(', ')}.` });
            }
            proxyMode = next as ProxyMode;
            demo.setDown(proxyMode === 'store-down');
            sendJson(res, 200, proxyState());
          },
          () => sendJson(res, 400, { error: 'invalid-json', message: 'Send JSON such as {"mode":"store-down"}.' }),
        );
      });
      server.middlewares.use('/api/mock-proxy/lose-rooms', (req, res) => {
        if (req.method !== 'POST') {
          res.setHeader('Allow', 'POST');
          return sendJson(res, 405, { error: 'method-not-allowed', message: 'POST to empty the store.' });
        }
        demo.loseEveryRoom();
        server.config.logger.info('  The token store lost every room (as Redis restarting without persistence).', { timestamp: true });
        sendJson(res, 200, proxyState());
      });

      server.middlewares.use('/api/mock-cas/mode', (req, res) => {
        const cas = mockCas;
        if (cas === undefined) return sendJson(res, 200, { enabled: false });
        const state = () => ({ enabled: true, mode, lifetimeMs: readLifetime(env), casCalls: cas.calls });
        if (req.method === 'GET') return sendJson(res, 200, state());
        if (req.method !== 'POST') {
          res.setHeader('Allow', 'GET, POST');
          return sendJson(res, 405, { error: 'method-not-allowed', message: 'GET or POST {"mode": ...}' });
        }
        readJson(req).then(
          (body) => {
            const next = (body as { mode?: unknown } | null)?.mode;
            if (!MODES.includes(next as MockCasMode)) {
              return sendJson(res, 400, { error: 'invalid-mode', message: `mode must be one of ${MODES.join(', ')}.` });
            }
            mode = next as MockCasMode;
            cas.setMode(mode);
            sendJson(res, 200, state());
          },
          () => sendJson(res, 400, { error: 'invalid-json', message: 'Send JSON such as {"mode":"error"}.' }),
        );
      });
    },

    // Called when the dev server closes, once per environment: the first call closes the mock.
    closeBundle() {
      closing ??= mockCas?.close() ?? Promise.resolve();
      return closing;
    },
  };
}

// `npm start`: the watch-party page, and on the same server the token proxy it asks.
export default defineConfig({
  root,
  plugins: [react(), casTokenDevServer()],
  resolve: {
    // The example imports the package by name, as an app does; here the name maps to the source.
    alias: [
      { find: /^react-cas-token\/server$/, replacement: `${src}/server/index.ts` },
      { find: /^react-cas-token\/testing$/, replacement: `${src}/testing/index.ts` },
      { find: /^react-cas-token$/, replacement: `${src}/index.ts` },
    ],
  },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1' },
  build: { outDir: 'dist', emptyOutDir: true },
});
