// @vitest-environment node
import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fetchCasToken, MAX_CAS_ANSWER_BYTES, type CasTokenError } from 'react-cas-token/server';
import type { MockCas } from '../../example/server/mockCas';
import { API_KEY, API_SECRET, credentials, jwtWith, payloadOf, startCas, startHttpServer, untilCasCalls } from './casTestKit';

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

    it.each([
      ['apiKey', 'a line break', 'key\nX-Injected: 1'],
      ['apiSecret', 'a carriage return', 'secret\rmore'],
      ['apiSecret', 'a NUL', 'secret\u0000more'],
      ['apiKey', 'a character beyond Latin-1', 'key€'],
    ] as const)('refuses an %s holding %s as invalid-config, naming it and never quoting it, without calling CAS', async (setting, _what, value) => {
      const error = await failure(fetchCasToken({ ...credentials(cas), [setting]: value }));
      expect(error.code).toBe('invalid-config');
      expect(error.message).toContain(`\`${setting}\``);
      expect(error.message).not.toContain(value);
      expect(inspect(error, { depth: 10 })).not.toContain(value);
      expect(cas.calls).toBe(0);
    });

    it.each([
      ['a trailing space', `${API_SECRET} `],
      ['a trailing line break', `${API_SECRET}\n`],
      ['a leading tab', `\t${API_SECRET}`],
    ])('refuses a secret with %s, which HTTP would silently drop', async (_case, apiSecret) => {
      const error = await failure(fetchCasToken({ ...credentials(cas), apiSecret }));
      expect(error).toMatchObject({ code: 'invalid-config', message: expect.stringContaining('`apiSecret`') });
      expect(error.message).not.toContain(API_SECRET);
    });

    it.each([
      ['a query', '?region=eu'],
      ['an empty query', '?'],
      ['a fragment', '#top'],
    ])('refuses a CAS URL with %s as invalid-config', async (_case, suffix) => {
      const error = await failure(fetchCasToken({ ...credentials(cas), casUrl: `${cas.url}/${suffix}` }));
      expect(error).toMatchObject({ code: 'invalid-config', message: expect.stringMatching(/must not hold a query .* or a fragment/) });
      expect(cas.calls).toBe(0);
    });

    it('keeps a path prefix on the CAS URL', async () => {
      await failure(fetchCasToken({ ...credentials(cas), casUrl: `${cas.url}/cas` }));
      expect(cas.requests[0]?.path).toBe('/cas/stream/token/v2/');
    });

    it.each(['http://localhost:1', 'http://127.0.0.1:1', 'http://[::1]:1'])('allows plain http for %s', async (casUrl) => {
      const error = await failure(fetchCasToken({ ...credentials(cas), casUrl, timeoutMs: 5_000 }));
      expect(error.code).toBe('network');
    });
  });

  describe('answers it will not read', () => {
    it('refuses an answer declaring more than 64 kB at once, without waiting for its body', async () => {
      const token = jwtWith({ exp: 2_000_000_000 });
      const server = await startHttpServer((_req, res) => {
        // Declares 100 kB, sends a valid token, then never sends the rest.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(100 * 1024) });
        res.write(JSON.stringify({ token }));
      });
      try {
        const error = await failure(fetchCasToken({ ...credentials(cas), casUrl: server.url, timeoutMs: 5_000 }));
        expect(error).toMatchObject({ code: 'invalid-response', message: expect.stringContaining(`more than ${MAX_CAS_ANSWER_BYTES} bytes`) });
        expect(MAX_CAS_ANSWER_BYTES).toBe(65_536);
      } finally {
        await server.close();
      }
    });

    it('stops reading a streamed answer once it passes 64 kB, as invalid-response', async () => {
      let bytesSent = 0;
      let closed = false;
      const server = await startHttpServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no length given
        res.on('close', () => (closed = true));
        const chunk = Buffer.from(`{"token":"${'x'.repeat(16 * 1024)}`);
        const pump = () => {
          while (!res.destroyed && bytesSent < 64 * 1024 * 1024) {
            bytesSent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
        };
        pump();
      });
      try {
        const error = await failure(fetchCasToken({ ...credentials(cas), casUrl: server.url }));
        expect(error.code).toBe('invalid-response');
        expect(error.message).toMatch(/more than 65536 bytes/);
        await vi.waitFor(() => expect(closed).toBe(true));
      } finally {
        await server.close();
      }
      expect(bytesSent).toBeLessThan(16 * 1024 * 1024);
    });

    it('reads an answer of exactly 64 kB', async () => {
      const token = jwtWith({ exp: 2_000_000_000 });
      const body = JSON.stringify({ token, padding: '' });
      const padded = body.replace('"padding":""', `"padding":"${' '.repeat(MAX_CAS_ANSWER_BYTES - body.length)}"`);
      expect(Buffer.byteLength(padded)).toBe(MAX_CAS_ANSWER_BYTES);
      const server = await startHttpServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(padded);
      });
      try {
        expect(await fetchCasToken({ ...credentials(cas), casUrl: server.url })).toBe(token);
      } finally {
        await server.close();
      }
    });
  });

  describe("CAS's Retry-After", () => {
    it.each([
      ['seconds', '120', 120_000],
      ['an HTTP date', 'date+30', 30_000],
    ])('reads a Retry-After in %s into retryAfterMs', async (_case, header, expected) => {
      vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2030, 0, 1) });
      const value = header === 'date+30' ? new Date(Date.UTC(2030, 0, 1) + 30_000).toUTCString() : header;
      const server = await startHttpServer((_req, res) => {
        res.writeHead(503, { 'retry-after': value });
        res.end('busy');
      });
      try {
        const error = await failure(fetchCasToken({ ...credentials(cas), casUrl: server.url }));
        expect(error).toMatchObject({ code: 'http', status: 503, retryAfterMs: expected });
        expect(error.message).toMatch(`asked to wait ${expected / 1000} s`);
      } finally {
        await server.close();
      }
    });

    it('leaves retryAfterMs unset when CAS gives none', async () => {
      cas.setMode('error');
      const error = await failure(fetchCasToken(credentials(cas)));
      expect(error.retryAfterMs).toBeUndefined();
    });
  });

  describe('the secret in errors', () => {
    it('keeps the key and secret out of every cause, however deep the failing fetch put them', async () => {
      const fetch = async (_url: URL | RequestInfo, init?: RequestInit): Promise<Response> => {
        const headers = new Headers(init?.headers);
        const inner = Object.assign(new Error(`socket hang up sending ${headers.get('auth-api-secret')}`), { code: 'ECONNRESET' });
        throw new TypeError(`fetch failed for key ${headers.get('auth-api-key')}`, { cause: inner });
      };
      const error = await failure(fetchCasToken({ ...credentials(cas), fetch }));
      expect(error.code).toBe('network');
      const everything = inspect(error, { depth: 10 }) + JSON.stringify(error) + String(error.stack);
      expect(everything).not.toContain(API_SECRET);
      expect(everything).not.toContain(API_KEY);
      // What went wrong is still there to debug.
      expect(error.cause).toMatchObject({ name: 'TypeError', message: 'fetch failed for key [redacted]' });
      expect((error.cause as Error).cause).toMatchObject({ message: 'socket hang up sending [redacted]', code: 'ECONNRESET' });
    });

    it('keeps the secret out of the cause when a thrown value is not an Error', async () => {
      const fetch = async (): Promise<Response> => {
        throw `no route for ${API_SECRET}`;
      };
      const error = await failure(fetchCasToken({ ...credentials(cas), fetch }));
      expect(inspect(error, { depth: 10 })).not.toContain(API_SECRET);
      expect((error.cause as Error).message).toBe('no route for [redacted]');
    });
  });
});
