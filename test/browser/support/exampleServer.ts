import { join, resolve } from 'node:path';
import { createServer, type Plugin, type ViteDevServer } from 'vite';
import type { CasTokenDevServerApi, ProxyMode } from '../../../example/vite.config';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const EXAMPLE_CONFIG = join(ROOT, 'example/vite.config.ts');
/**
 * The settings that would point the example at a real CAS, the mock CAS's token lifetime, and the
 * handler's check interval.
 */
export const CAS_ENV = ['CAS_URL', 'CAS_API_KEY', 'CAS_API_SECRET', 'MOCK_CAS_LIFETIME_MS', 'CHECK_INTERVAL_MS'] as const;

type MockCasMode = Parameters<NonNullable<CasTokenDevServerApi['mockCas']>['setMode']>[0];

export interface ExampleServer {
  server: ViteDevServer;
  /** `http://127.0.0.1:<port>/` */
  baseUrl: string;
  mockCas: NonNullable<CasTokenDevServerApi['mockCas']>;
  /**
   * The example's control endpoints, as its buttons call them: how the mock CAS answers, how the
   * proxy is doing, and its store losing every room. Each resolves once the dev server has switched.
   */
  control: {
    casMode(mode: MockCasMode): Promise<void>;
    proxyMode(mode: ProxyMode): Promise<void>;
    loseEveryRoom(): Promise<void>;
  };
  /** Puts back the environment as it was, e.g. after a test set CAS variables. */
  restoreEnv(): void;
  /** Stops the dev server (and its mock CAS) and restores the environment. */
  close(): Promise<void>;
}

export interface ExampleOptions {
  /** The handler's `checkIntervalMs` (0: no checks). @defaultValue the handler's default */
  checkIntervalMs?: number;
}

async function post(url: string, body: unknown): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST ${url} answered HTTP ${response.status}: ${await response.text()}`);
}

/**
 * Starts the watch-party example's dev server on a free port of 127.0.0.1 with its embedded mock
 * CAS, never a real one whatever this shell has set, its tokens living `lifetimeMs`.
 */
export async function startExample(lifetimeMs: number, options: ExampleOptions = {}): Promise<ExampleServer> {
  const saved = Object.fromEntries(CAS_ENV.map((name) => [name, process.env[name]]));
  const restoreEnv = () => {
    for (const name of CAS_ENV) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  };
  for (const name of CAS_ENV) delete process.env[name];
  process.env.MOCK_CAS_LIFETIME_MS = String(lifetimeMs);
  if (options.checkIntervalMs !== undefined) process.env.CHECK_INTERVAL_MS = String(options.checkIntervalMs);
  const server = await createServer({ configFile: EXAMPLE_CONFIG, logLevel: 'warn', server: { host: '127.0.0.1', port: 0, strictPort: false } });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('The dev server did not listen on a port.');
  const plugin = server.config.plugins.find((candidate) => candidate.name === 'react-cas-token-example') as Plugin<CasTokenDevServerApi>;
  const mockCas = plugin.api?.mockCas;
  if (!mockCas) throw new Error('The example did not start its mock CAS.');
  const baseUrl = `http://127.0.0.1:${address.port}/`;
  return {
    server,
    baseUrl,
    mockCas,
    control: {
      casMode: (mode) => post(`${baseUrl}api/mock-cas/mode`, { mode }),
      proxyMode: (mode) => post(`${baseUrl}api/mock-proxy/mode`, { mode }),
      loseEveryRoom: () => post(`${baseUrl}api/mock-proxy/lose-rooms`, {}),
    },
    restoreEnv,
    async close() {
      await server.close();
      restoreEnv();
    },
  };
}
