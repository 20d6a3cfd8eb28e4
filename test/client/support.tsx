import { StrictMode, type ReactNode } from 'react';
import { act, render } from '@testing-library/react';
import { notifyManager, QueryClient } from '@tanstack/react-query';
import { vi } from 'vitest';
import { CasTokenProvider, useStreamToken, type CasTokenProviderProps, type StreamTokenState } from 'react-cas-token';

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** A fake clock on a whole second, so test tokens' `iat`/`exp` are exact. */
export function useFakeClock(start = Date.UTC(2026, 0, 1, 12)) {
  vi.useFakeTimers({ now: start });
}

// react-query batches its notifications in a setTimeout(0), which fake timers started inside
// a tick run 1 ms late: render on the microtask instead, so time in tests stays exact.
notifyManager.setScheduler(queueMicrotask);

/** Moves fake time on, letting React render what the timers caused. */
export async function advance(ms: number) {
  await act(() => vi.advanceTimersByTimeAsync(ms));
}

export interface Snapshot {
  status: StreamTokenState['status'];
  token: string | undefined;
  error: StreamTokenState['error'];
}

export interface RenderOptions {
  consumers?: number;
  strict?: boolean;
  queryClient?: QueryClient;
}

/**
 * Renders a provider with `consumers` components reading `useStreamToken()`, and records every
 * render of the first one.
 */
export function renderWithProvider(props: Omit<CasTokenProviderProps, 'children'>, options: RenderOptions = {}) {
  const renders: Snapshot[] = [];
  let latest: StreamTokenState | undefined;
  function Consumer({ record }: { record: boolean }) {
    const state = useStreamToken();
    if (record) {
      latest = state;
      renders.push({ status: state.status, token: state.token, error: state.error });
    }
    return <span data-testid="token">{state.token ?? ''}</span>;
  }
  const queryClient = options.queryClient ?? new QueryClient();
  const tree = (p: Omit<CasTokenProviderProps, 'children'>): ReactNode => {
    const inner = (
      <CasTokenProvider queryClient={queryClient} {...p}>
        {Array.from({ length: options.consumers ?? 1 }, (_, i) => (
          <Consumer key={i} record={i === 0} />
        ))}
      </CasTokenProvider>
    );
    return options.strict ? <StrictMode>{inner}</StrictMode> : inner;
  };
  const view = render(tree(props));
  return {
    queryClient,
    renders,
    /** The first consumer's state as of its last render. */
    get current(): StreamTokenState {
      if (!latest) throw new Error('not rendered yet');
      return latest;
    },
    rerender: (next: Omit<CasTokenProviderProps, 'children'>) => view.rerender(tree(next)),
    unmount: () => view.unmount(),
  };
}
