import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromiumBrowser, type LaunchedBrowser } from './support/chromium';
import { startExample, type ExampleServer } from './support/exampleServer';
import { createParty, inFlight, type Participant, type Party } from './support/party';
import { waitFor } from './support/shownTokens';

/**
 * Issue 17, item 5, in real Chromium: while the proxy hangs on CAS, the tabs of one participant
 * must keep to one request in flight between them. Before, a tab that took the room's lock from a
 * sibling whose request hung (it looked frozen) asked the proxy while the sibling's request went
 * on to the proxy's 504, ten seconds later, so every tab ended up with a request of its own in
 * flight.
 *
 * One participant, three tabs of the example (one browser context: real Web Locks and
 * BroadcastChannel), 8-second tokens. The mock CAS hangs (never answers; the proxy gives up after
 * its 10 s timeout with 504 cas-timeout) when the room's token is due: at its rotation, and for a
 * newcomer's first token. Each page records when its code starts and settles every fetch to the
 * proxy (on the one clock the pages share), and the participant's records are laid together.
 *
 * When a tab takes the lock from a sibling stuck in its request, the two requests may overlap for
 * a few tens of ms (measured here: up to 72 ms, in one run of two): the steal reaches each tab in
 * a task of its own, and the new holder may ask the proxy before the old one has heard it must
 * give up. That hand-over is allowed (up to HANDOVER_MS) and every overlap is printed; two
 * requests running side by side, as before, are not.
 *
 * `CROSS_TAB_OFF=1` takes Web Locks away: each tab then asks on its own, and this file must fail.
 */

const LIFETIME_MS = 8_000;
/** Longer than the proxy's CAS timeout (10 s), so requests hang, time out and are retried. */
const HANG_MS = 30_000;
/**
 * After CAS answers again, the proxy's call that hangs still runs to its 10 s timeout, and a
 * failed call is remembered 2 s: the tabs get a token within about 15 s.
 */
const RECOVER_MS = 30_000;
/** The longest two requests of the participant may overlap: a hand-over, not two requests side by side. */
const HANDOVER_MS = 500;

let example: ExampleServer;
let chromium: LaunchedBrowser;
let party: Party;

beforeAll(async () => {
  example = await startExample(LIFETIME_MS);
  chromium = await launchChromiumBrowser();
  console.info(`Chromium ${chromium.browser.version()} from ${chromium.found.source}: ${chromium.found.executablePath}`);
  party = createParty(chromium.browser, example.baseUrl);
});

afterAll(async () => {
  await chromium?.close();
  await example?.close();
});

/** Every tab of `participant` shows one token; resolves to it and when the last tab showed it. */
function oneToken(participant: Participant, since: number, timeoutMs: number) {
  return waitFor(`the tabs of ${participant.name} to show one token`, timeoutMs, async () => {
    const logs = await party.logs(participant.tabs);
    const last = logs.map((log) => log.at(-1));
    const tokens = new Set(last.map((entry) => entry?.[1]));
    const [token] = tokens;
    const at = Math.max(...last.map((entry) => entry?.[0] ?? Infinity));
    return tokens.size === 1 && token?.startsWith('ey') && at >= since ? { token, at } : undefined;
  });
}

/** What the participant's requests came to over [from, to). */
function summary(participant: Participant, from: number, to = Infinity) {
  const sent = participant.requests.filter((r) => r.at >= from && r.at < to);
  const ended = (what: (r: (typeof sent)[number]) => boolean) => sent.filter(what).length;
  return {
    sent: sent.length,
    byTab: participant.tabs.map((tab) => `${tab.name} ${sent.filter((r) => r.tab === tab.name).length}`).join(', '),
    answered: ended((r) => r.status === 200),
    failed: ended((r) => r.status !== undefined && r.status !== 200),
    aborted: ended((r) => r.failure !== undefined),
  };
}

describe('three tabs of one participant keep to one request in flight while the proxy hangs, in Chromium', () => {
  it('at the room’s rotation: one request at a time (but for a hand-over) for 30 s of hanging, then all three tabs show one new token', async () => {
    const p = await party.join('P', 3);
    const before = await oneToken(p, 0, 30_000);
    await example.control.casMode('hang');
    const hungAt = Date.now();
    await sleep(HANG_MS);
    const healedAt = Date.now();
    await example.control.casMode('ok');
    const after = await oneToken(p, healedAt, RECOVER_MS);
    const seen = summary(p, hungAt, healedAt);
    const flight = inFlight(await p.fetches(), hungAt, Date.now());
    console.info(
      `hung ${((healedAt - hungAt) / 1000).toFixed(1)} s: ${seen.sent} requests (${seen.byTab}), ${seen.failed} answered with an error, ` +
        `${seen.aborted} given up by a tab whose lock a sibling took; most in flight at once ${flight.peak}` +
        `${flight.overlapsMs.length ? ` (overlaps: ${flight.overlapsMs.join(', ')} ms)` : ''}; ` +
        `all tabs showed one new token ${after.at - healedAt} ms after CAS answered again`,
    );

    expect(flight.overlapsMs.filter((ms) => ms > HANDOVER_MS)).toEqual([]);
    expect(flight.peak).toBeLessThanOrEqual(2);
    // The hang met a renewal, and a sibling took over from the tab stuck in it.
    expect(seen.sent).toBeGreaterThanOrEqual(2);
    expect(after.token).not.toBe(before.token);
    await p.context.close();
  });

  it('for a newcomer’s first token: one request at a time while its three tabs open and CAS hangs, then one token for all', async () => {
    await example.control.casMode('hang');
    const hungAt = Date.now();
    // A room nobody holds yet, so the proxy must ask CAS.
    const q = await party.join('Q', 3, '?room=anime-club');
    await sleep(HANG_MS - (Date.now() - hungAt));
    const healedAt = Date.now();
    await example.control.casMode('ok');
    const after = await oneToken(q, healedAt, RECOVER_MS);
    const seen = summary(q, hungAt, healedAt);
    const flight = inFlight(await q.fetches(), hungAt, Date.now());
    console.info(
      `hung ${((healedAt - hungAt) / 1000).toFixed(1)} s: ${seen.sent} requests (${seen.byTab}), ${seen.failed} answered with an error, ` +
        `${seen.aborted} given up; most in flight at once ${flight.peak}` +
        `${flight.overlapsMs.length ? ` (overlaps: ${flight.overlapsMs.join(', ')} ms)` : ''}; ` +
        `all tabs showed one token ${after.at - healedAt} ms after CAS answered again`,
    );

    // No token held, so no tab takes the lock from another before its request has had its time.
    expect(flight.peak).toBe(1);
    expect(seen.sent).toBeGreaterThanOrEqual(2);
    await q.context.close();
  });

  it('throws no uncaught error in any page', () => {
    expect(party.pageErrors).toEqual([]);
  });
});
