import { join, resolve } from 'node:path';
import { createServer, type Plugin, type ViteDevServer } from 'vite';
import type { CasTokenDevServerApi } from '../../../example/vite.config';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const EXAMPLE_CONFIG = join(ROOT, 'example/vite.config.ts');
/** The settings that would point the example at a real CAS, and the mock CAS's token lifetime. */
export const CAS_ENV = ['CAS_URL', 'CAS_API_KEY', 'CAS_API_SECRET', 'MOCK_CAS_LIFETIME_MS'] as const;

export interface ExampleServer {
  server: ViteDevServer;
  /** `http://127.0.0.1:<port>/` */
  baseUrl: string;
  mockCas: NonNullable<CasTokenDevServerApi['mockCas']>;
  /** Puts back the environment as it was, e.g. after a test set CAS variables. */
  restoreEnv(): void;
  /** Stops the dev server (and its mock CAS) and restores the environment. */
  close(): Promise<void>;
}

/**
 * Starts the watch-party example's dev server on a free port of 127.0.0.1 with its embedded mock
 * CAS, never a real one whatever this shell has set, its tokens living `lifetimeMs`.
 */
export async function startExample(lifetimeMs: number): Promise<ExampleServer> {
  const saved = Object.fromEntries(CAS_ENV.map((name) => [name, process.env[name]]));
  const restoreEnv = () => {
    for (const name of CAS_ENV) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  };
  for (const name of CAS_ENV) delete process.env[name];
  process.env.MOCK_CAS_LIFETIME_MS = String(lifetimeMs);
  const server = await createServer({ configFile: EXAMPLE_CONFIG, logLevel: 'warn', server: { host: '127.0.0.1', port: 0, strictPort: false } });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('The dev server did not listen on a port.');
  const plugin = server.config.plugins.find((candidate) => candidate.name === 'react-cas-token-example') as Plugin<CasTokenDevServerApi>;
  const mockCas = plugin.api?.mockCas;
  if (!mockCas) throw new Error('The example did not start its mock CAS.');
  return {
    server,
    baseUrl: `http://127.0.0.1:${address.port}/`,
    mockCas,
    restoreEnv,
    async close() {
      await server.close();
      restoreEnv();
    },
  };
}
