// @vitest-environment node
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const README = readFileSync(resolve(ROOT, 'README.md'), 'utf8');

/**
 * The README's code blocks marked `<!-- recipe: <path> -->` are files of this repository that the
 * suite runs: tests under test/ (Vitest, against the source and against dist), the Jest project
 * under test/fixtures/jest-app (run by Jest through test/build/jestApp.test.ts), stories under
 * stories/ (built and checked in Chromium by test/browser/storybook.test.ts). The README copy must
 * be the file, byte for byte, so the README cannot drift from what runs.
 */
function recipes(markdown: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of markdown.matchAll(/<!-- recipe: (\S+) -->\n```[a-z]*\n([\s\S]*?)\n```/g)) {
    found.set(match[1]!, `${match[2]!}\n`);
  }
  return found;
}

// Recipes named by a path are files of the suite; the others (next, hono, redis, ...) are run
// by the tests of their own part.
const found = new Map([...recipes(README)].filter(([name]) => name.includes('/')));

describe('the README "Testing and stories" recipes', () => {
  it('has a Testing Library test, an MSW test, a Jest project and stories, each marked with the file it is', () => {
    expect([...found.keys()]).toEqual([
      'test/testing/recipes/testingLibrary.test.tsx',
      'test/testing/recipes/msw.test.tsx',
      'test/fixtures/jest-app/jest.config.mjs',
      'test/fixtures/jest-app/testingLibrary.test.tsx',
      'test/fixtures/jest-app/msw.test.tsx',
      'stories/CallBadge.stories.tsx',
      'stories/CallBadge.msw.stories.tsx',
    ]);
    expect(README.match(/<!-- recipe: \S*\/\S* -->/g)).toHaveLength(found.size);
  });

  it.each([...found])('prints %s exactly as the file the suite runs', (path, block) => {
    expect(path).toMatch(/^(test\/.+\.test\.tsx?|test\/fixtures\/jest-app\/jest\.config\.mjs|stories\/[^/]+\.stories\.tsx)$/);
    expect(block).toBe(readFileSync(resolve(ROOT, path), 'utf8'));
  });
});
