import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMockCas, type MockCas, type MockCasOptions } from '../../example/server/mockCas';

// Distinctive, so a test can grep every answer and log line for them.
export const API_KEY = 'key-7f3a9c2e-do-not-leak';
export const API_SECRET = 'secret-b81d4e60-do-not-leak';

export function startCas(options: MockCasOptions = {}): Promise<MockCas> {
  return startMockCas({ apiKey: API_KEY, apiSecret: API_SECRET, ...options });
}

export function credentials(cas: Pick<MockCas, 'url'>) {
  return { casUrl: cas.url, apiKey: API_KEY, apiSecret: API_SECRET };
}

/** A logger that keeps every line, to check what the server would print. */
export function captureLogger() {
  const lines: { level: 'warn' | 'error'; message: string }[] = [];
  return {
    lines,
    warn: (message: string) => void lines.push({ level: 'warn', message }),
    error: (message: string) => void lines.push({ level: 'error', message }),
  };
}

export function tokenRequest(room?: string, init?: RequestInit): Request {
  const query = room === undefined ? '' : `?room=${encodeURIComponent(room)}`;
  return new Request(`http://app.test/api/cas-token${query}`, init);
}

/** The JWT payload, read without the library under test. */
export function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * Resolves once the mock CAS has received `count` requests. Polls on setImmediate, which the
 * tests never fake, so it moves no fake clock (vi.waitFor would).
 */
export async function untilCasCalls(cas: MockCas, count: number): Promise<void> {
  for (let turn = 0; cas.calls < count; turn += 1) {
    if (turn > 10_000) throw new Error(`the mock CAS got ${cas.calls} requests, not ${count}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export interface TestServer {
  readonly url: string;
  /** How many requests reached it. */
  readonly calls: number;
  close(): Promise<void>;
}

/**
 * A plain HTTP server on 127.0.0.1 answering with `listener`, for the CAS behaviours the mock CAS
 * has no mode for (a huge body, a Retry-After, a given token).
 */
export async function startHttpServer(listener: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  let calls = 0;
  const server = createServer((req, res) => {
    calls += 1;
    listener(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get calls() {
      return calls;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** A JWT with the given claims (not signed for real: the proxy never verifies CAS's signature). */
export function jwtWith(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ typ: 'JWT', alg: 'HS256' })}.${part(claims)}.c2lnbmF0dXJl`;
}

export interface ManualCas extends TestServer {
  /** Requests waiting for an answer. */
  readonly waiting: number;
  /** Tokens handed out so far, oldest first. */
  readonly tokens: readonly string[];
  /** Answers the oldest `count` waiting requests with a fresh token (iat now, exp now + lifetime). */
  answer(count?: number): void;
  /** Answers the oldest `count` waiting requests with `status` and `headers`. */
  fail(status: number, headers?: Record<string, string>, count?: number): void;
  setLifetime(lifetimeMs: number | undefined): void;
}

/**
 * A CAS on 127.0.0.1 that answers only when the test says so, so a test under fake timers
 * decides when CAS is slow, when it answers and with what. Tokens carry `exp` unless the
 * lifetime is set to undefined.
 */
export async function startManualCas(options: { lifetimeMs?: number } = {}): Promise<ManualCas> {
  const waiting: ServerResponse[] = [];
  const tokens: string[] = [];
  let lifetimeMs: number | undefined = 'lifetimeMs' in options ? options.lifetimeMs : 3_600_000;
  const server = await startHttpServer((_req, res) => void waiting.push(res));
  const take = (count: number) => waiting.splice(0, count).filter((res) => !res.destroyed);
  return {
    get url() {
      return server.url;
    },
    get calls() {
      return server.calls;
    },
    get waiting() {
      return waiting.length;
    },
    get tokens() {
      return tokens;
    },
    answer(count = waiting.length) {
      for (const res of take(count)) {
        const now = Date.now();
        const claims: Record<string, unknown> = { rid: `r${tokens.length + 1}`, unct: `u${tokens.length + 1}`, iat: Math.floor(now / 1000) };
        if (lifetimeMs !== undefined) claims.exp = Math.floor((now + lifetimeMs) / 1000);
        const token = jwtWith(claims);
        tokens.push(token);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token }));
      }
    },
    fail(status, headers = {}, count = waiting.length) {
      for (const res of take(count)) {
        res.writeHead(status, headers);
        res.end('{"detail":"failed"}');
      }
    },
    setLifetime(next) {
      lifetimeMs = next;
    },
    close: () => server.close(),
  };
}

/**
 * Resolves once `condition()` holds, yielding real event-loop turns (setImmediate, which the
 * tests never fake) so sockets make progress without moving a fake clock.
 */
export async function until(condition: () => boolean, what = 'the condition'): Promise<void> {
  for (let turn = 0; !condition(); turn += 1) {
    if (turn > 20_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Lets `count` real event-loop turns pass (sockets make progress), moving no fake clock. */
export async function turns(count: number): Promise<void> {
  for (let turn = 0; turn < count; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** Tracks whether a promise has settled, to check a request is still waiting (or not). */
export function track<T>(promise: Promise<T>) {
  const state = { settled: false, promise };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}
