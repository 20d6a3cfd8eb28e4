import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMockCas, type MockCas, type MockCasOptions } from '../../example/server/mockCas';

// Distinctive, so a test can grep every answer and log line for them.
export const API_KEY = 'key-7f3a9c2e-do-not-leak';
export const API_SECRET = 'secret-b81d4e60-do-not-leak';

export function startCas(options: MockCasOptions = {}): Promise<MockCas> {
  return startMockCas({ apiKey: API_KEY, apiSecret: API_SECRET, ...options });
}

export function credentials(cas: MockCas) {
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
