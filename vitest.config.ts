import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

const root = import.meta.dirname;

// Tests import the public API by its package names. The unit project maps them to the source;
// the dist project maps them to the built files, so the suite also proves what users install.
const sourceAlias = {
  'react-cas-token/server': `${root}/src/server/index.ts`,
  'react-cas-token/testing': `${root}/src/testing/index.ts`,
  'react-cas-token': `${root}/src/index.ts`,
};
const distAlias = {
  'react-cas-token/server': `${root}/dist/server.js`,
  'react-cas-token/testing': `${root}/dist/testing.js`,
  'react-cas-token': `${root}/dist/index.js`,
};

const unitTests = ['test/**/*.test.{ts,tsx}'];
// test/build reads the built package, test/browser drives the example in Chromium.
// test/fixtures holds apps that other runners run (Next.js, Jest), from the built package.
const notUnit = ['test/browser/**', 'test/build/**', 'test/fixtures/**'];

export default defineConfig({
  plugins: [react()],
  test: {
    projects: [
      {
        extends: true,
        resolve: { alias: sourceAlias },
        test: {
          name: 'unit',
          include: unitTests,
          exclude: notUnit,
          environment: 'jsdom',
          setupFiles: ['test/setup.ts'],
          restoreMocks: true,
        },
      },
      {
        extends: true,
        resolve: { alias: distAlias },
        test: {
          name: 'dist',
          include: unitTests,
          // The child processes of test/server/faultKit.tsx run the built server entry too.
          env: { CAS_TOKEN_SERVER_MODULE: `${root}/dist/server.js` },
          // test/internal checks modules that are not part of the public API.
          exclude: ['test/browser/**', 'test/internal/**', 'test/fixtures/**'],
          environment: 'jsdom',
          setupFiles: ['test/setup.ts'],
          restoreMocks: true,
        },
      },
      {
        extends: true,
        resolve: { alias: sourceAlias },
        test: {
          name: 'types',
          include: [],
          typecheck: { enabled: true, only: true, include: ['test/**/*.test-d.{ts,tsx}'], tsconfig: './tsconfig.json' },
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
