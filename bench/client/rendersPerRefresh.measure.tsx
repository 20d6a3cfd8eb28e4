import { useEffect, useState, type ReactNode } from 'react';
import { expect, it } from 'vitest';
import { CasTokenProvider, useStreamToken, type StreamTokenFetcher } from 'react-cas-token';
import { report } from '../report';
import { advance, mount } from './mount';
import { countingFetcher, LIFETIME_MS, REFRESH_LEAD_MS } from './tokenSource';

const LIFETIMES = 10;

/**
 * The hook people write first, doing the same job: fetch on mount, keep the token and the last
 * error in state, fetch again `refreshLeadMs` before expiry, retry after a failure.
 */
function usePlainToken(fetcher: StreamTokenFetcher): { token: string | undefined; error: unknown } {
  const [token, setToken] = useState<string>();
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const result = await fetcher({ signal: controller.signal });
        const next = typeof result === 'string' ? { token: result, expiresIn: LIFETIME_MS } : result;
        setToken(next.token);
        setError(null);
        timer = setTimeout(load, (next.expiresIn ?? LIFETIME_MS) - REFRESH_LEAD_MS);
      } catch (caught) {
        if (controller.signal.aborted) return;
        setError(caught);
        timer = setTimeout(load, 5_000);
      }
    };
    void load();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [fetcher]);
  return { token, error };
}

interface Run {
  renders: number;
  refreshes: number;
}

/** Mounts one consumer, waits for its first token, then counts its renders over 10 lifetimes. */
async function measure(render: (fetcher: StreamTokenFetcher, onRender: () => void) => ReactNode): Promise<Run> {
  const { fetcher, requests } = countingFetcher();
  let renders = 0;
  const view = await mount(render(fetcher, () => (renders += 1)));
  await advance(REFRESH_LEAD_MS);
  const rendersBefore = renders;
  const requestsBefore = requests();
  await advance(LIFETIMES * LIFETIME_MS);
  await view.unmount();
  return { renders: renders - rendersBefore, refreshes: requests() - requestsBefore };
}

function perRefresh(run: Run): string {
  return (run.renders / run.refreshes).toFixed(2);
}

it('renders one consumer once per refresh, against a plain useEffect + useState + setTimeout hook', async () => {
  function TokenOnly({ onRender }: { onRender: () => void }) {
    const { token } = useStreamToken();
    onRender();
    return <span>{token}</span>;
  }
  function EveryField({ onRender }: { onRender: () => void }) {
    const { token, status, error, isRefreshing, info } = useStreamToken();
    onRender();
    return <span>{[token, status, error?.code, isRefreshing, info?.expiresAt].join(' ')}</span>;
  }
  function Plain({ fetcher, onRender }: { fetcher: StreamTokenFetcher; onRender: () => void }) {
    const { token, error } = usePlainToken(fetcher);
    onRender();
    return <span>{[token, String(error)].join(' ')}</span>;
  }

  const tokenOnly = await measure((fetcher, onRender) => (
    <CasTokenProvider fetcher={fetcher} refreshLeadMs={REFRESH_LEAD_MS}>
      <TokenOnly onRender={onRender} />
    </CasTokenProvider>
  ));
  const everyField = await measure((fetcher, onRender) => (
    <CasTokenProvider fetcher={fetcher} refreshLeadMs={REFRESH_LEAD_MS}>
      <EveryField onRender={onRender} />
    </CasTokenProvider>
  ));
  const plain = await measure((fetcher, onRender) => <Plain fetcher={fetcher} onRender={onRender} />);

  const plainFigure = `plain useEffect+useState+setTimeout hook, same run: ${perRefresh(plain)} (${plain.renders} renders, ${plain.refreshes} refreshes)`;
  report({
    section: 'renders',
    label: 'React renders of one consumer per refresh, reading { token }',
    value: perRefresh(tokenOnly),
    against: `goal 1; ${plainFigure}; measured ${tokenOnly.renders} renders over ${tokenOnly.refreshes} refreshes`,
    ok: tokenOnly.renders <= tokenOnly.refreshes,
  });
  report({
    section: 'renders',
    label: 'React renders of one consumer per refresh, reading every field (token, info, status, error, isRefreshing)',
    value: perRefresh(everyField),
    against: `2 expected: isRefreshing goes true, then the new token arrives; ${plainFigure}; measured ${everyField.renders} renders over ${everyField.refreshes} refreshes`,
  });
  expect(plain.renders).toBe(plain.refreshes);
});
