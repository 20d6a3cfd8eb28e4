import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig([
  globalIgnores([
    'dist/',
    'node_modules/',
    'example/dist/',
    '.screenshots/',
    'coverage/',
    'storybook-static/',
    '.storybook/public/',
    // What `next build` writes in the Next.js fixture.
    'test/fixtures/next-app/.next/',
    'test/fixtures/next-app/next-env.d.ts',
    // What `react-router build` and `react-router typegen` write in the React Router fixture.
    'test/fixtures/react-router-app/build/',
    'test/fixtures/react-router-app/.react-router/',
    // An older commit's source and build, for the faults bench's "before" (bench/faultsBefore.mjs).
    'bench/.before/',
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx,js,mjs,cjs}'],
    languageOptions: {
      ecmaVersion: 2022,
      globals: { ...globals.browser, ...globals.node },
    },
    rules: {
      // An unused binding is usually a bug; a leading underscore says it is on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['**/*.{ts,tsx}'],
    extends: [reactHooks.configs.flat.recommended],
  },
  {
    // Test and bench components record every render into variables outside them on purpose:
    // that record is what the test asserts on.
    files: ['test/**/*.{ts,tsx}', 'bench/**/*.{ts,tsx}'],
    rules: { 'react-hooks/globals': 'off' },
  },
  {
    // The proxy runs on servers and edge runtimes: no browser globals there.
    files: ['src/server/**/*.ts'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^react($|-dom|/)', message: 'src/server must not import React.' }] },
      ],
    },
  },
  {
    // The core and the client run in browsers: no node built-ins.
    files: ['src/*.{ts,tsx}', 'src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^node:', message: 'The client and the core must not import node built-ins.' }] },
      ],
    },
  },
  {
    // Tests and stories import it in jsdom, browsers and Storybook: MSW and Storybook are the
    // user's own, and its network mock is plain Fetch API.
    files: ['src/testing/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^node:', message: 'react-cas-token/testing must not import node built-ins.' },
            { regex: '^(msw|msw-storybook-addon)($|/)', message: 'react-cas-token/testing must not import MSW: users bring their own.' },
            { regex: '^(storybook|@storybook/)', message: 'react-cas-token/testing must not import Storybook: its helpers are typed by shape.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^node:', message: 'src/core is plain TypeScript: no node built-ins.' },
            { regex: '^react($|-dom|/)', message: 'src/core is plain TypeScript: no React.' },
            { regex: '^@tanstack/', message: 'src/core is plain TypeScript: no react-query.' },
          ],
        },
      ],
    },
  },
]);
