// @vitest-environment node
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCasTokenHandler, toNodeHandler } from 'react-cas-token/server';
import type { MockCas } from '../../example/server/mockCas';
import { captureLogger, credentials, startCas } from './casTestKit';

let cas: MockCas;
let server: Server | undefined;
beforeEach(async () => {
  cas = await startCas();
});
afterEach(async () => {
  if (server !== undefined) {
    server.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  }
  await cas.close();
});

/** Starts `server` on 127.0.0.1 and returns its base URL. */
async function listen(created: Server): Promise<string> {
  server = created;
  await new Promise<void>((resolve) => created.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(created.address() as AddressInfo).port}`;
}

/** A request with any method: fetch() refuses TRACE itself. */
function rawRequest(base: string, method: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/api/cas-token?room=r1`, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function tokenHandler(options: { authorize?: (request: Request) => boolean } = {}) {
  return createCasTokenHandler({ ...credentials(cas), authorize: () => true, logger: captureLogger(), ...options });
}

describe('toNodeHandler', () => {
  it('serves the token handler from a node:http server', async () => {
    const base = await listen(createServer(toNodeHandler(tokenHandler())));
    const response = await fetch(`${base}/api/cas-token?room=movie-night`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      expiresIn: expect.any(Number),
      refreshIn: expect.any(Number),
      checkIn: 8_000,
      seal: expect.any(String),
    });
    expect(cas.calls).toBe(1);
  });

  it("passes on the method and answers the handler's errors with their status and headers", async () => {
    const base = await listen(createServer(toNodeHandler(tokenHandler())));
    const response = await fetch(`${base}/api/cas-token?room=movie-night`, { method: 'POST', body: 'ignored' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(await response.json()).toMatchObject({ error: 'method-not-allowed' });
  });

  it('answers HEAD like GET, with no body', async () => {
    const base = await listen(createServer(toNodeHandler(tokenHandler())));
    const response = await fetch(`${base}/api/cas-token?room=movie-night`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.text()).toBe('');
    expect(cas.calls).toBe(1);
  });

  it.each(['TRACE'])('answers %s, which a Fetch-API Request cannot hold, with 405 and Allow: GET, HEAD', async (method) => {
    let reached = false;
    const base = await listen(
      createServer(
        toNodeHandler(() => {
          reached = true;
          return new Response('ok');
        }),
      ),
    );
    const { status, headers, body } = await rawRequest(base, method);
    expect(status).toBe(405);
    expect(headers.allow).toBe('GET, HEAD');
    expect(JSON.parse(body)).toEqual({ error: 'method-not-allowed', message: 'Ask for a token with GET.' });
    expect(reached).toBe(false);
  });

  it('hands the request headers to the handler, so authorize can read the session cookie', async () => {
    const handler = tokenHandler({ authorize: (request) => request.headers.get('cookie') === 'session=abc' });
    const base = await listen(createServer(toNodeHandler(handler)));
    expect((await fetch(`${base}/api/cas-token?room=r1`)).status).toBe(401);
    expect((await fetch(`${base}/api/cas-token?room=r1`, { headers: { cookie: 'session=abc' } })).status).toBe(200);
  });

  it('builds the full request URL from the Host header', async () => {
    let seen = '';
    const base = await listen(
      createServer(
        toNodeHandler((request) => {
          seen = request.url;
          return new Response('ok');
        }),
      ),
    );
    await fetch(`${base}/path?room=r1`);
    expect(seen).toBe(`${base}/path?room=r1`);
  });

  it('keeps several Set-Cookie headers apart', async () => {
    const base = await listen(
      createServer(
        toNodeHandler(() => {
          const headers = new Headers();
          headers.append('Set-Cookie', 'a=1');
          headers.append('Set-Cookie', 'b=2');
          return new Response('ok', { headers });
        }),
      ),
    );
    expect((await fetch(base)).headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  });

  it('answers 500 JSON when the handler throws and there is no next', async () => {
    const base = await listen(
      createServer(
        toNodeHandler(() => {
          throw new Error('boom');
        }),
      ),
    );
    const response = await fetch(base);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: 'internal', message: 'The token proxy failed.' });
  });

  it('drops the connection for a Response.error() (a mock network failure), never crashing the server', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const base = await listen(createServer(toNodeHandler(() => Response.error())));

      await expect(fetch(base)).rejects.toThrow(TypeError);
      // The server still answers afterwards.
      await expect(fetch(base)).rejects.toThrow(TypeError);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  describe('as Express 5 middleware', () => {
    it('serves tokens mounted on a path, and leaves other routes alone', async () => {
      const app = express();
      app.use('/api/cas-token', toNodeHandler(tokenHandler()));
      app.get('/health', (_req, res) => {
        res.send('fine');
      });
      const base = await listen(createServer(app));

      const response = await fetch(`${base}/api/cas-token?room=movie-night`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.json()).toMatchObject({ token: expect.any(String) });
      expect(await (await fetch(`${base}/health`)).text()).toBe('fine');
      expect((await fetch(`${base}/api/cas-token?room=bad%20room`)).status).toBe(400);
    });

    it('gives the handler the full URL (originalUrl), not the part after the mount path', async () => {
      let seen = '';
      const app = express();
      app.use(
        '/api/cas-token',
        toNodeHandler((request) => {
          seen = new URL(request.url).pathname + new URL(request.url).search;
          return new Response('ok');
        }),
      );
      const base = await listen(createServer(app));
      await fetch(`${base}/api/cas-token?room=r1`);
      expect(seen).toBe('/api/cas-token?room=r1');
    });

    it("passes a handler's exception to Express's error handler through next", async () => {
      const app = express();
      app.use(
        '/api/cas-token',
        toNodeHandler(() => {
          throw new Error('boom');
        }),
      );
      const onError: ErrorRequestHandler = (error: Error, _req, res, _next) => {
        res.status(418).send(`caught ${error.message}`);
      };
      app.use(onError);
      const base = await listen(createServer(app));
      const response = await fetch(`${base}/api/cas-token?room=r1`);
      expect(response.status).toBe(418);
      expect(await response.text()).toBe('caught boom');
    });
  });
});
