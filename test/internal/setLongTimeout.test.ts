import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMEOUT_MS, setLongTimeout } from '../../src/core/setLongTimeout';
import { isRetryable, retryDelay, RETRY_MAX_MS } from '../../src/core/retryPolicy';
import { parseRetryAfter } from '../../src/core/parseRetryAfter';
import { CasTokenError } from '../../src/core/CasTokenError';

const DAY = 86_400_000;

describe('setLongTimeout', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('waits past setTimeout’s limit instead of firing at once', async () => {
    const callback = vi.fn();
    setLongTimeout(callback, 60 * DAY);
    await vi.advanceTimersByTimeAsync(MAX_TIMEOUT_MS + 1);
    expect(callback).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(60 * DAY - MAX_TIMEOUT_MS - 2);
    expect(callback).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(callback).toHaveBeenCalledTimes(1);
  });

  it('follows a clock that jumps while it waits', async () => {
    const callback = vi.fn();
    setLongTimeout(callback, 40 * DAY);
    vi.setSystemTime(39 * DAY);
    await vi.advanceTimersByTimeAsync(MAX_TIMEOUT_MS);
    expect(callback).toHaveBeenCalledTimes(1);
  });

  it('can be cancelled, also between hops', async () => {
    const callback = vi.fn();
    const cancel = setLongTimeout(callback, 40 * DAY);
    await vi.advanceTimersByTimeAsync(MAX_TIMEOUT_MS + 1);
    cancel();
    await vi.advanceTimersByTimeAsync(40 * DAY);
    expect(callback).not.toHaveBeenCalled();
  });
});

describe('retry policy', () => {
  const error = (code: CasTokenError['code'], status?: number) => new CasTokenError(code, 'x', status === undefined ? {} : { status });

  it('retries what another try can fix, and nothing else', () => {
    expect([error('network'), error('timeout'), error('http', 503), error('http', 429)].map(isRetryable)).toEqual([true, true, true, true]);
    expect([error('http', 404), error('unauthorized', 401), error('invalid-response'), error('invalid-token')].map(isRetryable)).toEqual([false, false, false, false]);
  });

  it('doubles the wait up to the cap, with jitter between 75% and 100%', () => {
    expect([1, 2, 3, 4].map((n) => retryDelay(n, error('network'), () => 1))).toEqual([2_000, 4_000, 8_000, 16_000]);
    expect(retryDelay(1, error('network'), () => 0)).toBe(1_500);
    expect(retryDelay(20, error('network'), () => 1)).toBe(RETRY_MAX_MS);
  });

  it('waits at least as long as Retry-After asks, up to ten minutes', () => {
    const busy = new CasTokenError('http', 'x', { status: 429, retryAfterMs: 90_000 });
    expect(retryDelay(1, busy, () => 1)).toBe(90_000);
    const absurd = new CasTokenError('http', 'x', { status: 429, retryAfterMs: DAY });
    expect(retryDelay(1, absurd, () => 1)).toBe(600_000);
  });

  it('reads Retry-After as seconds or as a date', () => {
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter(new Date(30_000).toUTCString(), 0)).toBe(30_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });
});
