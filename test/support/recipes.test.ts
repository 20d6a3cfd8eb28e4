// @vitest-environment node
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { documentationPages, readRecipes } from './recipes';

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'react-cas-token-recipes-'));
  mkdirSync(join(root, 'docs'));
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

function page(path: string, text: string): void {
  writeFileSync(join(root, path), text);
}

const block = (name: string, code: string, language = 'ts') => `<!-- recipe: ${name} -->\n\`\`\`${language}\n${code}\n\`\`\`\n`;

describe('the recipe reader', () => {
  it('reads the README, CONTRIBUTING.md and every docs page, and says on which page each recipe is', () => {
    page('README.md', `# Title\n\n${block('quickstart', 'export const a = 1;')}`);
    page('CONTRIBUTING.md', block('bench', 'npm run bench', 'sh'));
    page('docs/frameworks.md', `Text\n\n${block('hono', 'app.get();\nserve();')}`);
    page('docs/notes.txt', block('ignored', 'not a page'));

    expect(documentationPages(root)).toEqual(['README.md', 'CONTRIBUTING.md', 'docs/frameworks.md']);
    expect([...readRecipes(root).values()]).toEqual([
      { name: 'quickstart', page: 'README.md', language: 'ts', code: 'export const a = 1;\n' },
      { name: 'bench', page: 'CONTRIBUTING.md', language: 'sh', code: 'npm run bench\n' },
      { name: 'hono', page: 'docs/frameworks.md', language: 'ts', code: 'app.get();\nserve();\n' },
    ]);
  });

  it('fails on a recipe marked on two pages, naming both', () => {
    page('README.md', block('hono', 'a();'));
    page('docs/frameworks.md', block('hono', 'b();'));

    expect(() => readRecipes(root)).toThrow('The recipe hono is marked in README.md and in docs/frameworks.md');
  });

  it('fails on a recipe marked twice on one page', () => {
    page('docs/server.md', block('express', 'a();') + block('express', 'b();'));

    expect(() => readRecipes(root)).toThrow('The recipe express is marked twice in docs/server.md');
  });

  it('takes a marker on a line of its own only, not one quoted in a sentence', () => {
    page('CONTRIBUTING.md', 'A block marked `<!-- recipe: name -->` is run by a test.\n\n' + block('real', 'x();'));

    expect([...readRecipes(root).keys()]).toEqual(['real']);
  });

  it('fails on a marker with no code block right after it, naming the page', () => {
    page('docs/redis.md', '<!-- recipe: upstash -->\n\nSome text first.\n\n```ts\nx();\n```\n');

    expect(() => readRecipes(root)).toThrow('docs/redis.md: no code block right after <!-- recipe: upstash -->');
  });
});
