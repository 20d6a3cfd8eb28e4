import { describe, expect, it } from 'vitest';
import { CasTokenError } from '../../src/core/CasTokenError';
import { computeRefreshAt, MIN_RENEWAL_GAP_MS } from '../../src/core/refreshTiming';
import { UNUSABLE_ANSWER_ATTEMPTS } from '../../src/core/retryPolicy';
import { nextStep, recordFailure, recordWake, stealAt, WAKE_RETRY_GAP_MS, type ScheduleInput } from '../../src/core/tokenSchedule';

const NEVER = Number.POSITIVE_INFINITY;
const base: ScheduleInput = { now: 1_000, consumers: 1, inFlight: false, held: undefined, failure: undefined };
const held = { expiresAt: 10_000, refreshAt: 8_000 };
const fixedDelay = { retryDelay: 500 };

describe('nextStep', () => {
  it('asks for a token at once when it holds none', () => {
    expect(nextStep(base)).toEqual({ action: 'fetch', wakeAt: NEVER });
  });

  it('does nothing, and wakes nobody, while no component reads the token', () => {
    expect(nextStep({ ...base, consumers: 0 })).toEqual({ action: 'none', wakeAt: NEVER });
    expect(nextStep({ ...base, consumers: 0, held, now: 9_000 })).toEqual({ action: 'none', wakeAt: NEVER });
  });

  it('waits for renewal time, waking then', () => {
    expect(nextStep({ ...base, held })).toEqual({ action: 'none', wakeAt: 8_000 });
    expect(nextStep({ ...base, held, now: 8_000 })).toEqual({ action: 'fetch', wakeAt: 10_000 });
  });

  it('wakes consumers when the held token expires even while a request is in flight', () => {
    expect(nextStep({ ...base, held, now: 8_500, inFlight: true })).toEqual({ action: 'none', wakeAt: 10_000 });
    expect(nextStep({ ...base, held, now: 10_000, inFlight: true })).toEqual({ action: 'none', wakeAt: NEVER });
  });

  it('retries at the failure’s retry time, and not before', () => {
    expect(nextStep({ ...base, failure: { retryAt: 3_000 } })).toEqual({ action: 'none', wakeAt: 3_000 });
    expect(nextStep({ ...base, now: 3_000, failure: { retryAt: 3_000 } })).toEqual({ action: 'fetch', wakeAt: NEVER });
  });

  it('keeps waking at expiry while a failed renewal waits for its retry', () => {
    expect(nextStep({ ...base, held, now: 8_100, failure: { retryAt: 12_000 } })).toEqual({ action: 'none', wakeAt: 10_000 });
  });

  it('never asks again after a failure with no retry planned', () => {
    expect(nextStep({ ...base, failure: { retryAt: undefined } })).toEqual({ action: 'none', wakeAt: NEVER });
  });
});

describe('recordFailure', () => {
  const network = new CasTokenError('network', 'offline');

  it('counts failures in a row and plans the retry from the failure time', () => {
    const first = recordFailure(undefined, network, 1_000, { retryDelay: (count) => count * 100 });
    const second = recordFailure(first, network, 2_000, { retryDelay: (count) => count * 100 });
    expect(first).toMatchObject({ count: 1, at: 1_000, retryAt: 1_100 });
    expect(second).toMatchObject({ count: 2, at: 2_000, retryAt: 2_200 });
  });

  it(`plans no retry after ${UNUSABLE_ANSWER_ATTEMPTS} unusable answers in a row`, () => {
    const invalid = new CasTokenError('invalid-token', 'expired');
    let state = recordFailure(undefined, invalid, 0, fixedDelay);
    for (let attempt = 2; attempt <= UNUSABLE_ANSWER_ATTEMPTS; attempt++) {
      expect(state.retryAt).toBeDefined();
      state = recordFailure(state, invalid, attempt * 1_000, fixedDelay);
    }
    expect(state).toMatchObject({ count: UNUSABLE_ANSWER_ATTEMPTS, unusable: UNUSABLE_ANSWER_ATTEMPTS, retryAt: undefined });
  });

  it('starts counting unusable answers afresh after another kind of failure', () => {
    const invalid = new CasTokenError('invalid-response', 'html');
    let state = recordFailure(undefined, invalid, 0, fixedDelay);
    state = recordFailure(state, network, 1_000, fixedDelay);
    state = recordFailure(state, invalid, 2_000, fixedDelay);
    expect(state).toMatchObject({ count: 3, unusable: 1, retryAt: 2_500 });
  });

  it('plans no retry after a refusal', () => {
    expect(recordFailure(undefined, new CasTokenError('unauthorized', 'no', { status: 401 }), 0).retryAt).toBeUndefined();
  });
});

describe('recordWake', () => {
  const refused = recordFailure(undefined, new CasTokenError('unauthorized', 'no'), 1_000);

  it('retries a standing error at once on wake-up', () => {
    expect(recordWake(refused, 5_000)?.retryAt).toBe(5_000);
  });

  it('brings a far retry forward, but not closer than a second after the failure', () => {
    const failing = recordFailure(undefined, new CasTokenError('network', 'offline'), 1_000, { retryDelay: 60_000 });
    expect(recordWake(failing, 30_000)?.retryAt).toBe(30_000);
    expect(recordWake(failing, 1_200)?.retryAt).toBe(1_000 + WAKE_RETRY_GAP_MS);
  });

  it('leaves a sooner retry, a wrong setting, and no failure as they are', () => {
    const soon = recordFailure(undefined, new CasTokenError('network', 'offline'), 1_000, { retryDelay: 100 });
    expect(recordWake(soon, 1_050)).toBe(soon);
    const misconfigured = recordFailure(undefined, new CasTokenError('invalid-config', 'no fetcher'), 0);
    expect(recordWake(misconfigured, 5_000)).toBe(misconfigured);
    expect(recordWake(undefined, 5_000)).toBeUndefined();
  });
});

describe('computeRefreshAt with the proxy’s rotation time', () => {
  it('renews when the proxy rotates the room’s token, before the client’s own lead', () => {
    expect(computeRefreshAt(0, 3_600_000, 60_000, 3_300_000)).toBe(3_300_000);
  });

  it('never renews later than its own lead before expiry', () => {
    expect(computeRefreshAt(0, 3_600_000, 60_000, 3_590_000)).toBe(3_540_000);
  });

  it(`waits at least ${MIN_RENEWAL_GAP_MS} ms after arrival, so refreshIn: 0 cannot drive a loop`, () => {
    expect(computeRefreshAt(5_000, 3_600_000, 60_000, 5_000)).toBe(5_000 + MIN_RENEWAL_GAP_MS);
  });

  it('renews a token without exp at the rotation time', () => {
    expect(computeRefreshAt(0, NEVER, 60_000, 3_600_000)).toBe(3_600_000);
  });
});

describe('nextStep with sibling tabs', () => {
  const tabs = (lock: 'none' | 'waiting' | 'held', rest: { stealAt?: number } = {}) => ({ lock, stealAt: rest.stealAt ?? NEVER });

  it('asks for the lock when a token is due, instead of the proxy', () => {
    expect(nextStep({ ...base, tabs: tabs('none') })).toEqual({ action: 'lock', wakeAt: NEVER });
  });

  it('holding the lock (its siblings asked), asks the proxy', () => {
    expect(nextStep({ ...base, tabs: tabs('held') }).action).toBe('fetch');
  });

  it('granted the lock and asking its siblings, neither steals nor asks the proxy', () => {
    expect(nextStep({ ...base, tabs: tabs('waiting') })).toEqual({ action: 'none', wakeAt: NEVER });
  });

  it('lets the lock go, or stops waiting, once nothing is due (a sibling’s token arrived)', () => {
    expect(nextStep({ ...base, held, tabs: tabs('held') })).toEqual({ action: 'release', wakeAt: 8_000 });
    expect(nextStep({ ...base, held, tabs: tabs('waiting', { stealAt: 9_000 }) })).toEqual({ action: 'release', wakeAt: 8_000 });
  });

  it('waits for the holder until the steal deadline, then takes the lock', () => {
    const due = { ...base, held, now: 8_000 };
    expect(nextStep({ ...due, tabs: tabs('waiting', { stealAt: 9_000 }) })).toEqual({ action: 'none', wakeAt: 9_000 });
    expect(nextStep({ ...due, now: 9_000, tabs: tabs('waiting', { stealAt: 9_000 }) })).toEqual({ action: 'steal', wakeAt: 10_000 });
  });

  it('does nothing while its own request is in flight', () => {
    expect(nextStep({ ...base, inFlight: true, tabs: tabs('held') }).action).toBe('none');
  });

  it('lets the lock go when the last consumer leaves', () => {
    expect(nextStep({ ...base, consumers: 0, tabs: tabs('held') }).action).toBe('release');
    expect(nextStep({ ...base, consumers: 0, tabs: tabs('none') }).action).toBe('none');
  });
});

describe('stealAt', () => {
  it('stops waiting for a lock holder halfway from renewal to expiry', () => {
    expect(stealAt({ refreshAt: 30_000, expiresAt: 60_000 }, 30_000, 31_000)).toBe(45_000);
  });

  it('never later than a request could take, never sooner than a second from now', () => {
    expect(stealAt({ refreshAt: 3_540_000, expiresAt: 3_600_000 }, 3_540_000, 31_000)).toBe(3_570_000);
    expect(stealAt({ refreshAt: 0, expiresAt: 100_000_000 }, 0, 31_000)).toBe(31_000);
    expect(stealAt({ refreshAt: 59_500, expiresAt: 60_000 }, 59_900, 31_000)).toBe(60_900);
  });

  it('without a token, waits as long as a request could take', () => {
    expect(stealAt(undefined, 1_000, 31_000)).toBe(32_000);
  });
});
