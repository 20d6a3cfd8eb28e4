import { describe, expect, it } from 'vitest';
import { computeRefreshAt } from '../../src/core/refreshTiming';

const MINUTE = 60_000;

describe('computeRefreshAt', () => {
  it('renews a one-hour token the lead time before it expires', () => {
    expect(computeRefreshAt(0, 60 * MINUTE, MINUTE)).toBe(59 * MINUTE);
  });

  it('renews a token shorter than twice the lead at half of what it had left', () => {
    expect(computeRefreshAt(1_000, 11_000, MINUTE)).toBe(6_000);
  });

  it('never renews a token that carries no expiry', () => {
    expect(computeRefreshAt(0, Number.POSITIVE_INFINITY, MINUTE)).toBe(Number.POSITIVE_INFINITY);
  });

  it('treats a negative lead as none', () => {
    expect(computeRefreshAt(0, 60 * MINUTE, -5)).toBe(60 * MINUTE);
  });
});
