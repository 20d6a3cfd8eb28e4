// @vitest-environment node
import { describe, expect, it, vi } from 'vitest';
import { Suspense } from 'react';
import { renderToReadableStream, renderToString } from 'react-dom/server';
import { QueryClient } from '@tanstack/react-query';
import {
  CasTokenError,
  CasTokenProvider,
  createProxyFetcher,
  isClientOnlyBailout,
  streamTokenQueryKey,
  streamTokenQueryOptions,
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

  it('reads no Math.random while rendering, which Next.js refuses in a prerendered Client Component', () => {
    // With cacheComponents, `next build` fails a page whose shell renders the provider ("encountered
    // the unstable value `Math.random()` in a Client Component").
    const random = vi.spyOn(Math, 'random');
    renderToString(
      <CasTokenProvider fetcher={vi.fn<StreamTokenFetcher>()} room="movie-night-42">
        <Room />
      </CasTokenProvider>,
    );
    renderToString(page(vi.fn<StreamTokenFetcher>()));

    expect(random).not.toHaveBeenCalled();
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

  it("lets a renderer's onError tell the bail-out from a failure with isClientOnlyBailout, as React Router's entry.server needs", async () => {
    function Broken(): never {
      throw new Error('the video SDK failed');
    }
    let status = 200;
    const failures: unknown[] = [];
    const stream = await renderToReadableStream(
      <>
        {page(vi.fn<StreamTokenFetcher>())}
        <Suspense fallback={<p>broken</p>}>
          <Broken />
        </Suspense>
      </>,
      {
        onError: (error) => {
          if (isClientOnlyBailout(error)) return error.digest;
          status = 500;
          failures.push(error);
        },
      },
    );
    await stream.allReady;
    const html = await new Response(stream).text();

    expect(failures).toEqual([new Error('the video SDK failed')]);
    expect(status).toBe(500);
    // The bail-out's digest goes to the browser, which hands it to onRecoverableError.
    expect(html.match(/data-dgst="[^"]*"/g)).toEqual(['data-dgst="BAILOUT_TO_CLIENT_SIDE_RENDERING"']);
  });

  it('fails the render without a boundary, with a message that says what happens and what to do in either case', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    let thrown: unknown;
    try {
      renderToString(page(vi.fn<StreamTokenFetcher>(), false));
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toMatchObject({ name: 'CasTokenError', code: 'invalid-config' });
    expect(isClientOnlyBailout(thrown)).toBe(true);
    const { message } = thrown as CasTokenError;
    // For the one who has a <Suspense> and sees this in onError, and for the one who has none.
    expect(message).toMatch(/Inside a <Suspense> that is expected: your server's onError can pass it over \(isClientOnlyBailout\)/);
    expect(message).toMatch(/Outside one it fails the render: wrap the component in <Suspense>\.$/);
  });
});

describe('isClientOnlyBailout', () => {
  it("is true for the bail-out's digest on any error: the server's, and React's #419 in the browser that carries it", () => {
    const inBrowser = Object.assign(new Error('Minified React error #419'), { digest: 'BAILOUT_TO_CLIENT_SIDE_RENDERING' });

    expect(isClientOnlyBailout(inBrowser)).toBe(true);
  });

  it.each([
    ['an error without a digest', new Error('boom')],
    ["an error with another digest (Next.js's redirect)", Object.assign(new Error('NEXT_REDIRECT'), { digest: 'NEXT_REDIRECT;replace;/;307;' })],
    ['a plain object with the digest', { digest: 'BAILOUT_TO_CLIENT_SIDE_RENDERING' }],
    ['the digest itself', 'BAILOUT_TO_CLIENT_SIDE_RENDERING'],
    ['null', null],
    ['undefined', undefined],
  ])('is false for %s', (_, value) => {
    expect(isClientOnlyBailout(value)).toBe(false);
  });
});

describe('prefetching on a server', () => {
  const proxyFetcher = () => {
    const fetch = vi.fn<typeof globalThis.fetch>();
    return { fetch, fetcher: createProxyFetcher('/api/cas-token', { fetch }) };
  };

  it('fails ensureQueryData with invalid-config naming where to prefetch instead, asking nobody', async () => {
    const { fetch, fetcher } = proxyFetcher();
    const queryClient = new QueryClient();

    const prefetched = queryClient.ensureQueryData(streamTokenQueryOptions({ fetcher, room: 'r1' }));

    await expect(prefetched).rejects.toThrow(CasTokenError);
    await expect(prefetched).rejects.toMatchObject({
      code: 'invalid-config',
      message: expect.stringMatching(/does not fetch on a server .*: prefetch in a clientLoader, or let <CasTokenProvider> fetch in the browser/),
    });
    expect(fetch).not.toHaveBeenCalled();
  });

  it('makes prefetchQuery a no-op that leaves no token and no retry behind', async () => {
    const fetcher = vi.fn<StreamTokenFetcher>();
    const queryClient = new QueryClient();

    await queryClient.prefetchQuery(streamTokenQueryOptions({ fetcher, room: 'r1' }));

    expect(fetcher).not.toHaveBeenCalled();
    const query = queryClient.getQueryCache().find({ queryKey: streamTokenQueryKey('r1'), exact: true });
    expect(query?.state).toMatchObject({ status: 'error', data: undefined, fetchStatus: 'idle', fetchFailureCount: 1 });
  });
});
