// @vitest-environment node
import { describe, expect, it, vi } from 'vitest';
import { Suspense } from 'react';
import { renderToReadableStream, renderToString } from 'react-dom/server';
import {
  CasTokenError,
  CasTokenProvider,
  useStreamToken,
  useSuspenseStreamToken,
  type StreamTokenFetcher,
} from 'react-cas-token';

function Room() {
  const { status, token } = useStreamToken();
  return <p>{status}:{token ?? 'none'}</p>;
}

function Player() {
  const { token } = useSuspenseStreamToken();
  return <p>playing with {token}</p>;
}

function page(fetcher: StreamTokenFetcher, withSuspense = true) {
  const player = withSuspense ? (
    <Suspense fallback={<p>connecting</p>}>
      <Player />
    </Suspense>
  ) : (
    <Player />
  );
  return (
    <CasTokenProvider fetcher={fetcher} room="movie-night-42">
      {player}
    </CasTokenProvider>
  );
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

  it('renders the Suspense fallback for useSuspenseStreamToken, without fetching or logging', () => {
    const logged = vi.spyOn(console, 'error');
    const fetcher = vi.fn<StreamTokenFetcher>();

    const html = renderToString(page(fetcher));

    expect(html).toContain('<p>connecting</p>');
    expect(html).not.toContain('playing');
    expect(fetcher).not.toHaveBeenCalled();
    expect(logged).not.toHaveBeenCalled();
  });

  it("streams the fallback and hands onError the client-only digest that Next.js renders quietly", async () => {
    const caught: unknown[] = [];
    const stream = await renderToReadableStream(page(vi.fn<StreamTokenFetcher>()), {
      // What Next.js does with its own bail-out: no log, the digest is the answer.
      onError: (error) => {
        caught.push(error);
        return (error as { digest?: string }).digest;
      },
    });
    await stream.allReady;
    const html = await new Response(stream).text();

    expect(html).toContain('<p>connecting</p>');
    expect(html).toContain('data-dgst="BAILOUT_TO_CLIENT_SIDE_RENDERING"');
    expect(caught).toHaveLength(1);
    expect(caught[0]).toBeInstanceOf(CasTokenError);
    expect(caught[0]).toMatchObject({ code: 'invalid-config', digest: 'BAILOUT_TO_CLIENT_SIDE_RENDERING' });
  });

  it('fails the render with a message naming <Suspense> when no boundary is around it', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => renderToString(page(vi.fn<StreamTokenFetcher>(), false))).toThrow(
      expect.objectContaining({ name: 'CasTokenError', code: 'invalid-config', message: expect.stringContaining('<Suspense>') }),
    );
  });
});
