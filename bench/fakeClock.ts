import { vi } from 'vitest';

// Runs before the bench file imports React, so React's scheduler (which keeps its own reference
// to setImmediate) and react-query's batching run on the fake clock too. Every render then
// happens at the simulated moment it would happen in a browser, without act() batching
// unrelated updates together.
vi.useFakeTimers({ now: Date.UTC(2025, 0, 1), shouldAdvanceTime: false });
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;
