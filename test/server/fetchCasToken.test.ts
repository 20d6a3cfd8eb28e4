// @vitest-environment node
import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fetchCasToken, type CasTokenError } from 'react-cas-token/server';
import type { MockCas } from '../../example/server/mockCas';
import { API_KEY, API_SECRET, credentials, payloadOf, startCas, untilCasCalls } from './casTestKit';

let cas: MockCas;
beforeEach(async () => {
  cas = await startCas();
});
afterEach(async () => {
  vi.useRealTimers();
  await cas.close();
});

function failure(promise: Promise<unknown>): Promise<CasTokenError> {
  return promise.then(
    () => expect.fail('expected the CAS call to fail'),
    (error: CasTokenError) => error,
  );
}

describe('fetchCasToken', () => {
  it('gets a signed token from CAS, sending the key, the secret and Accept: application/json', async () => {
    const token = await fetchCasToken(credentials(cas));

    const [header, payload, signature] = token.split('.');
    expect(createHmac('sha256', cas.signingKey).update(`${header}.${payload}`).digest('base64url')).toBe(signature);
    expect(payloadOf(token)).toEqual({ rid: expect.any(String), unct: expect.any(String), iat: expect.any(Number), exp: expect.any(Number) });
    expect(cas.requests).toHaveLength(1);
    expect(cas.requests[0]).toMatchObject({
      method: 'GET',
      path: '/stream/token/v2/',
      headers: { 'auth-api-key': API_KEY, 'auth-api-secret': API_SECRET, accept: 'application/json' },
    });
  });

  it('asks the path it is given, and copes with a trailing slash on the CAS URL', async () => {
    const error = await failure(fetchCasToken({ ...credentials(cas), casUrl: `${cas.url}/`, path: '/sync/token/' }));
    expect(error).toMatchObject({ code: 'http', status: 404 });
    expect(cas.requests[0]?.path).toBe('/sync/token/');
  });

  it('adds the leading slash a path was given without', async () => {
    await fetchCasToken({ ...credentials(cas), path: 'stream/token/v2/' });
    expect(cas.requests[0]?.path).toBe('/stream/token/v2/');
  });

  it.each([
    ['unauthorized', 'unauthorized', 401],
    ['error', 'http', 500],
  ] as const)('turns CAS mode %s into a %s error with the status', async (mode, code, status) => {
    cas.setMode(mode);
    const error = await failure(fetchCasToken(credentials(cas)));
    expect(error).toMatchObject({ name: 'CasTokenError', code, status });
  });

  it('says which settings to check when CAS refuses the key and secret', async () => {
    const error = await failure(fetchCasToken({ ...credentials(cas), apiSecret: 'wrong-secret' }));
    expect(error.code).toBe('unauthorized');
    expect(error.message).toMatch(/CAS_API_KEY and CAS_API_SECRET/);
  });

  it('rejects an HTML answer as invalid-response, naming the content type', async () => {
    cas.setMode('html');
    const error = await failure(fetchCasToken(credentials(cas)));
    expect(error.code).toBe('invalid-response');
    expect(error.message).toMatch(/text\/html, not JSON/);
  });

  it('rejects JSON without a token as invalid-response', async () => {
    cas.setMode('no-token');
    const error = await failure(fetchCasToken(credentials(cas)));
    expect(error.code).toBe('invalid-response');
    expect(error.message).toMatch(/without a `token`/);
  });

  it('reports a CAS that cannot be reached as a network error', async () => {
    const url = cas.url;
    await cas.close();
    const error = await failure(fetchCasToken({ ...credentials(cas), casUrl: url }));
    expect(error.code).toBe('network');
    expect(error.message).toBe(`Could not reach CAS at ${url}.`);
    cas = await startCas();
  });

  it('gives up on a CAS that does not answer after timeoutMs, as a timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    cas.setMode('hang');
    const result = failure(fetchCasToken({ ...credentials(cas), timeoutMs: 2_000 }));
    await untilCasCalls(cas, 1);
    await vi.advanceTimersByTimeAsync(1_999);
    let settled = false;
    void result.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);

    await vi.advanceTimersByTimeAsync(1);
    const error = await result;
    expect(error.code).toBe('timeout');
    expect(error.message).toMatch(/did not answer within 2000 ms/);
  });

  it('stops when its signal aborts', async () => {
    cas.setMode('hang');
    const controller = new AbortController();
    const result = failure(fetchCasToken({ ...credentials(cas), signal: controller.signal }));
    await untilCasCalls(cas, 1);
    controller.abort();
    expect(await result).toMatchObject({ code: 'network', message: 'The CAS call was aborted by its signal.' });
  });

  it('treats a signal that timed out as a timeout, without calling CAS', async () => {
    const error = await failure(fetchCasToken({ ...credentials(cas), signal: AbortSignal.abort(new DOMException('late', 'TimeoutError')) }));
    expect(error.code).toBe('timeout');
    expect(cas.calls).toBe(0);
  });

  describe('redirects', () => {
    it('follows a redirect within the CAS origin', async () => {
      cas.setMode('redirect');
      const token = await fetchCasToken(credentials(cas));
      expect(payloadOf(token).rid).toEqual(expect.any(String));
      expect(cas.requests.map((request) => request.path)).toEqual(['/stream/token/v2/', '/moved/stream/token/v2/']);
    });

    it('refuses to send the secret to another origin, and says how to fix the CAS URL', async () => {
      const elsewhere = await startCas();
      try {
        cas.setMode('redirect', { redirectTo: `${elsewhere.url}/stream/token/v2/` });
        const error = await failure(fetchCasToken(credentials(cas)));
        expect(error.code).toBe('invalid-response');
        expect(error.message).toBe(
          `CAS at ${cas.url} redirected to ${elsewhere.url}; the API secret is only ever sent to the CAS URL's own origin. If CAS has moved, set \`casUrl\` (CAS_URL) to the new address.`,
        );
        expect(elsewhere.calls).toBe(0);
      } finally {
        await elsewhere.close();
      }
    });

    it('treats the same host on another port as another origin', async () => {
      const otherPort = new URL(cas.url);
      otherPort.port = String(Number(otherPort.port) + 1);
      cas.setMode('redirect', { redirectTo: otherPort.href });
      expect((await failure(fetchCasToken(credentials(cas)))).code).toBe('invalid-response');
    });

    it('gives up after 5 redirects', async () => {
      cas.setMode('redirect', { redirectTo: '/stream/token/v2/' });
      const error = await failure(fetchCasToken(credentials(cas)));
      expect(error).toMatchObject({ code: 'invalid-response', message: `CAS at ${cas.url} redirected more than 5 times.` });
      expect(cas.calls).toBe(6);
    });
  });

  describe('settings', () => {
    it.each([
      ['casUrl', 'CAS_URL', 'CAS URL'],
      ['apiKey', 'CAS_API_KEY', 'CAS API key'],
      ['apiSecret', 'CAS_API_SECRET', 'CAS API secret'],
    ] as const)('names %s and %s when it is missing, without calling CAS', async (setting, env, what) => {
      const error = await failure(fetchCasToken({ ...credentials(cas), [setting]: '' }));
      expect(error).toMatchObject({ code: 'invalid-config', message: `The ${what} is missing: pass \`${setting}\` or set ${env}.` });
      expect(cas.calls).toBe(0);
    });

    it('refuses a plain-http CAS URL that is not localhost', async () => {
      const error = await failure(fetchCasToken({ ...credentials(cas), casUrl: 'http://cas.example.com' }));
      expect(error.code).toBe('invalid-config');
      expect(error.message).toMatch(/must use https/);
    });

    it.each(['http://localhost:1', 'http://127.0.0.1:1', 'http://[::1]:1'])('allows plain http for %s', async (casUrl) => {
      const error = await failure(fetchCasToken({ ...credentials(cas), casUrl, timeoutMs: 5_000 }));
      expect(error.code).toBe('network');
    });
  });
});
