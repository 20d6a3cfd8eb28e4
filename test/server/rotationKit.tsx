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
import { CasTokenProvider, createProxyFetcher, useStreamToken } from 'react-cas-token';

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
  /** How many distinct tokens were held at once, at most. */
  tokens: number;
}

export interface RotationResult {
  samples: number;
  /** Longest split as sampled: from the first sample that saw two tokens to the first that saw one again. */
  longestSampledSplitMs: number;
  /** Every split, from each client's commits of a new token (exact, whatever the sampling). */
  splits: Split[];
  longestSplitMs: number;
  /** Distinct tokens, in the order a client first held them. */
  tokens: string[];
  /** When a client first held each of `tokens`. */
  firstHeldAt: number[];
  casCalls: number;
  proxyRequests: number;
  /** Tokens the clients received (one per client per token). */
  tokensReceived: number;
  /** Samples where a joined client held a token past its `exp`. */
  expiredHeld: { at: number; client: number; exp: number }[];
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
function splitsOf(commits: { at: number; client: number; token: string }[]): Split[] {
  const held = new Map<number, string>();
  const splits: Split[] = [];
  let open: Split | undefined;
  for (const { at, client, token } of [...commits].sort((a, b) => a.at - b.at)) {
    held.set(client, token);
    const distinct = new Set(held.values()).size;
    if (distinct > 1) {
      open ??= { from: at, to: at, ms: 0, tokens: distinct };
      open.tokens = Math.max(open.tokens, distinct);
    } else if (open !== undefined) {
      splits.push({ ...open, to: at, ms: at - open.from });
      open = undefined;
    }
  }
  if (open !== undefined) splits.push({ ...open, to: Number.NaN, ms: Number.POSITIVE_INFINITY });
  return splits;
}

export async function runRotation(scenario: RotationScenario): Promise<RotationResult> {
  const random = seeded(scenario.seed);
  const start = Date.now();
  const joinAt = Array.from({ length: scenario.clients }, () => start + Math.floor(random() * scenario.joinOverMs));
  const held: (string | undefined)[] = Array.from({ length: scenario.clients }, () => undefined);
  const commits: { at: number; client: number; token: string }[] = [];
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
    const fetcher = createProxyFetcher(scenario.urls[client % scenario.urls.length]!);
    // Each client is a browser of its own: its own cache, and no cross-tab sharing.
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const view = render(
      <CasTokenProvider
        fetcher={fetcher}
        room={scenario.room}
        queryClient={queryClient}
        crossTab={false}
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
  try {
    for (let next = start; next < start + scenario.runMs; next += scenario.sampleEveryMs) {
      await sleep(next - Date.now());
      const at = Date.now();
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
    if (sampledSplitFrom !== undefined) longestSampledSplitMs = Number.POSITIVE_INFINITY;
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
  const splits = splitsOf(commits);
  return {
    samples,
    longestSampledSplitMs,
    splits,
    longestSplitMs: Math.max(0, ...splits.map(({ ms }) => ms)),
    tokens,
    firstHeldAt,
    casCalls: scenario.casCalls() - casBefore,
    proxyRequests: scenario.proxyRequests() - requestsBefore,
    tokensReceived: commits.length,
    expiredHeld,
    lapses,
    splitSamples,
  };
}
