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
