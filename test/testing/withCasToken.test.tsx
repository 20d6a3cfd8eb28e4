import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import { decodeStreamToken, useStreamToken } from 'react-cas-token';
import { casTokenParameters, createMockFetcher, withCasToken } from 'react-cas-token/testing';
import { advance, useFakeClock, useRealClock } from './support';

/** A story's component, as Storybook renders it inside the decorators. */
function Story() {
  const { status, error, token } = useStreamToken();
  return (
    <p data-testid="story" data-token={token ?? ''}>
      {error ? `error ${error.code}` : status}
    </p>
  );
}

const shown = () => screen.getByTestId('story');

beforeEach(() => {
  useFakeClock();
});

afterEach(() => {
  cleanup();
  useRealClock();
});

describe('withCasToken', () => {
  it('renders the story inside a mock provider that hands it a token', async () => {
    const decorate = withCasToken({ room: 'movie-night-42' });

    render(decorate(Story, { parameters: {} }));
    await advance(0);

    expect(screen.getByTestId('story').textContent).toBe('success');
  });

  it('works with no options and no story context', async () => {
    render(withCasToken()(Story));
    await advance(0);

    expect(screen.getByTestId('story').textContent).toBe('success');
  });

  it("lets a story's parameters.casToken override the decorator's options", async () => {
    const fetcher = createMockFetcher();
    const decorate = withCasToken({ room: 'lobby', createFetcher: () => fetcher });

    render(decorate(Story, { parameters: { casToken: { room: 'stage', failures: () => 'network' } } }));
    await advance(0);

    expect(fetcher.calls).toEqual([expect.objectContaining({ room: 'stage' })]);
  });

  it('shows a story in the error state it asks for', async () => {
    const decorate = withCasToken({ room: 'lobby' });

    render(decorate(Story, { parameters: { casToken: { failures: () => 'unauthorized' } } }));
    await advance(0);

    expect(screen.getByTestId('story').textContent).toBe('error unauthorized');
  });

  it("keeps the decorator's lifetimeMs when a story brings its own fetcher", async () => {
    const decorate = withCasToken({ room: 'lobby', lifetimeMs: 30_000 });

    render(decorate(Story, casTokenParametersContext({ createFetcher: () => createMockFetcher({ failures: { 2: 'network' } }) })));
    await advance(0);

    const { issuedAt, expiresAt } = decodeStreamToken(shown().dataset.token!);
    expect(expiresAt - issuedAt!).toBe(30_000);
  });

  it("replaces the decorator's failures as a whole with a story's, key by key", async () => {
    const decorate = withCasToken({ room: 'lobby', failures: { 1: 'network' }, latencyMs: 500 });

    render(decorate(Story, casTokenParametersContext({ failures: () => 'unauthorized' })));
    await advance(499);
    expect(shown().textContent).toBe('pending');
    await advance(1);

    expect(shown().textContent).toBe('error unauthorized');
  });

  it('starts every visit of a story afresh with createFetcher: the first call fails each time', async () => {
    const decorate = withCasToken({ room: 'lobby' });
    const context = casTokenParametersContext({ createFetcher: () => createMockFetcher({ failures: { 1: 'unauthorized' } }) });

    for (let visit = 0; visit < 2; visit++) {
      const view = render(decorate(Story, context));
      await advance(0);
      expect(shown().textContent).toBe('error unauthorized');
      view.unmount();
    }
  });
});

describe('casTokenParameters', () => {
  it('writes parameters.casToken as withCasToken reads it', () => {
    expect(casTokenParameters({ latencyMs: 3_000 })).toEqual({ casToken: { latencyMs: 3_000 } });
  });
});

/** A story context whose parameters come from casTokenParameters, as a story writes them. */
function casTokenParametersContext(options: Parameters<typeof casTokenParameters>[0]) {
  return { parameters: casTokenParameters(options) };
}
