import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromiumBrowser, type LaunchedBrowser } from './support/chromium';
import { startExample, type ExampleServer } from './support/exampleServer';
import { createParty, inFlight, type Participant, type Party } from './support/party';
import { waitFor } from './support/shownTokens';

/**
 * Issue 17, item 4, in real Chromium: the proxy cannot serve for 40 s (CAS answering 500; its
 * store down; its connections dropped) while two participants open the example, one of them in
 * two tabs. Pages that wait that long for their first token used to have grown their retry wait
 * to 30 s, and went on showing no token for up to 30 s after the proxy was back. Now a page
 * without a token asks every 2-3 s (or at the proxy's own Retry-After), so it shows one within
 * 3 s of the proxy serving again, and the tabs of a browser share their requests.
 *
 * Each case measures, from the moment the example's control is sent (the proxy heals a few ms
 * later at most), when every page shows a token, and counts each participant's requests during
 * the outage. The assertions leave a second of margin for a loaded machine; the figures are
 * printed.
 */

/** Longer than the old 30 s cap on the wait between retries, plus the waits that led to it. */
const OUTAGE_MS = 40_000;
/** The goal is 3 s; a second more for a loaded 2-core machine. */
const TOKEN_AFTER_HEAL_MS = 4_000;
/**
 * The shortest wait between a participant's requests the design allows: the proxy's Retry-After
 * of a second (or more); 2-3 s without one. A little under, for timing heard through events.
 */
const MIN_MEAN_GAP_MS = 900;

let example: ExampleServer;
let chromium: LaunchedBrowser;
let party: Party;

interface Outage {
  /** What the pages show meanwhile: the error panel's code and HTTP status. */
  code: string;
  status: string;
  start(): Promise<void>;
  heal(): Promise<void>;
}

const OUTAGES: Record<string, Outage> = {
  'CAS answers 500': {
    code: 'http',
    status: 'HTTP 502',
    async start() {
      // A room the store does not hold, so the proxy must ask CAS for it.
      await example.control.loseEveryRoom();
      await example.control.casMode('error');
    },
    heal: () => example.control.casMode('ok'),
  },
  'the proxy’s store is down (503 store-unavailable)': {
    code: 'http',
    status: 'HTTP 503',
    start: () => example.control.proxyMode('store-down'),
    heal: () => example.control.proxyMode('serving'),
  },
  'the proxy drops every connection': {
    code: 'network',
    status: 'network',
    start: () => example.control.proxyMode('dropping'),
    heal: () => example.control.proxyMode('serving'),
  },
};

beforeAll(async () => {
  example = await startExample(600_000);
  chromium = await launchChromiumBrowser();
  console.info(`Chromium ${chromium.browser.version()} from ${chromium.found.source}: ${chromium.found.executablePath}`);
  party = createParty(chromium.browser, example.baseUrl);
});

afterAll(async () => {
  await chromium?.close();
  await example?.close();
});

/** A participant's requests during [from, to), and the mean gap between them. */
function requestRate(participant: Participant, from: number, to: number) {
  const sent = participant.requests.filter((r) => r.at >= from && r.at < to);
  const span = sent.length > 1 ? sent.at(-1)!.at - sent[0]!.at : Infinity;
  return { count: sent.length, meanGapMs: sent.length > 1 ? span / (sent.length - 1) : Infinity };
}

describe('pages show a token within 3 s of the proxy serving again after a 40 s outage, in Chromium', () => {
  let round = 0;

  it.each(Object.keys(OUTAGES))('when %s: no retry wait grown long, a bounded request rate, one request at a time per browser', async (kind) => {
    const outage = OUTAGES[kind]!;
    round += 1;
    const [twoTabs, oneTab] = [`X${round}`, `Y${round}`];
    await outage.start();
    const startedAt = Date.now();
    const participants = [await party.join(twoTabs, 2), await party.join(oneTab, 1)];
    const tabs = party.tabs(twoTabs, oneTab);
    await sleep(OUTAGE_MS - (Date.now() - startedAt));
    const shown = await Promise.all(
      tabs.map(async (tab) => ({
        token: (await tab.page.getByTestId('token').getAttribute('data-token')) ?? '',
        panel: (await tab.page.getByTestId('error-panel').textContent({ timeout: 5_000 }).catch(() => '')) ?? '',
        code: await tab.page.getByTestId('error-panel').getAttribute('data-code', { timeout: 5_000 }).catch(() => null),
      })),
    );

    const healedAt = Date.now();
    await outage.heal();
    const tokenAt = await Promise.all(
      tabs.map((tab) =>
        waitFor(`${tab.name} to show a token after the outage`, 30_000, async () => {
          const [log] = await party.logs([tab]);
          return log!.find(([at, token]) => at >= healedAt && token.startsWith('ey'))?.[0];
        }),
      ),
    );
    const afterHeal = tokenAt.map((at) => at - healedAt);
    const rates = participants.map((participant) => requestRate(participant, startedAt, healedAt));
    const fetches = await Promise.all(participants.map((participant) => participant.fetches()));
    const peaks = fetches.map((record) => inFlight(record, startedAt, healedAt).peak);
    console.info(
      `${kind}, ${((healedAt - startedAt) / 1000).toFixed(1)} s: ` +
        `requests ${participants.map((p, i) => `${p.name} (${p.tabs.length} tabs) ${rates[i]!.count}, one per ${(rates[i]!.meanGapMs / 1000).toFixed(2)} s`).join('; ')}; ` +
        `most in flight at once per participant ${peaks.join(', ')}; ` +
        `token shown ${afterHeal.map((ms, i) => `${tabs[i]!.name} ${ms} ms`).join(', ')} after the proxy could serve again`,
    );

    // Throughout the outage the pages showed no token, and said why.
    expect(shown.map((s) => s.token)).toEqual(tabs.map(() => ''));
    expect(shown.map((s) => s.code)).toEqual(tabs.map(() => outage.code));
    for (const { panel } of shown) expect(panel).toContain(outage.status === 'network' ? 'could not be reached' : outage.status);
    expect(Math.max(...afterHeal)).toBeLessThanOrEqual(TOKEN_AFTER_HEAL_MS);
    for (const rate of rates) expect(rate.meanGapMs).toBeGreaterThanOrEqual(MIN_MEAN_GAP_MS);
    // The tabs of one browser take turns: two tabs ask about as often as one.
    expect(rates[0]!.count).toBeLessThanOrEqual(Math.ceil(rates[1]!.count * 1.5) + 1);
    expect(peaks).toEqual([1, 1]);

    // Every page shows the room's one token.
    const tokens = await Promise.all(tabs.map((tab) => tab.page.getByTestId('token').getAttribute('data-token')));
    expect(new Set(tokens).size).toBe(1);
    await Promise.all(participants.map((participant) => participant.context.close()));
  });

  it('throws no uncaught error in any page', () => {
    expect(party.pageErrors).toEqual([]);
  });
});
