import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * How the mock answers the next token requests:
 * - `ok`: a signed HS256 token, `{ "token": "<jwt>" }`.
 * - `unauthorized`: 401, as CAS does for a wrong key or secret.
 * - `error`: 500.
 * - `html`: 200 with an HTML page (a proxy or login page in the way).
 * - `no-token`: 200 JSON without a `token`.
 * - `hang`: never answers (until `close()`).
 * - `redirect`: 307 to `redirectTo` (by default the same path on this server, which then answers `ok`).
 */
export type MockCasMode = 'ok' | 'unauthorized' | 'error' | 'html' | 'no-token' | 'hang' | 'redirect';

export interface MockCasOptions {
  /** The key the mock expects in `auth-api-key`. @defaultValue 'mock-cas-key' */
  apiKey?: string;
  /** The secret the mock expects in `auth-api-secret`. @defaultValue 'mock-cas-secret' */
  apiSecret?: string;
  /** @defaultValue 0 (any free port) */
  port?: number;
  /** How long each token lives, in ms. @defaultValue 30_000 */
  lifetimeMs?: number;
  /** How long the mock waits before answering, in ms. @defaultValue 0 */
  latencyMs?: number;
  /** The first mode. @defaultValue 'ok' */
  mode?: MockCasMode;
}

/** One request the mock received. */
export interface MockCasRequest {
  method: string;
  path: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface MockCas {
  /** The base URL to give as `casUrl`, e.g. `http://127.0.0.1:49152`. */
  readonly url: string;
  /** How many requests reached the mock, on any path. */
  readonly calls: number;
  /** Every request the mock received, oldest first. */
  readonly requests: readonly MockCasRequest[];
  readonly apiKey: string;
  readonly apiSecret: string;
  /** The key the tokens are signed with, to check a signature. */
  readonly signingKey: string;
  /** Changes how the next requests are answered; `redirectTo` is the `Location` for `redirect`. */
  setMode(mode: MockCasMode, options?: { redirectTo?: string }): void;
  setLatency(latencyMs: number): void;
  setLifetime(lifetimeMs: number): void;
  /** Stops the server and drops open connections, hanging ones included. */
  close(): Promise<void>;
}

const TOKEN_PATH = '/stream/token/v2/';
const REDIRECTED_PATH = `/moved${TOKEN_PATH}`;

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

function signToken(signingKey: string, lifetimeMs: number): string {
  const now = Date.now();
  const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'HS256' }));
  const payload = base64url(
    JSON.stringify({
      rid: randomUUID(),
      unct: randomUUID(),
      iat: Math.floor(now / 1000),
      exp: Math.floor((now + lifetimeMs) / 1000),
    }),
  );
  const signature = createHmac('sha256', signingKey).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType });
  res.end(body);
}

/**
 * Starts a stand-in for Sceenic's CAS on 127.0.0.1: it checks the token path and both
 * credential headers as CAS does, and signs real HS256 tokens, so a proxy can be tried (and
 * made to fail) without a CAS account.
 *
 * @example
 * ```ts
 * const cas = await startMockCas({ lifetimeMs: 60_000 });
 * const handler = createCasTokenHandler({ casUrl: cas.url, apiKey: cas.apiKey, apiSecret: cas.apiSecret });
 * cas.setMode('unauthorized'); // the next requests get 401
 * await cas.close();
 * ```
 */
export async function startMockCas(options: MockCasOptions = {}): Promise<MockCas> {
  const apiKey = options.apiKey ?? 'mock-cas-key';
  const apiSecret = options.apiSecret ?? 'mock-cas-secret';
  const signingKey = randomUUID();
  let mode: MockCasMode = options.mode ?? 'ok';
  let redirectTo: string | undefined;
  let latencyMs = options.latencyMs ?? 0;
  let lifetimeMs = options.lifetimeMs ?? 30_000;
  const requests: MockCasRequest[] = [];

  function answer(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (req.method !== 'GET') return send(res, 405, 'application/json', '{"detail":"Method not allowed"}');
    if (path !== TOKEN_PATH && path !== REDIRECTED_PATH) return send(res, 404, 'application/json', '{"detail":"Not found"}');
    if (req.headers['auth-api-key'] !== apiKey || req.headers['auth-api-secret'] !== apiSecret) {
      return send(res, 401, 'application/json', '{"detail":"Invalid credentials"}');
    }
    // A redirected request lands on REDIRECTED_PATH and is answered, so `redirect` cannot loop.
    const current = path === REDIRECTED_PATH && mode === 'redirect' ? 'ok' : mode;
    switch (current) {
      case 'ok':
        return send(res, 200, 'application/json', JSON.stringify({ token: signToken(signingKey, lifetimeMs) }));
      case 'unauthorized':
        return send(res, 401, 'application/json', '{"detail":"Invalid credentials"}');
      case 'error':
        return send(res, 500, 'application/json', '{"detail":"Internal server error"}');
      case 'html':
        return send(res, 200, 'text/html', '<!doctype html><title>Sign in</title><p>Please sign in.</p>');
      case 'no-token':
        return send(res, 200, 'application/json', '{"detail":"ok"}');
      case 'hang':
        return;
      case 'redirect':
        res.writeHead(307, { Location: redirectTo ?? REDIRECTED_PATH });
        res.end();
        return;
    }
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    requests.push({ method: req.method ?? 'GET', path, headers: { ...req.headers } });
    if (latencyMs > 0) setTimeout(() => answer(req, res, path), latencyMs);
    else answer(req, res, path);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get calls() {
      return requests.length;
    },
    get requests() {
      return requests;
    },
    apiKey,
    apiSecret,
    signingKey,
    setMode(next, modeOptions = {}) {
      mode = next;
      redirectTo = modeOptions.redirectTo;
    },
    setLatency(next) {
      latencyMs = next;
    },
    setLifetime(next) {
      lifetimeMs = next;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
