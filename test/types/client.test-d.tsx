import type { ReactNode } from 'react';
import type { RenderToPipeableStreamOptions } from 'react-dom/server';
import type { HydrationOptions } from 'react-dom/client';
import { QueryClient, useQueryClient, useQuery } from '@tanstack/react-query';
import { describe, expectTypeOf, it } from 'vitest';
import {
  CasTokenError,
  CasTokenProvider,
  createProxyFetcher,
  decodeStreamToken,
  isCasTokenError,
  isClientOnlyBailout,
  streamTokenQueryKey,
  streamTokenQueryOptions,
  useStreamToken,
  useStreamTokenGetter,
  useSuspenseStreamToken,
  type CasTokenClaims,
  type CasTokenErrorCode,
  type CasTokenProviderProps,
  type StreamTokenFetcher,
  type StreamTokenInfo,
  type StreamTokenQueryKey,
  type StreamTokenState,
} from 'react-cas-token';

const fetcher: StreamTokenFetcher = async () => 'token';
const children: ReactNode = null;

describe('StreamTokenFetcher', () => {
  it('takes a signal, an optional room and the held token, and answers a token or { token, expiresIn?, refreshIn?, checkIn?, seal? }', () => {
    expectTypeOf<Parameters<StreamTokenFetcher>[0]>().toEqualTypeOf<{
      signal: AbortSignal;
      room?: string;
      held?: { token: string; seal: string };
    }>();
    expectTypeOf<StreamTokenFetcher>().returns.resolves.toEqualTypeOf<
      string | { token: string; expiresIn?: number; refreshIn?: number; checkIn?: number; seal?: string }
    >();
    const withExpiry: StreamTokenFetcher = async ({ signal, room }) => {
      expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
      expectTypeOf(room).toEqualTypeOf<string | undefined>();
      return { token: 't', expiresIn: 1_000 };
    };
    expectTypeOf(withExpiry).toEqualTypeOf<StreamTokenFetcher>();
  });

  it('rejects a fetcher that answers a number, or a token that is not a string', () => {
    // @ts-expect-error a number is not a token
    const answersNumber: StreamTokenFetcher = async () => 42;
    // @ts-expect-error the token must be a string
    const answersObjectToken: StreamTokenFetcher = async () => ({ token: 1 });
    // @ts-expect-error expiresIn is a number of ms, not a string
    const answersStringExpiry: StreamTokenFetcher = async () => ({ token: 't', expiresIn: '60s' });
    // @ts-expect-error a fetcher returns a promise
    const synchronous: StreamTokenFetcher = () => 'token';
    void [answersNumber, answersObjectToken, answersStringExpiry, synchronous];
  });
});

describe('CasTokenProvider', () => {
  it('needs a fetcher and takes room, queryClient, refreshLeadMs and callbacks', () => {
    expectTypeOf<CasTokenProviderProps['fetcher']>().toEqualTypeOf<StreamTokenFetcher>();
    expectTypeOf<CasTokenProviderProps>().toHaveProperty('room').toEqualTypeOf<string | undefined>();
    expectTypeOf<CasTokenProviderProps>().toHaveProperty('queryClient').toEqualTypeOf<QueryClient | undefined>();
    expectTypeOf<CasTokenProviderProps>().toHaveProperty('refreshLeadMs').toEqualTypeOf<number | undefined>();
    expectTypeOf<NonNullable<CasTokenProviderProps['onToken']>>().parameter(0).toEqualTypeOf<StreamTokenInfo>();
    expectTypeOf<NonNullable<CasTokenProviderProps['onError']>>().parameter(0).toEqualTypeOf<CasTokenError>();

    void (
      <CasTokenProvider
        fetcher={fetcher}
        room="movie-night-42"
        queryClient={new QueryClient()}
        refreshLeadMs={30_000}
        retryDelay={(failureCount, error) => (error.code === 'timeout' ? 1_000 : failureCount * 2_000)}
        onToken={(info) => expectTypeOf(info.expiresAt).toBeNumber()}
        onError={(error) => expectTypeOf(error.code).toEqualTypeOf<CasTokenErrorCode>()}
      >
        {children}
      </CasTokenProvider>
    );
  });

  it('refuses to render without a fetcher, or with a wrong one', () => {
    // @ts-expect-error fetcher is required
    void (<CasTokenProvider>{children}</CasTokenProvider>);
    // @ts-expect-error a URL is not a fetcher: wrap it in createProxyFetcher
    void (<CasTokenProvider fetcher="/api/cas-token">{children}</CasTokenProvider>);
    // @ts-expect-error a fetcher that answers a number
    void (<CasTokenProvider fetcher={async () => 42}>{children}</CasTokenProvider>);
    // @ts-expect-error refreshLeadMs is a number of ms
    void (<CasTokenProvider fetcher={fetcher} refreshLeadMs="1m">{children}</CasTokenProvider>);
    // @ts-expect-error the room is a string
    void (<CasTokenProvider fetcher={fetcher} room={42}>{children}</CasTokenProvider>);
    // @ts-expect-error retryDelay is ms or a function returning ms
    void (<CasTokenProvider fetcher={fetcher} retryDelay="2s">{children}</CasTokenProvider>);
  });
});

describe('useStreamToken', () => {
  it('returns state to branch on, where a held token is always a string', () => {
    const state = useStreamToken();
    expectTypeOf(state).toEqualTypeOf<StreamTokenState>();
    expectTypeOf(state.token).toEqualTypeOf<string | undefined>();
    expectTypeOf(state.info).toEqualTypeOf<StreamTokenInfo | undefined>();
    expectTypeOf(state.status).toEqualTypeOf<'pending' | 'success' | 'error'>();
    expectTypeOf(state.error).toEqualTypeOf<CasTokenError | null>();
    expectTypeOf(state.isRefreshing).toBeBoolean();
    expectTypeOf(state.failureCount).toBeNumber();
    expectTypeOf(state.retryAt).toEqualTypeOf<number | undefined>();
    expectTypeOf(state.refresh()).toEqualTypeOf<Promise<string | undefined>>();
    expectTypeOf(state.refresh({ throwOnError: false })).toEqualTypeOf<Promise<string | undefined>>();
    expectTypeOf(state.refresh({ throwOnError: true })).toEqualTypeOf<Promise<string>>();
    // @ts-expect-error throwOnError is a boolean
    void state.refresh({ throwOnError: 'yes' });

    if (state.status === 'success') {
      expectTypeOf(state.token).toBeString();
      expectTypeOf(state.info).toEqualTypeOf<StreamTokenInfo>();
    }
    if (state.status === 'error') expectTypeOf(state.error).toEqualTypeOf<CasTokenError>();
    if (state.status === 'pending') expectTypeOf(state.token).toBeUndefined();
  });

  it('does not hand out a possibly missing token as a string', () => {
    const { token } = useStreamToken();
    // @ts-expect-error the token is undefined until one arrives
    const joined: string = token;
    void joined;
  });

  it('has a suspense variant whose token is always a string', () => {
    const state = useSuspenseStreamToken();
    expectTypeOf(state.token).toEqualTypeOf<string>();
    expectTypeOf(state.info).toEqualTypeOf<StreamTokenInfo>();
    expectTypeOf(state.status).toEqualTypeOf<'success'>();
  });

  it('takes no arguments: the provider chooses the room', () => {
    // @ts-expect-error the room is the provider's prop
    useStreamToken('movie-night-42');
  });
});

describe('isClientOnlyBailout', () => {
  it("narrows what a renderer's onError is given, so its digest can be returned to the browser", () => {
    const onError: RenderToPipeableStreamOptions['onError'] = (error) => {
      expectTypeOf(error).toBeUnknown();
      if (isClientOnlyBailout(error)) {
        expectTypeOf(error.digest).toEqualTypeOf<'BAILOUT_TO_CLIENT_SIDE_RENDERING'>();
        expectTypeOf(error).toExtend<Error>();
        return error.digest;
      }
      // @ts-expect-error an unknown error has no digest to read
      return error.digest;
    };
    void onError;
  });

  it("fits hydrateRoot's onRecoverableError", () => {
    const options: HydrationOptions = {
      onRecoverableError: (error) => {
        if (!isClientOnlyBailout(error)) reportError(error);
      },
    };
    void options;
  });
});

describe('useStreamTokenGetter', () => {
  it('returns a function for SDK callbacks that resolves to a string', () => {
    const getToken = useStreamTokenGetter();
    expectTypeOf(getToken).parameter(0).toEqualTypeOf<{ minValidityMs?: number } | undefined>();
    expectTypeOf(getToken).returns.toEqualTypeOf<Promise<string>>();
    // @ts-expect-error minValidityMs is a number of ms
    void getToken({ minValidityMs: '5s' });
  });
});

describe('streamTokenQueryOptions', () => {
  it('works with useQuery and the query client, typed as StreamTokenInfo', () => {
    const options = streamTokenQueryOptions({ fetcher, room: 'movie-night-42', refreshLeadMs: 60_000 });
    const { data, error } = useQuery(options);
    expectTypeOf(data).toEqualTypeOf<StreamTokenInfo | undefined>();
    expectTypeOf(error).toEqualTypeOf<CasTokenError | null>();
    const cached = useQueryClient().getQueryData(options.queryKey);
    expectTypeOf(cached).toEqualTypeOf<StreamTokenInfo | undefined>();
    expectTypeOf(options.queryKey).toExtend<StreamTokenQueryKey>();
    expectTypeOf(streamTokenQueryKey('movie-night-42')).toEqualTypeOf<StreamTokenQueryKey>();
    // @ts-expect-error the fetcher is required
    streamTokenQueryOptions({ room: 'movie-night-42' });
  });
});

describe('createProxyFetcher', () => {
  it('makes a StreamTokenFetcher from a URL and options', () => {
    expectTypeOf(createProxyFetcher('/api/cas-token')).toEqualTypeOf<StreamTokenFetcher>();
    createProxyFetcher('/api/cas-token', {
      headers: { Authorization: 'Bearer x' },
      credentials: 'include',
      timeoutMs: 5_000,
      fetch: globalThis.fetch,
    });
    createProxyFetcher('/api/cas-token', { headers: async () => ({ Authorization: 'Bearer x' }) });
    // @ts-expect-error the URL comes first, as a string
    createProxyFetcher({ url: '/api/cas-token' });
    // @ts-expect-error timeoutMs is a number of ms
    createProxyFetcher('/api/cas-token', { timeoutMs: '10s' });
    // @ts-expect-error not a RequestCredentials value
    createProxyFetcher('/api/cas-token', { credentials: 'always' });
  });
});

describe('decodeStreamToken and StreamTokenInfo', () => {
  it('decodes to times in epoch ms and the CAS claims', () => {
    const info = decodeStreamToken('a.b.c', Date.now(), { expiresIn: 60_000, refreshLeadMs: 1_000 });
    expectTypeOf(info).toEqualTypeOf<StreamTokenInfo>();
    expectTypeOf(info.token).toBeString();
    expectTypeOf(info.claims).toEqualTypeOf<CasTokenClaims>();
    expectTypeOf(info.claims.rid).toEqualTypeOf<string | undefined>();
    expectTypeOf(info.issuedAt).toEqualTypeOf<number | undefined>();
    expectTypeOf(info.expiresAt).toBeNumber();
    expectTypeOf(info.refreshAt).toBeNumber();
    expectTypeOf(info.receivedAt).toBeNumber();
    expectTypeOf(info.rotateAt).toEqualTypeOf<number | undefined>();
    decodeStreamToken('a.b.c', Date.now(), { expiresIn: 60_000, refreshIn: 30_000, sentAt: Date.now() - 50 });
    // @ts-expect-error receivedAt is epoch ms, not a Date
    decodeStreamToken('a.b.c', new Date());
  });
});

describe('CasTokenError', () => {
  it('is an Error with a code a program can switch on exhaustively', () => {
    expectTypeOf<CasTokenErrorCode>().toEqualTypeOf<
      'network' | 'timeout' | 'http' | 'unauthorized' | 'forbidden' | 'invalid-response' | 'invalid-token' | 'invalid-config'
    >();
    const error = new CasTokenError('http', 'The proxy answered HTTP 503.', { status: 503, retryAfterMs: 1_000 });
    expectTypeOf(error).toExtend<Error>();
    expectTypeOf(error.code).toEqualTypeOf<CasTokenErrorCode>();
    expectTypeOf(error.status).toEqualTypeOf<number | undefined>();
    expectTypeOf(error.retryAfterMs).toEqualTypeOf<number | undefined>();
    expectTypeOf(error.proxyCode).toEqualTypeOf<string | undefined>();

    const describeCode = (code: CasTokenErrorCode): string => {
      switch (code) {
        case 'network':
        case 'timeout':
        case 'http':
          return 'retried';
        case 'unauthorized':
        case 'forbidden':
        case 'invalid-response':
        case 'invalid-token':
        case 'invalid-config':
          return 'not retried';
        default: {
          const unreachable: never = code;
          return unreachable;
        }
      }
    };
    void describeCode;
    // @ts-expect-error not one of the codes
    void new CasTokenError('denied', 'no');
    // @ts-expect-error codes are read-only
    error.code = 'network';
  });

  it('narrows unknown values with isCasTokenError', () => {
    const caught: unknown = new Error('x');
    if (isCasTokenError(caught)) expectTypeOf(caught).toEqualTypeOf<CasTokenError>();
  });
});
