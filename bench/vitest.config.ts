import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

const root = `${import.meta.dirname}/..`;

// The benchmarks measure what users install: the package names resolve to the built dist.
const distAlias = {
  'react-cas-token/server': `${root}/dist/server.js`,
  'react-cas-token/testing': `${root}/dist/testing.js`,
  'react-cas-token': `${root}/dist/index.js`,
};

// One file at a time: a load test sharing two cores with a render test would measure both badly.
export default defineConfig({
  root,
  plugins: [react()],
  resolve: { alias: distAlias },
  test: {
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 90_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: 'bench-client', include: ['bench/client/**/*.measure.{ts,tsx}'], environment: 'jsdom', setupFiles: ['bench/fakeClock.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'bench-server',
          include: ['bench/server/**/*.measure.ts'],
          environment: 'node',
          // So the memory figure is the heap after a full collection, not whatever the GC left.
          execArgv: ['--expose-gc'],
        },
      },
    ],
  },
});
