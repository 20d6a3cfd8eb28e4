/*
 * Issue 17, items 5 and 6, with proxy instances in Node processes of their own on one real
 * redis-server (see faultKit.tsx; they run the same build of the package as the rest of the
 * test): one killed while it holds a room's lock mid-CAS-call, and instances whose clocks are
 * minutes apart, with real clients through several rotations.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockSkew, lockHolderKilled, packageUnderTest, removeServerBuild, ROTATION_SWITCH_MS, type PackageUnderTest } from './faultKit';

let pkg: PackageUnderTest;
beforeAll(async () => {
  pkg = await packageUnderTest();
}, 60_000);
afterAll(removeServerBuild);

describe('an instance killed (SIGKILL) while it holds a room\'s lock, waiting for CAS', () => {
  it("frees the room within the lock's lease (about 3 s), not the whole operation's 14 s: another instance serves it, and its clients", async ({ annotate }) => {
    const result = await lockHolderKilled({ pkg, watchMs: 8_000 });
    await annotate(
      `served ${result.servedAfterMs} ms after the kill (direct request), every client ${result.partyServedAfterMs} ms after; ` +
        `${result.casCalls} CAS calls, ${result.proxyRequests} requests, no-token ${result.noTokenMs} client-ms`,
    );

    expect(result.lockSeen).toMatch(/"lock"/);
    expect(result.servedAfterMs).toBeDefined();
    expect(result.servedAfterMs!).toBeLessThan(6_000);
    expect(result.partyServedAfterMs).toBeDefined();
    expect(result.partyServedAfterMs!).toBeLessThan(6_000);
    expect(result.tokens).toHaveLength(1);
    expect(result.casCalls).toBe(1);
  }, 40_000);
});

describe('instances whose clocks are 5 minutes ahead and behind, on one Redis', () => {
  it('hand out one token per room at every moment through several rotations, one CAS call each, and the skewed ones name their offset', async ({ annotate }) => {
    // 20 s tokens: the proxy rotates them every 10 s.
    const result = await clockSkew({ pkg, offsetsMs: [300_000, -300_000, 0], tokenLifetimeMs: 20_000, clients: 6, watchMs: 26_000 });
    const named = result.instances.map(({ name, lines, failures }) => `${name}: ${failures} failures, ${lines.map(({ message }) => message.slice(0, 80)).join(' | ') || 'nothing logged'}`);
    await annotate(
      `${result.tokens.length} tokens, ${result.casCalls} CAS calls; split ${result.splitMs} ms beyond the ${ROTATION_SWITCH_MS} ms switch; ` +
        `no-token ${result.noTokenMs} client-ms; ${result.proxyRequests} requests; ${named.join('; ')}`,
    );

    expect(result.expiredSamples).toBe(0);
    expect(result.splits).toEqual([]);
    expect(result.tokens.length).toBeGreaterThanOrEqual(3);
    expect(result.casCalls).toBe(result.tokens.length);
    // The clients' first requests only: nobody lost a token on the way.
    expect(result.noTokenMs).toBeLessThan(6 * 1_000);
    expect(result.instances.map(({ failures }) => failures)).toEqual([0, 0, 0]);
    const warnings = (offset: number) => result.instances.find(({ offsetMs }) => offsetMs === offset)!.lines.map(({ message }) => message);
    expect(warnings(300_000)).toEqual([expect.stringContaining("This server's clock is 300 s ahead of the token store's")]);
    expect(warnings(-300_000)).toEqual([expect.stringContaining("This server's clock is 300 s behind the token store's")]);
    expect(warnings(0)).toEqual([]);
  }, 60_000);
});
