import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromiumBrowser, type LaunchedBrowser } from './support/chromium';
import { startExample, type ExampleServer } from './support/exampleServer';
import { createParty, type Party, type Tab } from './support/party';
import { lapses, shownAt, waitFor, type TokenLog } from './support/shownTokens';

/**
 * Issue 17, item 1, in real Chromium: the proxy's store loses every room (Redis restarting
 * without persistence; the example's "Store loses every room" button swaps its store for an
 * empty one) while a party holds a token, and a newcomer joins. The participants are browser
 * contexts of their own (one of them with two tabs); each page records every token it shows.
 *
 * Tokens live 10 minutes, so the room rotates 5 minutes in: never during this file. Whatever the
 * room holds after the loss comes from the checks (every 6-8 s, with the held token and its seal)
 * or from a new CAS call, nothing else.
 *
 * `STORE_LOSS_CHECKS_OFF=1` starts the example with the handler's checks off
 * (`CHECK_INTERVAL_MS=0`): the newcomer then gets a new session and the party stays on the old
 * one, and the tests about the loss must fail.
 */

const LIFETIME_MS = 600_000;
/** The issue's goal: one token for the room again within this of the loss. */
const CONVERGE_MS = 10_000;
/** The proxy's default check interval: a client checks at 75-100 % of it after its last answer. */
const CHECK_MS = 8_000;
const CHECKS_OFF = process.env.STORE_LOSS_CHECKS_OFF === '1';

let example: ExampleServer;
let chromium: LaunchedBrowser;
let party: Party;
let partyToken: string;
/** From when each tab's record counts: once it shows the party's room's first token. */
const watchedFrom = new Map<Tab, number>();

/** The one token every log shows at `at`, or undefined while they differ or one shows none. */
function agreedAt(logs: TokenLog[], at: number): string | undefined {
  const shown = new Set(logs.map((log) => shownAt(log, at)));
  const [token] = shown;
  return shown.size === 1 && token?.startsWith('ey') ? token : undefined;
}

/**
 * The token every log shows now and since when, or undefined while they differ: each log's last
 * entry is its change to that token, so the last of those is when the pages came to agree.
 */
function agreedSince(logs: TokenLog[]): { token: string; since: number } | undefined {
  const token = agreedAt(logs, Date.now());
  return token === undefined ? undefined : { token, since: Math.max(...logs.map((log) => log.at(-1)![0])) };
}

/** Waits until every tab shows one token, up to `timeoutMs`; resolves to it and since when. */
function oneToken(tabs: Tab[], timeoutMs: number) {
  return waitFor(`${tabs.map((t) => t.name).join(', ')} to show one token`, timeoutMs, async () => agreedSince(await party.logs(tabs)));
}

/** What each tab shows now, shortened, for a failure message. */
async function describeShown(tabs: Tab[]): Promise<string> {
  const logs = await party.logs(tabs);
  return tabs.map((tab, i) => `${tab.name}: …${logs[i]!.at(-1)?.[1].slice(-8) ?? ''}`).join(', ');
}

beforeAll(async () => {
  example = await startExample(LIFETIME_MS, CHECKS_OFF ? { checkIntervalMs: 0 } : {});
  chromium = await launchChromiumBrowser();
  console.info(`Chromium ${chromium.browser.version()} from ${chromium.found.source}: ${chromium.found.executablePath}; checks ${CHECKS_OFF ? 'off' : 'on'}`);
  party = createParty(chromium.browser, example.baseUrl);
});

afterAll(async () => {
  await chromium?.close();
  await example?.close();
});

describe('a party whose proxy store loses every room stays one session, in Chromium', () => {
  it('starts as one session: two participants, one with two tabs, on the token of one CAS call', async () => {
    await party.join('A', 2);
    await party.join('B', 1);
    const tabs = party.tabs();
    const agreed = await oneToken(tabs, 30_000);
    partyToken = agreed.token;
    for (const tab of tabs) watchedFrom.set(tab, Date.now());

    expect(example.mockCas.calls).toBe(1);
    expect(party.requests().filter((r) => r.participant === 'A')).toHaveLength(1);
  });

  it('gives a newcomer who joins after the loss the party’s token, put back from a seal at the party’s first check, with no CAS call', async () => {
    const tabs = party.tabs();
    const casCalls = example.mockCas.calls;
    const lostAt = Date.now();
    // As a developer trying the demo would: the button in one of the party's pages.
    await tabs[0]!.page.getByTestId('lose-rooms').click();
    await tabs[0]!.page.getByTestId('store-losses').waitFor({ timeout: 5_000 });
    // The party's first check after the loss, answered: it puts the token back. With the
    // checks off none comes, and the newcomer joins anyway once a check would have.
    const check = await waitFor('a check after the loss', CHECK_MS + 4_000, () =>
      party.requests(lostAt).find((r) => r.held && r.status === 200),
    ).catch(() => undefined);
    const joinedAt = Date.now();
    const newcomer = await party.join('C', 1);
    const everyone = [...tabs, ...newcomer.tabs];
    const agreed = await oneToken(everyone, CONVERGE_MS).catch(async (error: Error) => {
      throw new Error(`${error.message} Shown: ${await describeShown(everyone)}.`);
    });
    console.info(
      `store lost; ${check ? `${check.tab} checked ${check.at - lostAt} ms later` : 'no check came'}; ` +
        `C joined ${joinedAt - lostAt} ms after the loss and every page showed one token ${agreed.since - lostAt} ms after it; ` +
        `CAS calls ${casCalls} -> ${example.mockCas.calls}`,
    );

    watchedFrom.set(newcomer.tabs[0]!, agreed.since);

    expect(agreed.token).toBe(partyToken);
    expect(example.mockCas.calls).toBe(casCalls);
  });

  it('brings the room back to the party’s session within 10 s of the loss when a newcomer asks before any check: the newcomer switches, at most one CAS call (its own)', async () => {
    const partyTabs = party.tabs();
    const before = partyToken;
    // The newcomer's page is up on another room, so that its first request for the party's
    // room leaves the moment it switches: before any of the party's checks, almost always.
    const newcomer = await party.join('D', 1, '?room=match-day');
    const [d] = newcomer.tabs;
    await d!.page.locator('[data-testid="token"][data-token^="ey"]').waitFor({ timeout: 30_000 });
    const casCalls = example.mockCas.calls;
    const lostAt = Date.now();
    await example.control.loseEveryRoom();
    await d!.page.getByRole('button', { name: /Movie night/ }).click();
    const switchedAt = Date.now();
    const everyone = [...partyTabs, d!];
    await waitFor('one token on every page', CONVERGE_MS + 10_000, async () => {
      const logs = await party.logs(everyone);
      // D's log still ends on its other room's token until its first answer for this one.
      return logs.at(-1)!.at(-1)![0] >= switchedAt ? agreedSince(logs) : undefined;
    }).catch(async (error: Error) => {
      throw new Error(`${error.message} Shown: ${await describeShown(everyone)}.`);
    });
    const logs = await party.logs(everyone);
    const agreed = agreedSince(logs)!;
    const firstCheck = party.requests(lostAt).find((r) => r.participant !== 'D' && r.held);
    const ahead = firstCheck === undefined || firstCheck.at > switchedAt ? 'before any check' : `after ${firstCheck.tab}’s check`;
    console.info(
      `store lost; D asked for the room ${switchedAt - lostAt} ms later, ${ahead}; all ${everyone.length} pages showed ` +
        `${agreed.token === partyToken ? 'the party’s token' : 'the newcomer’s token'} ${agreed.since - lostAt} ms after the loss; ` +
        `CAS calls ${casCalls} -> ${example.mockCas.calls}`,
    );
    partyToken = agreed.token;
    // Its switch from the other room shows no token for a moment: that is no lapse.
    watchedFrom.set(d!, logs.at(-1)!.find(([at, token]) => at >= switchedAt && token !== '')![0]);

    expect(agreed.since - lostAt).toBeLessThanOrEqual(CONVERGE_MS);
    expect(agreed.token).toBe(before);
    expect(example.mockCas.calls - casCalls).toBeLessThanOrEqual(1);
  });

  it('never showed an expired token, nor a blank one after the first, on any page', async () => {
    const tabs = party.tabs();
    const logs = await party.logs(tabs);
    // A tab whose test failed before it set its start counts from its first token.
    const fromOf = (tab: Tab, log: TokenLog) => watchedFrom.get(tab) ?? log.find(([, token]) => token !== '')?.[0] ?? Infinity;
    const found = logs.flatMap((log, i) => lapses(log, fromOf(tabs[i]!, log), Date.now()).map((lapse) => `${tabs[i]!.name}: ${lapse}`));
    const requests = party.participants.map((p) => `${p.name} ${p.requests.length}`).join(', ');
    console.info(`requests to the proxy per participant over the file: ${requests}`);

    expect(found).toEqual([]);
  });

  it('throws no uncaught error in any page', () => {
    expect(party.pageErrors).toEqual([]);
  });
});
