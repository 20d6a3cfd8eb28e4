// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { casTokenHandlerFromEnv } from 'react-cas-token/server';
import type { MockCas } from '../../example/server/mockCas';
import { API_KEY, API_SECRET, captureLogger, startCas, tokenRequest } from './casTestKit';

let cas: MockCas;
beforeEach(async () => {
  cas = await startCas();
});
afterEach(async () => {
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
  await cas.close();
});

function envFor(cas: MockCas) {
  return { CAS_URL: cas.url, CAS_API_KEY: API_KEY, CAS_API_SECRET: API_SECRET };
}

describe('casTokenHandlerFromEnv', () => {
  it('reads CAS_URL, CAS_API_KEY and CAS_API_SECRET from process.env', async () => {
    for (const [name, value] of Object.entries(envFor(cas))) vi.stubEnv(name, value);
    const handler = casTokenHandlerFromEnv({ authorize: () => true });
    expect((await handler(tokenRequest('room-1'))).status).toBe(200);
    expect(cas.requests[0]?.headers).toMatchObject({ 'auth-api-key': API_KEY, 'auth-api-secret': API_SECRET });
  });

  it('reads the env it is given instead, and passes the other options on', async () => {
    const logger = captureLogger();
    const handler = casTokenHandlerFromEnv({ env: envFor(cas), authorize: () => false, logger });
    expect((await handler(tokenRequest('room-1'))).status).toBe(401);
    expect(cas.calls).toBe(0);
  });

  it.each(['CAS_URL', 'CAS_API_KEY', 'CAS_API_SECRET'] as const)('throws invalid-config naming %s when it is missing', (name) => {
    const env = { ...envFor(cas), [name]: undefined };
    expect(() => casTokenHandlerFromEnv({ env })).toThrow(
      expect.objectContaining({ code: 'invalid-config', message: expect.stringContaining(name) }),
    );
  });

  it('says, when a variable is missing, that one set only at run time means creating the handler on first use', () => {
    expect(() => casTokenHandlerFromEnv({ env: {} })).toThrow(
      'The CAS URL is missing: pass `casUrl` or set CAS_URL. Set only at run time? Create the handler on first use, in the request handler.',
    );
  });

  it('says how to create the handler on first use in Next.js when `next build` runs the module without the variables', () => {
    vi.stubEnv('NEXT_PHASE', 'phase-production-build');
    expect(() => casTokenHandlerFromEnv({ env: {} })).toThrow(
      "The CAS URL is missing: pass `casUrl` or set CAS_URL. `next build` runs this module without the run-time variables: create the handler on first use, in GET after `await connection()` (the lazy route in react-cas-token's docs/frameworks.md).",
    );
  });

  it('throws invalid-config, not a ReferenceError, in a runtime without `process`', () => {
    vi.stubGlobal('process', undefined);
    let thrown: unknown;
    try {
      casTokenHandlerFromEnv();
    } catch (error) {
      thrown = error;
    }
    vi.unstubAllGlobals();
    expect(thrown).toMatchObject({ name: 'CasTokenError', code: 'invalid-config', message: expect.stringContaining('CAS_URL') });
  });
});
