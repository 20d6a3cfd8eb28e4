// @vitest-environment node
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCasTokenHandler, toNodeHandler, type NodeHandler } from 'react-cas-token/server';
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

/** Passes `count` chunks through, then ends the stream: a finite body from an endless source. */
function endAfter(count: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      seen += 1;
      if (seen === count) controller.terminate();
    },
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

  describe("an answer whose body fails (authorize's Response from an upstream service that drops the connection)", () => {
    /** Rejections nobody handled while the test ran: one would end a Node process. */
    let unhandled: unknown[];
    const record = (reason: unknown) => void unhandled.push(reason);
    beforeEach(() => {
      unhandled = [];
      process.on('unhandledRejection', record);
    });
    afterEach(() => {
      process.off('unhandledRejection', record);
    });

    /** A body that sends `chunks`, then fails (`error`) or never goes on (`hang`). */
    function failingBody(chunks: string[], end: 'error' | 'hang'): ReadableStream<Uint8Array> {
      const queue = chunks.map((chunk) => new TextEncoder().encode(chunk));
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = queue.shift();
          if (next !== undefined) controller.enqueue(next);
          else if (end === 'error') controller.error(new TypeError('upstream connection reset'));
          else return new Promise(() => {});
        },
      });
    }

    function serving(body: () => ReadableStream<Uint8Array>, options?: Parameters<typeof toNodeHandler>[1]): NodeHandler {
      return toNodeHandler(
        () => new Response(body(), { status: 429, headers: { 'Content-Type': 'text/plain', 'Retry-After': '7' } }),
        options,
      );
    }

    /** What the client gets: the status, or the error fetch or reading the body rejects with. */
    async function outcome(base: string) {
      const started = Date.now();
      try {
        const response = await fetch(base, { signal: AbortSignal.timeout(3_000) });
        const body = await response.text();
        return { status: response.status, body, ms: Date.now() - started };
      } catch (error) {
        return { failed: (error as Error).name, ms: Date.now() - started };
      }
    }

    it('drops the connection when the body fails midway, and neither crashes nor stops the server', async () => {
      const base = await listen(createServer(serving(() => failingBody(['Too many ', 'requests'], 'error'))));
      const first = await outcome(base);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      expect(first).toMatchObject({ failed: 'TypeError' });
      expect(await outcome(base)).toMatchObject({ failed: 'TypeError' });
    });

    it('answers 502 when the body fails before its first byte', async () => {
      const base = await listen(createServer(serving(() => failingBody([], 'error'))));
      const response = await fetch(base);
      expect(response.status).toBe(502);
      expect(response.headers.get('retry-after')).toBeNull();
      expect(await response.json()).toEqual({ error: 'internal', message: 'The token proxy could not send its answer.' });
      expect(unhandled).toEqual([]);
    });

    it('drops the connection sendTimeoutMs after the answer began when the body never ends', async () => {
      const base = await listen(createServer(serving(() => failingBody(['Too many '], 'hang'), { sendTimeoutMs: 200 })));
      const result = await outcome(base);
      expect(result).toMatchObject({ failed: 'TypeError' });
      expect(result.ms).toBeGreaterThanOrEqual(190);
      expect(result.ms).toBeLessThan(2_000);
      expect(unhandled).toEqual([]);
    });

    it('answers 502 after sendTimeoutMs when the body never sends a byte', async () => {
      const base = await listen(createServer(serving(() => failingBody([], 'hang'), { sendTimeoutMs: 200 })));
      const result = await outcome(base);
      expect(result).toMatchObject({ status: 502 });
      expect(result.ms).toBeLessThan(2_000);
    });

    it('streams a large body whole, in order', async () => {
      const chunk = 'x'.repeat(64 * 1024);
      const chunks = Array.from({ length: 128 }, (_, i) => `${String(i).padStart(3, '0')}${chunk}`);
      const base = await listen(createServer(toNodeHandler(() => new Response(failingBody(chunks, 'hang').pipeThrough(endAfter(chunks.length))))));
      const response = await fetch(base);
      const body = await response.text();
      expect(body.length).toBe(chunks.join('').length);
      expect(body).toBe(chunks.join(''));
    });

    it('stops reading an endless body when the client goes away', async () => {
      let cancelled = false;
      const endless = () =>
        new ReadableStream<Uint8Array>({
          pull: (controller) => controller.enqueue(new Uint8Array(64 * 1024)),
          cancel: () => void (cancelled = true),
        });
      const base = await listen(createServer(toNodeHandler(() => new Response(endless()))));
      const aborter = new AbortController();
      const response = await fetch(base, { signal: aborter.signal });
      await response.body?.getReader().read();
      aborter.abort();
      const since = Date.now();
      while (!cancelled && Date.now() - since < 2_000) await sleep(10);
      expect(cancelled).toBe(true);
      expect(unhandled).toEqual([]);
    });

    it('hands a body failing before its first byte to Express through next, and drops the connection once the answer began', async () => {
      const app = express();
      app.use('/early', serving(() => failingBody([], 'error')));
      app.use('/late', serving(() => failingBody(['Too many '], 'error')));
      const onError: ErrorRequestHandler = (error: Error, _req, res, _next) => {
        res.status(418).send(`caught ${error.message}`);
      };
      app.use(onError);
      const base = await listen(createServer(app));
      const early = await fetch(`${base}/early`);
      expect([early.status, await early.text()]).toEqual([418, 'caught upstream connection reset']);
      expect(await outcome(`${base}/late`)).toMatchObject({ failed: 'TypeError' });
      expect(unhandled).toEqual([]);
    });

    it('refuses a sendTimeoutMs that is not a positive number of ms', () => {
      expect(() => toNodeHandler(() => new Response('ok'), { sendTimeoutMs: 0 })).toThrow(
        expect.objectContaining({ code: 'invalid-config', message: expect.stringContaining('sendTimeoutMs') }),
      );
    });
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
