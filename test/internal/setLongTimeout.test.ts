import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMEOUT_MS, setLongTimeout } from '../../src/core/setLongTimeout';

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
