import { createCasTokenHandler, type CasTokenHandler, type CasTokenHandlerOptions } from './createCasTokenHandler.js';

export interface CasTokenHandlerFromEnvOptions extends Omit<CasTokenHandlerOptions, 'casUrl' | 'apiKey' | 'apiSecret'> {
  /**
   * Where to read `CAS_URL`, `CAS_API_KEY` and `CAS_API_SECRET`, e.g. Vite's `loadEnv(...)` or
   * a Worker's `env`.
   * @defaultValue process.env, when there is a `process`
   */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * `createCasTokenHandler` with the CAS settings read from `CAS_URL`, `CAS_API_KEY` and
 * `CAS_API_SECRET`. A missing one throws `invalid-config` at once, naming the variable (and, when
 * `next build` runs the module, saying to create the handler on first use after
 * `await connection()`).
 *
 * @example
 * ```ts
 * // app/api/cas-token/route.ts
 * export const GET = casTokenHandlerFromEnv({ authorize: async () => Boolean(await auth()) });
 * ```
 */
export function casTokenHandlerFromEnv(options: CasTokenHandlerFromEnvOptions = {}): CasTokenHandler {
  const { env: given, ...handlerOptions } = options;
  // Read through globalThis: Workers and browsers-like runtimes have no `process`.
  const env = given ?? (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  return createCasTokenHandler({
    ...handlerOptions,
    casUrl: env.CAS_URL as string,
    apiKey: env.CAS_API_KEY as string,
    apiSecret: env.CAS_API_SECRET as string,
  });
}
