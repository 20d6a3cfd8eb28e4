// @vitest-environment node
import { describe, expect, it, vi } from 'vitest';
import { renderToString } from 'react-dom/server';
import { CasTokenProvider, useStreamToken, type StreamTokenFetcher } from 'react-cas-token';

function Room() {
  const { status, token } = useStreamToken();
  return <p>{status}:{token ?? 'none'}</p>;
}

describe('server rendering', () => {
  it('renders the pending state without fetching or touching window', () => {
    expect(typeof window).toBe('undefined');
    const fetcher = vi.fn<StreamTokenFetcher>();
    const html = renderToString(
      <CasTokenProvider fetcher={fetcher} room="movie-night-42">
        <Room />
      </CasTokenProvider>,
    );
    expect(html).toBe('<p>pending<!-- -->:<!-- -->none</p>');
    expect(fetcher).not.toHaveBeenCalled();
  });
});
