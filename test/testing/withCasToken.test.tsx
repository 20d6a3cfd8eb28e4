import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import { useStreamToken } from 'react-cas-token';
import { createMockFetcher, withCasToken } from 'react-cas-token/testing';
import { advance, useFakeClock, useRealClock } from './support';

/** A story's component, as Storybook renders it inside the decorators. */
function Story() {
  const { status, error } = useStreamToken();
  return <p data-testid="story">{error ? `error ${error.code}` : status}</p>;
}

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
});
