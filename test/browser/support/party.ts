import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { HELD_TOKEN_HEADER } from '../../../src/core/heldToken';
import { readTokenLog, recordShownToken, type TokenLog } from './shownTokens';

/**
 * A watch party in one Chromium: each participant is a browser context of its own (its own
 * profile, so its own Web Locks and BroadcastChannel, as another person's browser), and each of
 * its pages is one of that participant's tabs on the example. Every request a page makes to the
 * token proxy is recorded twice: through Chromium's events (with the participant and tab that
 * made it, and how it ended), and by the page itself, when its code started the fetch and when it
 * settled, to tell how many were in flight at once. Chromium's events come through one DevTools
 * session per page, so events of two pages can arrive out of order by tens of ms: one tab's abort
 * heard after the next tab's request although it came first.
 * `CROSS_TAB_OFF=1` takes Web Locks away from every page, so the tabs of a participant do not share.
 */

/** One request to `/api/cas-token`, times on this process's clock (heard from Chromium's events). */
export interface ProxyRequest {
  participant: string;
  tab: string;
  at: number;
  /** It carried a held token and its seal: a check (or a renewal) rather than a first request. */
  held: boolean;
  endedAt?: number;
  /** The HTTP status, once answered. */
  status?: number;
  /** Why it failed without an answer (a dropped connection, an abort), once it did. */
  failure?: string;
}

/** A request to the token proxy as the page's code saw it: [started, settled (null: still open)], Date.now(). */
export type PageFetch = [number, number | null];

/** For `addInitScript`: the page records when each of its fetches to the token proxy starts and settles. */
export function recordProxyFetches() {
  const record: [number, number | null][] = [];
  (window as unknown as { proxyFetches: typeof record }).proxyFetches = record;
  const realFetch = window.fetch;
  window.fetch = function (input: RequestInfo | URL, init?: RequestInit) {
    const pending = realFetch.call(this, input, init);
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    if (url.pathname !== '/api/cas-token') return pending;
    const entry: [number, number | null] = [Date.now(), null];
    record.push(entry);
    const settle = () => void (entry[1] = Date.now());
    // In flight until its body is in, or until it fails (an abort included).
    pending.then((response) => response.clone().arrayBuffer().then(settle, settle), settle);
    return pending;
  };
}

export interface InFlight {
  /** The most requests in flight at once. */
  peak: number;
  /** Each time two or more were: how long, in ms. */
  overlapsMs: number[];
}

/** How many of `fetches` were in flight at once within [from, to). */
export function inFlight(fetches: PageFetch[], from: number, to: number): InFlight {
  const edges = fetches
    .filter(([start, end]) => start < to && (end ?? Infinity) > from)
    .flatMap(([start, end]): [number, number][] => [[Math.max(start, from), 1], [Math.min(end ?? to, to), -1]])
    // At one instant, an end before a start: a request that settled as the next began did not overlap it.
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  let overlapFrom: number | undefined;
  const overlapsMs: number[] = [];
  for (const [at, step] of edges) {
    open += step;
    peak = Math.max(peak, open);
    if (open > 1 && overlapFrom === undefined) overlapFrom = at;
    if (open <= 1 && overlapFrom !== undefined) {
      overlapsMs.push(at - overlapFrom);
      overlapFrom = undefined;
    }
  }
  return { peak, overlapsMs };
}

export interface Tab {
  name: string;
  page: Page;
  participant: Participant;
}

export interface Participant {
  name: string;
  context: BrowserContext;
  tabs: Tab[];
  requests: ProxyRequest[];
  /** Every fetch to the proxy its tabs' code made, as the pages recorded them (closed tabs' as last read). */
  fetches(): Promise<PageFetch[]>;
  /**
   * Opens one more tab on the example (at `path`, e.g. `?room=anime-club`); resolves once the page
   * has loaded, not once it shows a token.
   */
  openTab(path?: string): Promise<Tab>;
}

export interface Party {
  participants: Participant[];
  /** Every page's uncaught error, named by participant and tab. */
  pageErrors: string[];
  /** A new participant with `tabs` tabs open on the example (at `path`). */
  join(name: string, tabs: number, path?: string): Promise<Participant>;
  /** Every tab of every participant, or of those named. */
  tabs(...names: string[]): Tab[];
  /** Every request of every participant since `from`, oldest first. */
  requests(from?: number): ProxyRequest[];
  /** The token logs of the tabs, read now (see `shownTokens`). */
  logs(tabs: Tab[]): Promise<TokenLog[]>;
}

const isProxyRequest = (request: Request) => new URL(request.url()).pathname === '/api/cas-token';

export function createParty(browser: Browser, baseUrl: string): Party {
  const participants: Participant[] = [];
  const pageErrors: string[] = [];

  async function join(name: string, tabCount: number, path = ''): Promise<Participant> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    await context.addInitScript(recordShownToken);
    await context.addInitScript(recordProxyFetches);
    if (process.env.CROSS_TAB_OFF === '1') {
      // As in crossTab.test.ts: to see a test about tabs sharing fail as it must when they do
      // not, Web Locks are taken away (the library then quietly works per tab).
      await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined }));
    }
    const tabNames = new Map<Page, string>();
    const open = new Map<Request, ProxyRequest>();
    const participant: Participant = {
      name,
      context,
      tabs: [],
      requests: [],
      async fetches() {
        const records = await Promise.all(
          participant.tabs.map((tab) =>
            tab.page.isClosed() ? [] : tab.page.evaluate(() => (window as unknown as { proxyFetches: PageFetch[] }).proxyFetches),
          ),
        );
        return records.flat();
      },
      async openTab(at = path) {
        const page = await context.newPage();
        const tab: Tab = { name: `${name}${participant.tabs.length + 1}`, page, participant };
        tabNames.set(page, tab.name);
        participant.tabs.push(tab);
        page.on('pageerror', (error) => pageErrors.push(`${tab.name}: ${String(error)}`));
        await page.goto(new URL(at, baseUrl).href);
        return tab;
      },
    };
    const end = (request: Request, outcome: Pick<ProxyRequest, 'status' | 'failure'>) => {
      const entry = open.get(request);
      if (entry === undefined) return;
      open.delete(request);
      Object.assign(entry, outcome, { endedAt: Date.now() });
    };
    context.on('request', (request) => {
      if (!isProxyRequest(request)) return;
      const entry: ProxyRequest = {
        participant: name,
        tab: tabNames.get(request.frame().page()) ?? '?',
        at: Date.now(),
        held: request.headers()[HELD_TOKEN_HEADER] !== undefined,
      };
      participant.requests.push(entry);
      open.set(request, entry);
    });
    context.on('requestfinished', (request) => {
      if (!isProxyRequest(request)) return;
      void request.response().then((response) => end(request, { status: response?.status() ?? 0 }));
    });
    context.on('requestfailed', (request) => {
      if (isProxyRequest(request)) end(request, { failure: request.failure()?.errorText ?? 'failed' });
    });
    participants.push(participant);
    for (let i = 0; i < tabCount; i += 1) await participant.openTab();
    return participant;
  }

  return {
    participants,
    pageErrors,
    join,
    tabs: (...names) => participants.filter((p) => names.length === 0 || names.includes(p.name)).flatMap((p) => p.tabs),
    requests: (from = -Infinity) => participants.flatMap((p) => p.requests).filter((r) => r.at >= from).sort((a, b) => a.at - b.at),
    logs: (tabs) => Promise.all(tabs.map((tab) => readTokenLog(tab.page))),
  };
}
