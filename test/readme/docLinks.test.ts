// @vitest-environment node
/*
 * Every relative link between the documentation's pages (README.md, CONTRIBUTING.md, docs/*.md)
 * points to a file that exists and, with an `#anchor`, to a heading of that page, as GitHub
 * names its anchors. A page moved or a heading reworded breaks a link here, not for a reader.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { documentationPages, ROOT } from '../support/recipes';

/** The page's text without fenced code blocks and inline code, where a `[x](y)` is not a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped (not `-` or `_`), spaces as `-`. */
function anchorOf(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a page's headings; a repeated heading gets `-1`, `-2`, ... as on GitHub. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = anchorOf(heading!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

interface Link {
  page: string;
  target: string;
}

function relativeLinks(page: string): Link[] {
  const text = prose(readFileSync(join(ROOT, page), 'utf8'));
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .map((target) => ({ page, target }));
}

/** What is wrong with a link, or undefined when it resolves. */
function problemWith({ page, target }: Link): string | undefined {
  const [path, anchor] = target.split('#') as [string, string | undefined];
  const file = path === '' ? join(ROOT, page) : join(ROOT, dirname(page), decodeURIComponent(path));
  if (!existsSync(file)) return `${page}: ${target} points to ${relative(ROOT, file)}, which does not exist`;
  if (anchor === undefined) return undefined;
  if (!file.endsWith('.md')) return `${page}: ${target} has an anchor into a file that is not a page`;
  if (!anchorsOf(readFileSync(file, 'utf8')).has(anchor)) {
    return `${page}: ${target} names no heading of ${relative(ROOT, file)}`;
  }
  return undefined;
}

describe('the links between the documentation pages', () => {
  const pages = documentationPages();
  const links = pages.flatMap(relativeLinks);

  it('are read from the README, CONTRIBUTING.md and every docs page', () => {
    expect(pages).toEqual(expect.arrayContaining(['README.md', 'CONTRIBUTING.md', 'docs/server.md']));
    expect(links.length).toBeGreaterThan(50);
  });

  it('each point to an existing file and, with an #anchor, to a heading there', () => {
    expect(links.map(problemWith).filter(Boolean)).toEqual([]);
  });

  it('link every docs page from the README, and back to it', () => {
    const fromReadme = new Set(relativeLinks('README.md').map((link) => link.target.split('#')[0]));
    for (const page of pages.filter((name) => name.startsWith('docs/'))) {
      expect(fromReadme).toContain(page);
      expect(relativeLinks(page).map((link) => link.target)).toContain('../README.md');
    }
  });
});

describe('anchorOf, as GitHub names a heading', () => {
  it.each([
    ['Next.js (App Router)', 'nextjs-app-router'],
    ['`<CasTokenProvider>`', 'castokenprovider'],
    ['`createProxyFetcher(url, options?)`', 'createproxyfetcherurl-options'],
    ['`authorize`: who may have a token for which room', 'authorize-who-may-have-a-token-for-which-room'],
    ['Failures, limits and `Retry-After`', 'failures-limits-and-retry-after'],
    ['React Router 7 and Remix (framework mode)', 'react-router-7-and-remix-framework-mode'],
  ])('%s -> #%s', (heading, anchor) => {
    expect(anchorOf(heading)).toBe(anchor);
  });
});
