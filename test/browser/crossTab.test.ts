import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromiumWithCdp, type ChromiumWithCdp } from './support/cdp';
import { startExample, type ExampleServer } from './support/exampleServer';
import { expiresAtOf, firstShown, readTokenLog, recordShownToken, shownAt, waitFor, type TokenLog } from './support/shownTokens';

/**
 * Issue 13 in a real browser: three pages of the example on one room and a fourth on another,
 * each a Chromium tab of its own (real Web Locks, BroadcastChannel and page freezing), asking the
 * example's dev server, which runs react-cas-token/server over a mock CAS with 8-second tokens.
 *
 * Every page keeps a log of the `data-token` it shows (a MutationObserver, stamped with
 * Date.now(): the pages and this process read one clock), so agreement and expiry are checked
 * at every moment, and sampled every 100 ms on that log, never racing a read against a render.
 *
 * `CROSS_TAB_OFF=1` takes Web Locks away from the pages (each then works on its own): every test
 * about sharing must then fail.
 */

/** Short enough for a renewal every ~4 s (at half the token's life), long enough for a loaded machine. */
const LIFETIME_MS = 8_000;
const ROOM = 'movie-night-42';
const OTHER_ROOM = 'anime-club';
const SAMPLE_MS = 100;
/**
 * The longest the pages of a room may show different tokens when one is renewed: the new token
 * crosses the channel and each page renders it (tens of ms measured here). Without sharing,
 * pages hold different tokens for seconds (2.2 s measured in issue 13).
 */
const SWITCH_MS = 500;
/** A mock CAS this slow keeps the fetching page in its request long enough to close or freeze it there. */
const SLOW_CAS_MS = 1_000;
/**
 * A page counts `refreshIn` from just before its request starts, `at` is read from the request's
 * own timing a little later: a renewal sent when due may look this much early, never more.
 */
const SENT_AT_SLACK_MS = 200;

interface ProxyRequest {
  tab: string;
  room: string;
  /** When the page sent it: heard here first, then read from the request's timing once answered. */
  at: number;
  answeredAt?: number;
  /** The token the proxy answered. */
  token?: string;
  /** The ms until the room's token rotates, as the proxy answered: the page renews then. */
  refreshIn?: number;
}

interface Tab {
  name: string;
  page: Page;
  /** The log as last read (kept after the page closes). */
  log: TokenLog;
  closedAt?: number;
}

let example: ExampleServer;
let chromium: ChromiumWithCdp;
let baseUrl: string;
let mockCas: ExampleServer['mockCas'];
const requests: ProxyRequest[] = [];
const pageErrors: string[] = [];
const tabs = new Map<string, Tab>();

async function readLogs(...names: string[]): Promise<TokenLog[]> {
  return Promise.all(
    names.map(async (name) => {
      const tab = tabs.get(name)!;
      if (tab.closedAt === undefined) tab.log = await readTokenLog(tab.page);
      return tab.log;
    }),
  );
}

interface Agreement {
  samples: number;
  /** Samples at which the pages showed different tokens. */
  disagreeing: number[];
  /** Of those, the ones not while a new token was reaching the pages. */
  outsideSwitches: number[];
  /** Each token that appeared in the window, from the first page showing it to the last. */
  switches: { token: string; from: number; to: number; spreadMs: number }[];
  /** [page, token, ms] for every moment a page showed no token or an expired one. */
  lapses: string[];
}

/** What a group of page logs shows over [from, to): agreement at every sample, switches, lapses. */
function agreement(logs: TokenLog[], from: number, to: number): Agreement {
  const disagreeing: number[] = [];
  let samples = 0;
  for (let at = from; at < to; at += SAMPLE_MS) {
    samples += 1;
    if (new Set(logs.map((log) => shownAt(log, at))).size !== 1) disagreeing.push(at);
  }
  const tokens = [...new Set(logs.flatMap((log) => log.filter(([at, value]) => value !== '' && at < to).map(([, value]) => value)))];
  const switches = tokens
    .filter((token) => logs.every((log) => (firstShown(log, token) ?? Infinity) >= from))
    .map((token) => {
      const times = logs.map((log) => firstShown(log, token) ?? Infinity);
      return { token, from: Math.min(...times), to: Math.max(...times), spreadMs: Math.max(...times) - Math.min(...times) };
    });
  const outsideSwitches = disagreeing.filter((at) => !switches.some((s) => at >= s.from && at <= s.to));
  const lapses: string[] = [];
  logs.forEach((log, page) => {
    log.forEach(([shownFrom, token], i) => {
      const until = Math.min(log[i + 1]?.[0] ?? to, to);
      if (until <= from) return;
      if (token === '') lapses.push(`page ${page} showed no token from ${shownFrom} to ${until}`);
      else if (until > expiresAtOf(token)) lapses.push(`page ${page} showed a token ${until - expiresAtOf(token)} ms past its expiry`);
    });
  });
  return { samples, disagreeing, outsideSwitches, switches, lapses };
}

async function openTab(name: string): Promise<Tab> {
  const page = await chromium.context.newPage();
  const tab: Tab = { name, page, log: [] };
  tabs.set(name, tab);
  page.on('pageerror', (error) => pageErrors.push(`${name}: ${String(error)}`));
  page.on('request', (request) => {
    if (!request.url().includes('/api/cas-token')) return;
    const entry: ProxyRequest = { tab: name, room: new URL(request.url()).searchParams.get('room') ?? '', at: Date.now() };
    requests.push(entry);
    request
      .response()
      .then((response) => {
        entry.answeredAt = Date.now();
        // When the page sent it, on the page's clock: this process hears of it later, the more so under load.
        entry.at = request.timing().startTime;
        return response?.json() as Promise<{ token?: string; refreshIn?: number }> | undefined;
      })
      .then((body) => {
        entry.token = body?.token;
        entry.refreshIn = body?.refreshIn;
      })
      .catch(() => {});
  });
  await page.goto(baseUrl);
  await page.locator('[data-testid="token"][data-token^="ey"]').waitFor({ timeout: 30_000 });
  return tab;
}

/** Who holds and who waits for the room's lock, as one page sees it (clientIds are per page). */
const roomLock = (tab: Tab) =>
  tab.page.evaluate(async (name) => {
    const { held = [], pending = [] } = (await navigator.locks?.query()) ?? {};
    return { held: held.filter((lock) => lock.name === name).map((lock) => lock.clientId), pending: pending.filter((lock) => lock.name === name).map((lock) => lock.clientId) };
  }, `react-cas-token:v1:room:${ROOM}`);

const shownToken = async (tab: Tab) => (await tab.page.getByTestId('token').getAttribute('data-token')) ?? '';
const requestsFor = (room: string, from: number, to = Infinity) => requests.filter((r) => r.room === room && r.at >= from && r.at < to);

/** The next request for the room, after `since`, that the proxy has not answered 300 ms on: one waiting on the slow CAS. */
const slowRequest = (since: number) =>
  waitFor(`a renewal request for ${ROOM} waiting on the slow CAS`, 2 * LIFETIME_MS, () =>
    requestsFor(ROOM, since).find((r) => r.answeredAt === undefined && Date.now() - r.at >= 300),
  );

/** Resolves when every named page shows one token other than `old`; returns when that happened. */
async function allShowNewToken(names: string[], old: string, timeoutMs: number): Promise<{ token: string; at: number }> {
  return waitFor(`${names.join(', ')} to show a token other than the old one`, timeoutMs, async () => {
    const logs = await readLogs(...names);
    const shown = new Set(logs.map((log) => log.at(-1)?.[1] ?? ''));
    const [token] = shown;
    if (shown.size !== 1 || !token?.startsWith('ey') || token === old) return undefined;
    return { token, at: Math.max(...logs.map((log) => firstShown(log, token)!)) };
  });
}

beforeAll(async () => {
  example = await startExample(LIFETIME_MS);
  ({ baseUrl, mockCas } = example);

  chromium = await launchChromiumWithCdp();
  console.info(`Chromium ${chromium.browser.version()} from ${chromium.found.source}: ${chromium.found.executablePath}`);
  await chromium.context.addInitScript(recordShownToken);
  if (process.env.CROSS_TAB_OFF === '1') {
    // To see this file fail as it must when tabs do not share: without Web Locks the library
    // quietly works per tab (its documented fallback).
    await chromium.context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined }));
  }
});

afterAll(async () => {
  await chromium?.close();
  await example?.close();
});

describe('tabs of one room share one token, in Chromium', () => {
  let watchFrom: number;

  it('gives pages of a room opened one after another the token their siblings hold, without asking; a fourth page on another room asks for its own', async () => {
    const [a, b, c] = [await openTab('A'), await openTab('B'), await openTab('C')];
    const d = await openTab('D');
    await d.page.getByRole('button', { name: /Anime club/ }).click();
    const anime = await waitFor('the fourth page to show its own room’s token', 10_000, () =>
      requestsFor(OTHER_ROOM, 0).find((r) => r.token !== undefined),
    );
    await d.page.locator(`[data-testid="token"][data-token="${anime.token}"]`).waitFor({ timeout: 5_000 });
    const shown = await Promise.all([a, b, c].map(shownToken));
    watchFrom = Date.now();
    const roomRequests = requestsFor(ROOM, 0);
    const laterPages = ['B', 'C', 'D'];
    const firstTokenAt = (await readLogs(...laterPages)).map((log) => log.find(([, token]) => token !== '')?.[0] ?? Infinity);
    // Opening the pages can take longer than half the 8 s token's life on a loaded machine: the
    // room's token is then renewed meanwhile, by whichever page holds the lock when it is due.
    const dueAt = (request: ProxyRequest) => request.at + (request.refreshIn ?? Infinity) - SENT_AT_SLACK_MS;
    const beforeDue = roomRequests.slice(1).filter((request, i) => request.at < dueAt(roomRequests[i]!));
    console.info(
      `4 pages opened in ${((watchFrom - roomRequests[0]!.at) / 1000).toFixed(1)} s; requests for ${ROOM} meanwhile: ${roomRequests.map((r) => r.tab).join('')} (the first, then renewals)`,
    );

    expect(roomRequests[0]?.tab).toBe('A');
    // Each later page first showed a sibling's token, asking for none before it.
    expect(laterPages.flatMap((name, i) => requests.filter((r) => r.tab === name && r.at < firstTokenAt[i]!))).toEqual([]);
    // Any other request for the room was a renewal, sent once the token before it was due.
    expect(beforeDue).toEqual([]);
    expect(new Set(shown).size).toBe(1);
    expect(roomRequests.map((r) => r.token)).toContain(shown[0]);
    expect(requestsFor(OTHER_ROOM, 0).map((r) => r.tab)).toEqual(['D']);
    expect(anime.token).not.toBe(shown[0]);
  });

  it('renews once for the three pages, and they show the same token at every sample, over 2.5 token lifetimes', async () => {
    await sleep(2.5 * LIFETIME_MS);
    const to = Date.now();
    const renewals = await waitFor('the requests in flight to be answered', 5_000, () => {
      const sent = requestsFor(ROOM, watchFrom, to);
      return sent.every((r) => r.token !== undefined) ? sent : undefined;
    });
    const logs = await readLogs('A', 'B', 'C');
    const seen = agreement(logs, watchFrom, to);
    // Which tab had the answered token when it asked: its own (the proxy handed the held token
    // back), another tab's (a request cross-tab sharing should have saved), or nobody's (new).
    const kinds = renewals.map((r) => {
      const had = (name: string) => (firstShown(tabs.get(name)!.log, r.token ?? '') ?? Infinity) <= r.at;
      if (had(r.tab)) return 'held';
      return ['A', 'B', 'C'].some(had) ? 'sibling' : 'new';
    });
    console.info(
      `3 pages, ${((to - watchFrom) / 1000).toFixed(1)} s: ${renewals.length} requests (${renewals.map((r) => r.tab).join('')}) ` +
        `for ${seen.switches.length} new tokens, ${kinds.filter((k) => k === 'held').length} of them answered with the token the page held; ` +
        `${seen.samples} samples, ${seen.disagreeing.length} disagreeing (${seen.outsideSwitches.length} outside a switch); ` +
        `switches took ${seen.switches.map((s) => s.spreadMs).join(', ')} ms`,
    );

    // About five renewals; a renewal the proxy answers with the held token puts the next new one off by a quarter-life.
    expect(seen.switches.length).toBeGreaterThanOrEqual(3);
    // One request brought each new token; no page asked for a token a sibling already had.
    expect(kinds.filter((kind) => kind === 'new')).toHaveLength(seen.switches.length);
    expect(kinds.filter((kind) => kind === 'sibling')).toEqual([]);
    for (const log of logs) expect(log.filter(([at]) => at >= watchFrom).map(([, token]) => token)).toEqual(seen.switches.map((s) => s.token));
    expect(seen.switches.filter((s) => s.spreadMs > SWITCH_MS)).toEqual([]);
    expect(seen.outsideSwitches).toEqual([]);
    expect(seen.lapses).toEqual([]);
  });

  it('hands over when the fetching page closes in the middle of its request, and no page left shows an expired token', async () => {
    // From a renewal that brought a new token: a renewal the proxy answered with the held token
    // moves the next one late in the token's life, where a waiting page steals the lock after
    // 1 s, before the slow CAS has answered (a second request, by design).
    await allShowNewToken(['A', 'B', 'C'], await shownToken(tabs.get('A')!), LIFETIME_MS);
    const from = Date.now();
    const old = await shownToken(tabs.get('A')!);
    mockCas.setLatency(SLOW_CAS_MS);
    const fetching = await slowRequest(from);
    const closing = tabs.get(fetching.tab)!;
    await readLogs(closing.name);
    closing.closedAt = Date.now();
    await closing.page.close();
    const survivors = ['A', 'B', 'C'].filter((name) => name !== closing.name);
    const handed = await allShowNewToken(survivors, old, LIFETIME_MS);
    mockCas.setLatency(0);
    await sleep(500);
    const to = Date.now();
    const seen = agreement(await readLogs(...survivors), from, to);
    const asked = requestsFor(ROOM, closing.closedAt, to);
    console.info(
      `closed ${closing.name} ${Math.round(closing.closedAt - fetching.at)} ms into its request; ${asked.map((r) => r.tab).join(', ')} asked; ` +
        `the others showed the new token ${handed.at - closing.closedAt} ms after the close, ${expiresAtOf(old) - handed.at} ms before the old one expired`,
    );

    expect(handed.at).toBeLessThan(expiresAtOf(old));
    expect(asked.filter((r) => r.token === handed.token).map((r) => r.tab)).toHaveLength(1);
    expect(seen.switches.filter((s) => s.spreadMs > SWITCH_MS)).toEqual([]);
    expect(seen.outsideSwitches).toEqual([]);
    expect(seen.lapses).toEqual([]);
  });

  it('takes over from a fetching page frozen in the middle of its request, before the token expires; the frozen page catches up on resume', async () => {
    const survivors = ['A', 'B', 'C'].filter((name) => tabs.get(name)!.closedAt === undefined);
    // As above, from a renewal that brought a new token, with the fast CAS.
    await allShowNewToken(survivors, await shownToken(tabs.get(survivors[0]!)!), LIFETIME_MS);
    const from = Date.now();
    const old = await shownToken(tabs.get(survivors[0]!)!);
    mockCas.setLatency(SLOW_CAS_MS);
    const fetching = await slowRequest(from);
    const frozen = tabs.get(fetching.tab)!;
    const other = survivors.find((name) => name !== frozen.name)!;
    const lifecycle = await chromium.lifecycle(frozen.page);
    await lifecycle.freeze();
    const frozenAt = Date.now();
    const lockWhileFrozen = await roomLock(tabs.get(other)!);
    const takenOver = await allShowNewToken([other], old, LIFETIME_MS);
    mockCas.setLatency(0);
    const stolenBy = requestsFor(ROOM, frozenAt).find((r) => r.tab === other);
    await sleep(300);
    const to = Date.now();
    const [otherLog] = await readLogs(other);
    const seen = agreement([otherLog!], from, to);

    await lifecycle.resume();
    await lifecycle.show();
    const resumedAt = Date.now();
    const caughtUp = await waitFor(`the resumed page ${frozen.name} to show the other page’s token`, 5_000, async () =>
      (await shownToken(frozen)) === (await shownToken(tabs.get(other)!)) ? Date.now() : undefined,
    );
    console.info(
      `froze ${frozen.name} ${Math.round(frozenAt - fetching.at)} ms into its request; ${other} asked ${Math.round((stolenBy?.at ?? NaN) - frozenAt)} ms later ` +
        `and showed the new token ${takenOver.at - frozenAt} ms after the freeze, ${expiresAtOf(old) - takenOver.at} ms before the old one expired; ` +
        `${frozen.name} caught up ${caughtUp - resumedAt} ms after resuming`,
    );

    // The frozen page kept the lock (one holder, the other page waiting on it) until it was taken.
    expect(lockWhileFrozen.held).toHaveLength(1);
    expect(lockWhileFrozen.pending).toHaveLength(1);
    expect(lockWhileFrozen.pending[0]).not.toBe(lockWhileFrozen.held[0]);
    expect(takenOver.at).toBeLessThan(expiresAtOf(old));
    expect(stolenBy?.token).toBe(takenOver.token);
    expect(caughtUp - resumedAt).toBeLessThan(2_000);
    expect(seen.lapses).toEqual([]);
  });

  it('leaves the other room to its own requests and its own tokens throughout', async () => {
    const to = Date.now();
    const [log] = await readLogs('D');
    const seen = agreement([log!], watchFrom, to);
    const own = requestsFor(OTHER_ROOM, watchFrom, to);
    const roomTokens = new Set(requestsFor(ROOM, 0).map((r) => r.token));
    console.info(`other room, 1 page: ${own.length} requests for ${seen.switches.length} new tokens`);

    expect(requests.filter((r) => r.tab === 'D' && r.at >= watchFrom).every((r) => r.room === OTHER_ROOM)).toBe(true);
    expect(own.every((r) => r.tab === 'D')).toBe(true);
    expect(seen.switches.length).toBeGreaterThanOrEqual(4);
    expect(seen.switches.filter((s) => roomTokens.has(s.token))).toEqual([]);
    expect(seen.lapses).toEqual([]);
  });

  it('throws no uncaught error in any page', () => {
    expect(pageErrors).toEqual([]);
  });
});
