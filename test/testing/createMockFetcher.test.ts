import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CasTokenError, decodeStreamToken } from 'react-cas-token';
import { createMockFetcher } from 'react-cas-token/testing';
import { processWarningsDuring } from './support';
import { setTimeout as realDelay } from 'node:timers/promises';

const START = Date.UTC(2030, 0, 1);

function ask(fetcher: ReturnType<typeof createMockFetcher>, room?: string, signal = new AbortController().signal) {
  return fetcher({ signal, room });
}

beforeEach(() => {
  vi.useFakeTimers({ now: START });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('createMockFetcher', () => {
  it('answers a fresh test token with how long it has left', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: 10_000 });

    const answer = await ask(fetcher, 'movie-night-42');

    expect(answer).toEqual({ token: expect.any(String), expiresIn: 10_000 });
    const { token } = answer as { token: string };
    expect(decodeStreamToken(token).claims).toMatchObject({ rid: 'movie-night-42', iat: START / 1000, exp: START / 1000 + 10 });
  });

  it('records each call with its room, times and outcome', async () => {
    const fetcher = createMockFetcher({ latencyMs: 200 });

    const first = ask(fetcher, 'a');
    expect(fetcher.calls).toEqual([expect.objectContaining({ number: 1, room: 'a', startedAt: START, status: 'pending', settledAt: undefined })]);

    await vi.advanceTimersByTimeAsync(200);
    const { token } = (await first) as { token: string };
    void ask(fetcher);

    expect(fetcher.calls).toEqual([
      expect.objectContaining({ number: 1, room: 'a', startedAt: START, settledAt: START + 200, status: 'success', token, aborted: false }),
      expect.objectContaining({ number: 2, room: undefined, startedAt: START + 200, settledAt: undefined, status: 'pending' }),
    ]);
  });

  it("answers with no latency where fake timers fake queueMicrotask too (Jest's do)", async () => {
    vi.useRealTimers();
    vi.useFakeTimers({ now: START, toFake: ['setTimeout', 'clearTimeout', 'Date', 'queueMicrotask'] });

    await expect(ask(createMockFetcher())).resolves.toHaveProperty('token');
  });

  it('takes latencyMs on the timer clock, so fake timers decide when it answers', async () => {
    const fetcher = createMockFetcher({ latencyMs: 1_000 });
    const settled = vi.fn();

    void ask(fetcher).then(settled);
    await vi.advanceTimersByTimeAsync(999);
    expect(settled).not.toHaveBeenCalled();

    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toHaveBeenCalledOnce();
  });

  it('mints a new token on every call by default', async () => {
    const fetcher = createMockFetcher();

    const first = await ask(fetcher, 'a');
    const second = await ask(fetcher, 'a');

    expect(first).not.toEqual(second);
  });

  it('with sameTokenPerRoom, answers a room the same token until half its lifetime has passed, saying when it rotates', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: 10_000, sameTokenPerRoom: true });

    const first = (await ask(fetcher, 'a')) as { token: string };
    const other = (await ask(fetcher, 'b')) as { token: string };
    await vi.advanceTimersByTimeAsync(4_000);
    const again = await ask(fetcher, 'a');
    await vi.advanceTimersByTimeAsync(1_000);
    const renewed = (await ask(fetcher, 'a')) as { token: string };

    expect(other.token).not.toBe(first.token);
    expect(again).toEqual({ token: first.token, expiresIn: 6_000, refreshIn: 1_000 });
    expect(renewed.token).not.toBe(first.token);
  });

  it('fails the chosen calls with the chosen CasTokenError codes', async () => {
    const fetcher = createMockFetcher({ failures: { 2: 'network', 3: 'unauthorized', 4: 'forbidden' } });

    await expect(ask(fetcher)).resolves.toHaveProperty('token');
    await expect(ask(fetcher)).rejects.toMatchObject({ name: 'CasTokenError', code: 'network' });
    await expect(ask(fetcher)).rejects.toMatchObject({ code: 'unauthorized', status: 401, message: expect.stringContaining('signed in') });
    await expect(ask(fetcher)).rejects.toMatchObject({ code: 'forbidden', status: 403, message: expect.not.stringContaining('signed in') });
    await expect(ask(fetcher)).resolves.toHaveProperty('token');
    expect(fetcher.calls.map((call) => call.status)).toEqual(['success', 'error', 'error', 'error', 'success']);
    expect(fetcher.calls[1]!.error).toBeInstanceOf(CasTokenError);
  });

  it('fails every call a failures function picks, with an error it may build itself', async () => {
    const refused = new CasTokenError('http', 'Too many requests', { status: 429, retryAfterMs: 30_000 });
    const fetcher = createMockFetcher({ failures: (call) => (call.room === 'closed' ? refused : undefined) });

    await expect(ask(fetcher, 'closed')).rejects.toBe(refused);
    await expect(ask(fetcher, 'open')).resolves.toHaveProperty('token');
  });

  it('fails after the latency, like a slow proxy', async () => {
    const fetcher = createMockFetcher({ latencyMs: 500, failures: () => 'timeout' });
    const failed = vi.fn();

    ask(fetcher).catch(failed);
    await vi.advanceTimersByTimeAsync(499);
    expect(failed).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);

    expect(failed).toHaveBeenCalledWith(expect.objectContaining({ code: 'timeout' }));
  });

  it('failNext fails the next calls ahead of the failures option, then recovers', async () => {
    const fetcher = createMockFetcher();

    fetcher.failNext('http', 2);

    await expect(ask(fetcher)).rejects.toMatchObject({ code: 'http', status: 503 });
    await expect(ask(fetcher)).rejects.toMatchObject({ code: 'http' });
    await expect(ask(fetcher)).resolves.toHaveProperty('token');
  });

  it('rejects with the abort reason and records the abort when the signal fires in flight', async () => {
    const fetcher = createMockFetcher({ latencyMs: 1_000 });
    const controller = new AbortController();

    const pending = ask(fetcher, 'a', controller.signal);
    await vi.advanceTimersByTimeAsync(300);
    controller.abort();

    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(fetcher.calls[0]).toMatchObject({ status: 'aborted', aborted: true, settledAt: START + 300, token: undefined });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects at once for a signal that had already fired', async () => {
    const fetcher = createMockFetcher();
    const controller = new AbortController();
    controller.abort(new Error('gone'));

    await expect(ask(fetcher, 'a', controller.signal)).rejects.toThrow('gone');
    expect(fetcher.calls[0]).toMatchObject({ status: 'aborted', aborted: true });
  });

  it('mints tokens without exp, and answers no expiresIn, for an infinite lifetime', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: Number.POSITIVE_INFINITY });

    const answer = await ask(fetcher);

    expect(answer).toEqual({ token: expect.any(String) });
  });

  it('reset forgets the calls and queued failures', async () => {
    const fetcher = createMockFetcher();
    fetcher.failNext('network');
    await ask(fetcher).catch(() => {});
    fetcher.failNext('network');

    fetcher.reset();

    expect(fetcher.calls).toEqual([]);
    await expect(ask(fetcher)).resolves.toHaveProperty('token');
  });

  it('never answers with latencyMs: Infinity, and sets no timer, until aborted', async () => {
    const fetcher = createMockFetcher({ latencyMs: Number.POSITIVE_INFINITY });
    const controller = new AbortController();
    const settled = vi.fn();

    ask(fetcher, 'a', controller.signal).then(settled, settled);
    await vi.advanceTimersByTimeAsync(365 * 24 * 3_600_000);
    expect(settled).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);

    expect(settled).toHaveBeenCalledWith(expect.objectContaining({ name: 'AbortError' }));
  });

  it('on real timers, neither answers at once nor warns TimeoutOverflowWarning for huge or infinite latencies', async () => {
    vi.useRealTimers();
    const settled = vi.fn();
    const controller = new AbortController();

    const warnings = await processWarningsDuring(async () => {
      for (const latencyMs of [Number.POSITIVE_INFINITY, 30 * 24 * 3_600_000]) {
        ask(createMockFetcher({ latencyMs }), 'a', controller.signal).then(settled, () => {});
      }
      await realDelay(30);
    });
    controller.abort();

    expect(settled).not.toHaveBeenCalled();
    expect(warnings).toEqual([]);
  });

  it("answers after a latency longer than setTimeout's limit, on time", async () => {
    const latencyMs = 30 * 24 * 3_600_000; // 30 days, past 2^31 - 1 ms
    const fetcher = createMockFetcher({ latencyMs });
    const settled = vi.fn();

    void ask(fetcher).then(settled);
    await vi.advanceTimersByTimeAsync(latencyMs - 1);
    expect(settled).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);

    expect(settled).toHaveBeenCalledOnce();
  });

  it('gives the first token of each room only firstTokenExpiresInMs left, issued that much earlier', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: 60_000, firstTokenExpiresInMs: 4_000 });

    const first = (await ask(fetcher, 'a')) as { token: string; expiresIn: number };
    const second = (await ask(fetcher, 'a')) as { expiresIn: number };
    const otherRoom = (await ask(fetcher, 'b')) as { expiresIn: number };

    expect(first.expiresIn).toBe(4_000);
    expect(decodeStreamToken(first.token, START)).toMatchObject({ issuedAt: START - 56_000, expiresAt: START + 4_000 });
    expect(second.expiresIn).toBe(60_000);
    expect(otherRoom.expiresIn).toBe(4_000);
  });

  it('refuses options a test could not mean, with a RangeError naming them', () => {
    expect(() => createMockFetcher({ latencyMs: Number.NaN })).toThrow(/createMockFetcher: latencyMs must be/);
    expect(() => createMockFetcher({ lifetimeMs: -1 })).toThrow(/createMockFetcher: lifetimeMs must be/);
    expect(() => createMockFetcher({ firstTokenExpiresInMs: 5_000, lifetimeMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => createMockFetcher().failNext('network', 1.5)).toThrow(RangeError);
  });
});
