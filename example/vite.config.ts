import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

type ServerModule = typeof import('react-cas-token/server');
type MockCasModule = typeof import('./server/mockCas');
type MockCas = Awaited<ReturnType<MockCasModule['startMockCas']>>;
type MockCasMode = Parameters<MockCas['setMode']>[0];

const root = import.meta.dirname;
const src = `${root}/../src`;

/** The mock CAS answers the page's failure buttons may choose. */
const MODES: readonly MockCasMode[] = ['ok', 'unauthorized', 'error', 'html', 'no-token', 'hang'];

export interface CasTokenDevServerApi {
  /** The embedded mock CAS, or undefined when CAS_URL, CAS_API_KEY or CAS_API_SECRET is set. */
  readonly mockCas: MockCas | undefined;
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

function readLifetime(env: NodeJS.ProcessEnv): number {
  const lifetimeMs = Number(env.MOCK_CAS_LIFETIME_MS ?? 30_000);
  if (!Number.isFinite(lifetimeMs) || lifetimeMs < 2_000) {
    throw new Error(`MOCK_CAS_LIFETIME_MS must be a number of ms, 2000 or more; got ${env.MOCK_CAS_LIFETIME_MS}.`);
  }
  return lifetimeMs;
}

/**
 * Serves the token proxy on the dev server, as an app's backend would: `react-cas-token/server`'s
 * handler at `/api/cas-token`. Without CAS settings in the environment it starts a mock CAS on
 * 127.0.0.1 (tokens live MOCK_CAS_LIFETIME_MS, default 30 s), which `/api/mock-cas/mode` can
 * make fail.
 */
function casTokenDevServer(): Plugin<CasTokenDevServerApi> {
  let mockCas: MockCas | undefined;
  let mode: MockCasMode = 'ok';
  let closing: Promise<void> | undefined;

  return {
    name: 'react-cas-token-example',
    apply: 'serve',
    api: {
      get mockCas() {
        return mockCas;
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
      let handler: ReturnType<ServerModule['createCasTokenHandler']>;
      if (env.CAS_URL || env.CAS_API_KEY || env.CAS_API_SECRET) {
        // Throws at once, naming the variable, when one of the three is missing.
        handler = casTokenHandlerFromEnv({ authorize });
        server.config.logger.info(`  CAS: ${new URL(env.CAS_URL ?? '').origin} (CAS_URL)`);
      } else {
        const { startMockCas } = (await server.ssrLoadModule('/server/mockCas.ts')) as MockCasModule;
        const lifetimeMs = readLifetime(env);
        // A fresh secret per run: should it ever reach the page, the browser test would find it.
        mockCas = await startMockCas({ apiKey: 'mock-cas-key', apiSecret: `mock-secret-${randomUUID()}`, lifetimeMs });
        handler = createCasTokenHandler({ casUrl: mockCas.url, apiKey: mockCas.apiKey, apiSecret: mockCas.apiSecret, authorize });
        server.config.logger.info(`  Mock CAS: ${mockCas.url}, tokens live ${lifetimeMs / 1000} s`);
      }

      server.middlewares.use('/api/cas-token', toNodeHandler(handler));

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
