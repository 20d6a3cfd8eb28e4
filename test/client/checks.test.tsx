/*
 * Checks: a proxy that says `checkIn` is asked again that often with the token held and its seal,
 * so a proxy whose store lost the room puts the party's token back, and a participant holding
 * another token than the room's switches to the room's. A check that confirms the token changes
 * nothing a component sees.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StreamTokenFetcher } from 'react-cas-token';
import { createMockFetcher, createTestToken } from 'react-cas-token/testing';
import { advance, HOUR, MINUTE, SECOND, renderWithProvider, useFakeClock } from './support';

beforeEach(() => useFakeClock());
afterEach(() => vi.useRealTimers());

describe('checks', () => {
  it('asks again every checkIn (75-100 % of it), sending the held token back, and re-renders nothing when the proxy confirms it', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: HOUR, sameTokenPerRoom: true, checkInMs: 8 * SECOND });
    const view = renderWithProvider({ fetcher, room: 'lobby' });
    await advance(0);
    const rendersWithToken = view.renders.length;
    const token = view.current.token;

    await advance(MINUTE);

    const checks = fetcher.calls.slice(1);
    // 60 s at one check per 6-8 s.
    expect(checks.length).toBeGreaterThanOrEqual(7);
    expect(checks.length).toBeLessThanOrEqual(10);
    const gaps = fetcher.calls.slice(1).map((call, i) => call.startedAt - fetcher.calls[i]!.startedAt);
    expect(new Set(gaps).size).toBe(1); // one provider keeps one pace
    expect(gaps[0]).toBeGreaterThanOrEqual(6 * SECOND);
    expect(gaps[0]).toBeLessThanOrEqual(8 * SECOND);
    expect(checks.every((call) => call.held === token && call.token === token)).toBe(true);
    expect(fetcher.calls[0]!.held).toBeUndefined();
    expect(view.renders.length).toBe(rendersWithToken);
    expect(view.current.token).toBe(token);
  });

  it('calls onToken once per token, not for each check that confirms it', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: HOUR, sameTokenPerRoom: true, checkInMs: 8 * SECOND });
    const onToken = vi.fn();
    renderWithProvider({ fetcher, room: 'lobby', onToken });

    await advance(MINUTE);

    expect(fetcher.calls.length).toBeGreaterThanOrEqual(8);
    expect(onToken.mock.calls.map(([info]) => info.token)).toEqual([fetcher.calls[0]!.token]);
  });

  it("switches to the room's token when a check answers another one", async () => {
    const first = createTestToken({ lifetimeMs: HOUR });
    const second = createTestToken({ lifetimeMs: HOUR, room: 'lobby' });
    const onToken = vi.fn();
    const fetcher = vi
      .fn<StreamTokenFetcher>()
      .mockResolvedValueOnce({ token: first, expiresIn: HOUR, refreshIn: 55 * MINUTE, checkIn: 8 * SECOND, seal: 'v1.1.1.first' })
      .mockResolvedValue({ token: second, expiresIn: HOUR, refreshIn: 55 * MINUTE, checkIn: 8 * SECOND, seal: 'v1.2.2.second' });
    const view = renderWithProvider({ fetcher, room: 'lobby', onToken });
    await advance(0);
    expect(view.current.token).toBe(first);

    await advance(8 * SECOND);

    expect(view.current.token).toBe(second);
    expect(onToken.mock.calls.map(([info]) => info.token)).toEqual([first, second]);
    expect(fetcher.mock.calls[1]![0].held).toEqual({ token: first, seal: 'v1.1.1.first' });
  });

  it('keeps the token shown while checks fail, and tries again no later than the next check would come', async () => {
    let down = false;
    const fetcher = createMockFetcher({ lifetimeMs: HOUR, sameTokenPerRoom: true, checkInMs: 8 * SECOND, failures: () => (down ? 'network' : undefined) });
    const view = renderWithProvider({ fetcher, room: 'lobby' });
    await advance(0);
    const token = view.current.token;
    down = true;

    await advance(2 * MINUTE);

    expect(view.current.token).toBe(token);
    expect(view.current.status).toBe('success');
    expect(view.current.error?.code).toBe('network');
    const failed = fetcher.calls.filter((call) => call.status === 'error');
    const gaps = failed.slice(1).map((call, i) => call.startedAt - failed[i]!.startedAt);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(8 * SECOND);

    down = false;
    await advance(8 * SECOND);
    expect(view.current.error).toBeNull();
    expect(view.current.token).toBe(token);
  });

  it('checks at most once a second, whatever checkIn a proxy says', async () => {
    const token = createTestToken({ lifetimeMs: HOUR });
    const fetcher = vi.fn<StreamTokenFetcher>(async () => ({ token, expiresIn: HOUR, checkIn: 0, seal: 'v1.1.1.x' }));
    renderWithProvider({ fetcher });
    await advance(10 * SECOND);
    expect(fetcher.mock.calls.length).toBeLessThanOrEqual(11);
    expect(fetcher.mock.calls.length).toBeGreaterThanOrEqual(8);
  });

  it('never checks when the proxy does not ask to: one request per token lifetime', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: HOUR, sameTokenPerRoom: true });
    renderWithProvider({ fetcher, room: 'lobby' });
    await advance(50 * MINUTE);
    expect(fetcher.calls).toHaveLength(1);
  });

  it('refuses a seal that is not a short opaque string, as an unusable answer', async () => {
    const token = createTestToken({ lifetimeMs: HOUR });
    const fetcher = vi.fn<StreamTokenFetcher>(async () => ({ token, checkIn: 8_000, seal: 'x'.repeat(300) }));
    const view = renderWithProvider({ fetcher });
    await advance(0);
    expect(view.current.error?.code).toBe('invalid-response');
    expect(view.current.error?.message).toMatch(/seal/);
  });
});
