import { afterEach } from 'vitest';
import { cleanup } from '@testing-library/react';

// Vitest runs without globals, so Testing Library cannot register its own cleanup: unmount
// every tree after each test, or its providers keep timers running into the next one.
afterEach(() => cleanup());
