import { describe, expect, it } from 'vitest';
import { CasTokenError } from '../../src/core/CasTokenError';
import { parseRetryAfter } from '../../src/core/parseRetryAfter';
import {
  defaultRetryDelay,
  retryClass,
  retryDelayFor,
  NO_TOKEN_RETRY_MAX_MS,
  RETRY_MAX_MS,
  SLOW_RETRY_BASE_MS,
  SLOW_RETRY_MAX_MS,
} from '../../src/core/retryPolicy';

const DAY = 86_400_000;
const error = (code: CasTokenError['code'], options: { status?: number; retryAfterMs?: number; proxyCode?: string } = {}) =>
  new CasTokenError(code, 'x', options);

describe('retry policy', () => {
  it('always retries what another try can fix', () => {
    expect([error('network'), error('timeout'), error('http', { status: 503 }), error('http', { status: 429 }), error('http', { status: 408 })].map(retryClass)).toEqual(
      ['always', 'always', 'always', 'always', 'always'],
    );
  });

  it('retries an unusable answer a few times, and never a refusal, another 4xx or a wrong setting', () => {
    expect([error('invalid-response'), error('invalid-token')].map(retryClass)).toEqual(['bounded', 'bounded']);
    expect(
      [error('http', { status: 404 }), error('unauthorized', { status: 401 }), error('forbidden', { status: 403 }), error('invalid-config')].map(
        retryClass,
      ),
    ).toEqual(['never', 'never', 'never', 'never']);
  });

  it('doubles the wait up to 30 s while a token is held, with jitter between 75% and 100%', () => {
    const holding = { holding: true };
    expect([1, 2, 3, 4].map((n) => defaultRetryDelay(n, error('network'), () => 1, holding))).toEqual([2_000, 4_000, 8_000, 16_000]);
    expect(defaultRetryDelay(1, error('network'), () => 0, holding)).toBe(1_500);
    expect(defaultRetryDelay(20, error('network'), () => 1, holding)).toBe(RETRY_MAX_MS);
  });

  it('waits no longer than the next check would come, while a token is held', () => {
    expect(defaultRetryDelay(20, error('network'), () => 1, { holding: true, checkIntervalMs: 8_000 })).toBe(8_000);
  });

  it('waits at most 3 s while no token is held: the page shows none', () => {
    expect([1, 2, 3, 10].map((n) => defaultRetryDelay(n, error('network'), () => 1))).toEqual([2_000, NO_TOKEN_RETRY_MAX_MS, NO_TOKEN_RETRY_MAX_MS, NO_TOKEN_RETRY_MAX_MS]);
  });

  it("follows the token proxy's Retry-After (plus up to 25 %) while no token is held, whatever the failure count", () => {
    const storeDown = error('http', { status: 503, retryAfterMs: 2_000, proxyCode: 'store-unavailable' });
    expect(retryDelayFor(30, storeDown, undefined, () => 0)).toBe(2_000);
    expect(retryDelayFor(30, storeDown, undefined, () => 1)).toBe(2_500);
    // Holding a token: no hurry, the backoff (at least Retry-After) applies.
    expect(retryDelayFor(5, storeDown, undefined, () => 1, { holding: true })).toBe(30_000);
    // A Retry-After that is not the proxy's (no error code: a gateway's): never less than the backoff.
    expect(retryDelayFor(1, error('http', { status: 503, retryAfterMs: 500 }), undefined, () => 1)).toBe(2_000);
  });

  it('waits minutes, not seconds, when the proxy says CAS refused its credentials', () => {
    const refused = error('http', { status: 502, proxyCode: 'cas-unauthorized' });
    expect(defaultRetryDelay(1, refused, () => 1)).toBe(SLOW_RETRY_BASE_MS);
    expect(defaultRetryDelay(10, refused, () => 1)).toBe(SLOW_RETRY_MAX_MS);
  });

  it('waits at least as long as Retry-After asks, up to ten minutes', () => {
    const busy = error('http', { status: 429, retryAfterMs: 90_000 });
    expect(retryDelayFor(1, busy, undefined, () => 1)).toBe(90_000);
    const absurd = error('http', { status: 429, retryAfterMs: DAY });
    expect(retryDelayFor(1, absurd, undefined, () => 1)).toBe(600_000);
  });

  it('takes a fixed retryDelay or a function of the failure count and error, still honouring Retry-After', () => {
    expect(retryDelayFor(3, error('network'), 100)).toBe(100);
    expect(retryDelayFor(3, error('timeout'), (count, failed) => (failed.code === 'timeout' ? count * 10 : 0))).toBe(30);
    expect(retryDelayFor(1, error('http', { status: 503, retryAfterMs: 5_000 }), 100)).toBe(5_000);
  });

  it('falls back to the default for a retryDelay that is not a number of ms', () => {
    expect(retryDelayFor(1, error('network'), () => Number.NaN, () => 1)).toBe(2_000);
    expect(retryDelayFor(1, error('network'), -5, () => 1)).toBe(2_000);
  });

  it('reads Retry-After as seconds or as a date', () => {
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter(new Date(30_000).toUTCString(), 0)).toBe(30_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });
});
