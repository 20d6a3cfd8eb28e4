import { describe, expect, it } from 'vitest';
import { inFlight } from './party';

describe('counting a participant’s requests in flight from its pages’ records', () => {
  it('counts one for requests one after another, one starting the instant the last settled', () => {
    expect(inFlight([[0, 100], [100, 200], [300, 400]], 0, 1_000)).toEqual({ peak: 1, overlapsMs: [] });
  });

  it('counts two, and how long, for requests that overlap; three for three', () => {
    expect(inFlight([[0, 100], [60, 200], [500, 900], [800, 1_000]], 0, 1_000)).toEqual({ peak: 2, overlapsMs: [40, 100] });
    expect(inFlight([[0, 100], [10, 100], [20, 100]], 0, 1_000)).toEqual({ peak: 3, overlapsMs: [90] });
  });

  it('counts a request still open as in flight to the end of the window, and nothing outside it', () => {
    expect(inFlight([[0, null], [500, 600]], 0, 1_000)).toEqual({ peak: 2, overlapsMs: [100] });
    expect(inFlight([[0, 100], [50, 150]], 200, 1_000)).toEqual({ peak: 0, overlapsMs: [] });
  });
});
