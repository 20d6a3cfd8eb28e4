// @vitest-environment node
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecipes, ROOT } from '../support/recipes';

/**
 * Every code block marked `<!-- recipe: name -->` in the README, CONTRIBUTING.md or a docs page
 * is run, as printed, by the test named here. A recipe nobody runs is a guess; this keeps the
 * list honest both ways.
 */
const RUN_BY: Record<string, string> = {
  'quickstart-server': 'test/readme/quickstart.test.tsx',
  'quickstart-client': 'test/readme/quickstart.test.tsx',
  'next-route': 'test/browser/nextApp.test.ts',
  'next-provider': 'test/browser/nextApp.test.ts',
  'next-video': 'test/browser/nextApp.test.ts',
  'next-page': 'test/browser/nextApp.test.ts',
  'next-route-lazy': 'test/browser/nextApp.test.ts',
  'react-router-routes': 'test/browser/reactRouterApp.test.ts',
  'react-router-resource-route': 'test/browser/reactRouterApp.test.ts',
  'react-router-room': 'test/browser/reactRouterApp.test.ts',
  'react-router-entry-server': 'test/browser/reactRouterApp.test.ts',
  'react-router-entry-client': 'test/browser/reactRouterApp.test.ts',
  'next-error': 'test/browser/nextApp.test.ts',
  hono: 'test/server/readmeRecipes.test.ts',
  express: 'test/server/readmeRecipes.test.ts',
  'vite-dev-server': 'test/build/viteDevServer.test.ts',
  'node-redis': 'test/server/readmeRedisRecipes.test.ts',
  ioredis: 'test/server/readmeRedisRecipes.test.ts',
  upstash: 'test/server/readmeRedisRecipes.test.ts',
  'test/testing/recipes/testingLibrary.test.tsx': 'test/testing/readmeRecipes.test.ts',
  'test/testing/recipes/msw.test.tsx': 'test/testing/readmeRecipes.test.ts',
  'test/fixtures/jest-app/jest.config.mjs': 'test/build/jestApp.test.ts',
  'test/fixtures/jest-app/testingLibrary.test.tsx': 'test/build/jestApp.test.ts',
  'test/fixtures/jest-app/msw.test.tsx': 'test/build/jestApp.test.ts',
  'stories/CallBadge.stories.tsx': 'test/testing/readmeRecipes.test.ts',
  'stories/CallBadge.msw.stories.tsx': 'test/testing/readmeRecipes.test.ts',
};

describe('the recipes of the README and the docs', () => {
  it('are each marked once, with a code block after the marker (the reader throws otherwise)', () => {
    expect(readRecipes().size).toBeGreaterThan(0);
  });

  it('are all run by a test, and every recipe a test runs is printed on a page', () => {
    expect([...readRecipes().keys()].sort()).toEqual(Object.keys(RUN_BY).sort());
  });

  it.each(Object.entries(RUN_BY))('%s is read by %s', (name, test) => {
    const source = readFileSync(resolve(ROOT, test), 'utf8');
    // By name, or (the path-named recipes) by reading every recipe whose name is a path.
    expect(source.includes(name) || source.includes("name.includes('/')")).toBe(true);
  });
});
