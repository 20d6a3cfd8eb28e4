// @vitest-environment node
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecipes, ROOT } from '../support/recipes';

/**
 * The code blocks marked `<!-- recipe: <path> -->` (in the README or a docs page) are files of
 * this repository that the suite runs: tests under test/ (Vitest, against the source and against
 * dist), the Jest project under test/fixtures/jest-app (run by Jest through
 * test/build/jestApp.test.ts), stories under stories/ (built and checked in Chromium by
 * test/browser/storybook.test.ts). The printed copy must be the file, byte for byte, so the
 * documentation cannot drift from what runs.
 */
// Recipes named by a path are files of the suite; the others (next, hono, redis, ...) are run
// by the tests of their own part.
const found = new Map([...readRecipes()].filter(([name]) => name.includes('/')).map(([name, recipe]) => [name, recipe.code]));

describe('the "Testing and stories" recipes', () => {
  it('has a Testing Library test, an MSW test, a Jest project and stories, each marked with the file it is', () => {
    expect([...found.keys()].sort()).toEqual([
      'stories/CallBadge.msw.stories.tsx',
      'stories/CallBadge.stories.tsx',
      'test/fixtures/jest-app/jest.config.mjs',
      'test/fixtures/jest-app/msw.test.tsx',
      'test/fixtures/jest-app/testingLibrary.test.tsx',
      'test/testing/recipes/msw.test.tsx',
      'test/testing/recipes/testingLibrary.test.tsx',
    ]);
  });

  it.each([...found])('prints %s exactly as the file the suite runs', (path, block) => {
    expect(path).toMatch(/^(test\/.+\.test\.tsx?|test\/fixtures\/jest-app\/jest\.config\.mjs|stories\/[^/]+\.stories\.tsx)$/);
    expect(block).toBe(readFileSync(resolve(ROOT, path), 'utf8'));
  });
});
