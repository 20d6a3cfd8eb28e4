import { setTimeout as realDelay } from 'node:timers/promises';
import { act, render, screen } from '@testing-library/react';
import { notifyManager } from '@tanstack/react-query';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { decodeStreamToken, useStreamToken } from 'react-cas-token';
import { MockCasTokenProvider, setupFakeTimers, type FakeClock, type FakeTimerFunctions } from 'react-cas-token/testing';

const START = Date.UTC(2030, 0, 1);

function Player() {
  const { token, status } = useStreamToken();
  return (
    <p data-testid="player" data-token={token ?? ''}>
      {token ? 'Joined' : status}
    </p>
  );
}

const shown = () => screen.getByTestId('player');

let clock: FakeClock | undefined;
afterEach(() => {
  clock?.restore();
  clock = undefined;
  vi.useRealTimers();
});

/**
 * The shape of Jest's `jest` object, over Vitest's clock: it takes Jest's config names
 * (`advanceTimers`, not `shouldAdvanceTime`) and records them, so the test proves what a Jest
 * user's `setupFakeTimers(jest)` would be asked to do.
 */
function jestLike() {
  const configs: unknown[] = [];
  const jest = {
    useFakeTimers(config?: { now?: number | Date; advanceTimers?: boolean | number; legacyFakeTimers?: boolean }) {
      configs.push(config);
      vi.useFakeTimers({ now: config?.now, shouldAdvanceTime: config?.advanceTimers === true, toFake: [...JEST_FAKES] });
      return jest;
    },
    useRealTimers() {
      vi.useRealTimers();
      return jest;
    },
    advanceTimersByTime: (ms: number) => void vi.advanceTimersByTime(ms),
    advanceTimersByTimeAsync: async (ms: number) => void (await vi.advanceTimersByTimeAsync(ms)),
  };
  return { jest, configs };
}
// Jest's modern timers fake queueMicrotask too (Vitest's do not by default).
const JEST_FAKES = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'Date', 'queueMicrotask'] as const;

describe('setupFakeTimers', () => {
  it('with vi, starts a fake clock at `now` and advance(ms) renders what the timers did', async () => {
    clock = setupFakeTimers(vi, { now: START });
    render(
      <MockCasTokenProvider room="r" lifetimeMs={10_000} latencyMs={200}>
        <Player />
      </MockCasTokenProvider>,
    );

    await clock.advance(199);
    expect(shown().textContent).toBe('pending');
    await clock.advance(1);
    expect(shown().textContent).toBe('Joined');
    const first = shown().dataset.token!;
    expect(decodeStreamToken(first).issuedAt).toBe(START + 200);

    // Asked again at half the time left (START + 5_100), answered 200 ms later, and shown on
    // that very millisecond: react-query renders on a microtask, not on a held-back timer.
    await clock.advance(5_099);
    expect(shown().dataset.token).toBe(first);
    await clock.advance(1);
    expect(decodeStreamToken(shown().dataset.token!).issuedAt).toBe(START + 5_300);
  });

  it('starts on a whole second by default, so test tokens carry whole iat and exp', () => {
    clock = setupFakeTimers(vi);

    expect(Date.now() % 1_000).toBe(0);
    expect(vi.isFakeTimers()).toBe(true);
  });

  it('makes react-query notify on a microtask while installed, and restore() puts its setTimeout back', async () => {
    clock = setupFakeTimers(vi, { now: START });
    const notified = vi.fn();

    notifyManager.schedule(notified);
    await Promise.resolve();
    await Promise.resolve();
    expect(notified).toHaveBeenCalledOnce();

    clock.restore();
    expect(vi.isFakeTimers()).toBe(false);
    vi.useFakeTimers();
    notifyManager.schedule(notified);
    await Promise.resolve();
    await Promise.resolve();
    expect(notified).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(0);
    expect(notified).toHaveBeenCalledTimes(2);
  });

  it('wraps advance in act: no act warning, with React\u2019s act or one it is given, whatever the environment says', async () => {
    const scope = globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean };
    const previous = scope.IS_REACT_ACT_ENVIRONMENT;
    onTestFinished(() => {
      scope.IS_REACT_ACT_ENVIRONMENT = previous;
    });
    const errors = vi.spyOn(console, 'error');
    // true: as Testing Library sets it for the whole run where the runner has globals (Jest).
    for (const [environment, options] of [
      [true, {}],
      [true, { act }],
      [undefined, {}],
    ] as const) {
      scope.IS_REACT_ACT_ENVIRONMENT = environment;
      clock = setupFakeTimers(vi, { now: START, ...options });
      const view = render(
        <MockCasTokenProvider room="r" latencyMs={100}>
          <Player />
        </MockCasTokenProvider>,
      );
      await clock.advance(100);
      expect(shown().textContent).toBe('Joined');
      view.unmount();
      clock.restore();
    }

    expect(errors).not.toHaveBeenCalled();
  });

  it("with a Jest-shaped object, installs Jest's fake timers with Jest's option names, and works under them", async () => {
    const { jest, configs } = jestLike();
    clock = setupFakeTimers(jest, { now: START, shouldAdvanceTime: true });
    expect(configs).toEqual([expect.objectContaining({ now: START, advanceTimers: true })]);
    render(
      <MockCasTokenProvider room="r" lifetimeMs={10_000} latencyMs={200}>
        <Player />
      </MockCasTokenProvider>,
    );

    await clock.advance(200);
    expect(shown().textContent).toBe('Joined');
    expect(decodeStreamToken(shown().dataset.token!).issuedAt).toBe(START + 200);

    clock.restore();
    clock = undefined;
    expect(vi.isFakeTimers()).toBe(false);
  });

  it('with only advanceTimersByTimeAsync, leaves installing and removing fake timers to the test', async () => {
    vi.useFakeTimers({ now: START });
    const timers: FakeTimerFunctions = { advanceTimersByTimeAsync: (ms) => vi.advanceTimersByTimeAsync(ms) };
    clock = setupFakeTimers(timers, { now: 0 });
    render(
      <MockCasTokenProvider room="r" latencyMs={50}>
        <Player />
      </MockCasTokenProvider>,
    );

    await clock.advance(50);
    clock.restore();

    expect(shown().textContent).toBe('Joined');
    expect(Date.now()).toBe(START + 50);
    expect(vi.isFakeTimers()).toBe(true);
  });

  it('lets findBy* wait on fake time with shouldAdvanceTime, as docs/testing.md says', async () => {
    clock = setupFakeTimers(vi, { now: START, shouldAdvanceTime: true });
    render(
      <MockCasTokenProvider room="r" latencyMs={300}>
        <Player />
      </MockCasTokenProvider>,
    );

    expect(await screen.findByText('Joined')).toBeTruthy();
  });

  it('leaves findBy* waiting under Vitest without shouldAdvanceTime, as docs/testing.md says', async () => {
    clock = setupFakeTimers(vi, { now: START });
    render(
      <MockCasTokenProvider room="r" latencyMs={300}>
        <Player />
      </MockCasTokenProvider>,
    );
    const found = vi.fn();

    screen.findByText('Joined', {}, { timeout: 200 }).then(found, found);
    await act(() => realDelay(600));

    expect(found).not.toHaveBeenCalled();
    await clock.advance(300);
    expect(found).toHaveBeenCalledOnce();
  });

  it('refuses what cannot drive a clock, and a time it cannot move by, with typed errors', async () => {
    expect(() => setupFakeTimers({} as FakeTimerFunctions)).toThrow(TypeError);
    expect(() => setupFakeTimers(undefined as unknown as FakeTimerFunctions)).toThrow(/`vi` \(Vitest\), `jest`/);
    clock = setupFakeTimers(vi);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
    await expect(clock.advance(Number.NaN)).rejects.toThrow(/finite number of ms/);
  });
});
