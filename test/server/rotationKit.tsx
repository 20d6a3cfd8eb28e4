/*
 * The rotation scenario with the real client, on real time: browser clients of one room, each a
 * <CasTokenProvider> with its own QueryClient and a createProxyFetcher aimed at one of several
 * handler instances over HTTP, join at random times; every `sampleEveryMs` the token each joined
 * client holds (as its `useStreamToken()` last committed it) is read. Used by the test and by
 * `npm run bench`. Needs a DOM (jsdom).
 */
import { useEffect } from 'react';
import { render } from '@testing-library/react';
import { QueryClient } from '@tanstack/react-query';
import { CasTokenProvider, createProxyFetcher, useStreamToken, type StreamTokenFetcher } from 'react-cas-token';

export interface RotationScenario {
  /** The instances' token URLs; client `i` asks `urls[i % urls.length]`. */
  urls: readonly string[];
  room: string;
  clients: number;
  /** Each client's own `refreshLeadMs`. @defaultValue the provider's (60 s) */
  clientLeadMs?: number;
  /** Clients join at random times within this, from the start. */
  joinOverMs: number;
  /** How long the scenario runs, from the start. */
  runMs: number;
  sampleEveryMs: number;
  /** Seeds the join times, so a run can be repeated. */
  seed: number;
  /** When the mock CAS was called so far; read at the start and the end. */
  casCalls: () => number;
  /** HTTP requests the instances answered so far; read at the start and the end. */
  proxyRequests: () => number;
}

/** A stretch of time during which the joined clients did not all hold the same token. */
export interface Split {
  from: number;
  to: number;
  ms: number;
  /** Still split when the run ended: `ms` is how long it had lasted by then. */
  open: boolean;
  /** How many distinct tokens were held at once, at most. */
  tokens: number;
}

export interface RotationResult {
  samples: number;
  /**
   * Longest split as sampled: from the first sample that saw two tokens to the first that saw one
   * again (or to the last sample, when the run ended during a split).
   */
  longestSampledSplitMs: number;
  /** Every split, from each client's commits of a new token (exact, whatever the sampling). */
  splits: Split[];
  longestSplitMs: number;
  /** Distinct tokens, in the order a client first held them. */
  tokens: string[];
  /** When a client first held each of `tokens`. */
  firstHeldAt: number[];
  casCalls: number;
  /** Requests the instances received, counted once every request the clients sent was answered. */
  proxyRequests: number;
  /** Requests the clients' fetchers sent. */
  fetchesSent: number;
  /** Tokens the clients' `useStreamToken()` committed (one per client per token). */
  tokensReceived: number;
  /** Samples where a joined client held a token past its `exp`. */
  expiredHeld: { at: number; client: number; exp: number }[];
  /** Every answer a client's fetcher got, in order; `repeated` when it was the token the client had asked before. */
  fetches: { client: number; sentAt: number; at: number; token: string; refreshIn: number | undefined; repeated: boolean }[];
  /** Every failed request a client saw (its `onError`). */
  clientErrors: { at: number; client: number; code: string; message: string }[];
  /** Samples where a joined client held no token at all. */
  lapses: { at: number; client: number }[];
  /** The sampled token of every joined client, at every sample where they were split. */
  splitSamples: { at: number; held: (string | undefined)[] }[];
}

function seeded(seed: number): () => number {
  let state = seed % 2_147_483_647 || 1;
  return () => ((state = (state * 16_807) % 2_147_483_647) - 1) / 2_147_483_646;
}

/** The `exp` claim in ms, read without the library under test. */
function expiryOf(token: string): number {
  const payload = JSON.parse(atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as { exp: number };
  return payload.exp * 1000;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Replays every client's commits in time order; each stretch where they differ is a split. */
function splitsOf(commits: { at: number; client: number; token: string }[], end: number): Split[] {
  const held = new Map<number, string>();
  const splits: Split[] = [];
  let open: Split | undefined;
  for (const { at, client, token } of [...commits].sort((a, b) => a.at - b.at)) {
    held.set(client, token);
    const distinct = new Set(held.values()).size;
    if (distinct > 1) {
      open ??= { from: at, to: at, ms: 0, open: false, tokens: distinct };
      open.tokens = Math.max(open.tokens, distinct);
    } else if (open !== undefined) {
      splits.push({ ...open, to: at, ms: at - open.from });
      open = undefined;
    }
  }
  if (open !== undefined) splits.push({ ...open, to: end, ms: end - open.from, open: true });
  return splits;
}

export async function runRotation(scenario: RotationScenario): Promise<RotationResult> {
  const random = seeded(scenario.seed);
  const start = Date.now();
  const joinAt = Array.from({ length: scenario.clients }, () => start + Math.floor(random() * scenario.joinOverMs));
  const held: (string | undefined)[] = Array.from({ length: scenario.clients }, () => undefined);
  const commits: { at: number; client: number; token: string }[] = [];
  const clientErrors: RotationResult['clientErrors'] = [];
  const fetches: RotationResult['fetches'] = [];
  let fetchesSent = 0;
  let inFlight = 0;
  const casBefore = scenario.casCalls();
  const requestsBefore = scenario.proxyRequests();

  function Holder({ client }: { client: number }) {
    const { token } = useStreamToken();
    useEffect(() => {
      held[client] = token;
      if (token !== undefined) commits.push({ at: Date.now(), client, token });
    }, [client, token]);
    return null;
  }

  const unmounts: (() => void)[] = [];
  const joins = joinAt.map(async (at, client) => {
    await sleep(at - Date.now());
    const proxy = createProxyFetcher(scenario.urls[client % scenario.urls.length]!);
    const fetcher: StreamTokenFetcher = async (context) => {
      const sentAt = Date.now();
      fetchesSent += 1;
      inFlight += 1;
      try {
        const answer = await proxy(context);
        const { token, refreshIn } = typeof answer === 'string' ? { token: answer, refreshIn: undefined } : answer;
        const repeated = fetches.some((fetch) => fetch.client === client && fetch.token === token);
        fetches.push({ client, sentAt, at: Date.now(), token, refreshIn, repeated });
        return answer;
      } finally {
        inFlight -= 1;
      }
    };
    // Each client is a browser of its own: its own cache, and no cross-tab sharing.
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const view = render(
      <CasTokenProvider
        fetcher={fetcher}
        room={scenario.room}
        queryClient={queryClient}
        crossTab={false}
        onError={(error) => clientErrors.push({ at: Date.now(), client, code: error.code, message: error.message })}
        {...(scenario.clientLeadMs !== undefined && { refreshLeadMs: scenario.clientLeadMs })}
      >
        <Holder client={client} />
      </CasTokenProvider>,
    );
    unmounts.push(() => view.unmount());
  });

  const expiredHeld: RotationResult['expiredHeld'] = [];
  const lapses: RotationResult['lapses'] = [];
  const splitSamples: RotationResult['splitSamples'] = [];
  const joined = new Set<number>();
  let samples = 0;
  let sampledSplitFrom: number | undefined;
  let longestSampledSplitMs = 0;
  let lastSampleAt = start;
  let proxyRequests = 0;
  let end = start;
  try {
    for (let next = start; next < start + scenario.runMs; next += scenario.sampleEveryMs) {
      await sleep(next - Date.now());
      const at = Date.now();
      lastSampleAt = at;
      samples += 1;
      const tokens = new Set<string>();
      for (const [client, token] of held.entries()) {
        if (token === undefined) {
          if (joined.has(client)) lapses.push({ at, client });
          continue;
        }
        joined.add(client);
        tokens.add(token);
        const exp = expiryOf(token);
        if (exp <= at) expiredHeld.push({ at, client, exp });
      }
      if (tokens.size > 1) {
        sampledSplitFrom ??= at;
        splitSamples.push({ at, held: [...held] });
      } else if (sampledSplitFrom !== undefined) {
        longestSampledSplitMs = Math.max(longestSampledSplitMs, at - sampledSplitFrom);
        sampledSplitFrom = undefined;
      }
    }
    if (sampledSplitFrom !== undefined) longestSampledSplitMs = Math.max(longestSampledSplitMs, lastSampleAt - sampledSplitFrom);
    await Promise.all(joins);
    // A renewal may be on its way when the time is up: let every request sent be answered and
    // its token committed (at most 3 s), so requests and tokens are counted alike.
    for (const until = Date.now() + 3_000; (inFlight > 0 || commits.length < fetches.length) && Date.now() < until; ) await sleep(10);
    proxyRequests = scenario.proxyRequests() - requestsBefore;
    end = Date.now();
  } finally {
    await Promise.all(joins);
    for (const unmount of unmounts) unmount();
  }

  const tokens: string[] = [];
  const firstHeldAt: number[] = [];
  for (const { at, token } of [...commits].sort((a, b) => a.at - b.at)) {
    if (!tokens.includes(token)) {
      tokens.push(token);
      firstHeldAt.push(at);
    }
  }
  const splits = splitsOf(commits, end);
  return {
    samples,
    longestSampledSplitMs,
    splits,
    longestSplitMs: Math.max(0, ...splits.map(({ ms }) => ms)),
    tokens,
    firstHeldAt,
    casCalls: scenario.casCalls() - casBefore,
    proxyRequests,
    fetchesSent,
    tokensReceived: commits.length,
    expiredHeld,
    fetches,
    clientErrors,
    lapses,
    splitSamples,
  };
}
