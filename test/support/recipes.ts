/*
 * The documentation's recipes: code blocks marked `<!-- recipe: name -->` in README.md,
 * CONTRIBUTING.md and every docs/*.md. Tests read them here, whichever page a recipe lives on, and
 * run them as printed. A name marked twice, or a marker with no code block right after it, fails
 * every test that reads recipes, naming the pages.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository. */
export const ROOT = resolve(import.meta.dirname, '../..');

export interface Recipe {
  name: string;
  /** The page it is printed on, from the repository's root: `README.md`, `docs/frameworks.md`. */
  page: string;
  /** The code block's language tag (`ts`, `tsx`, `js`), or '' when it has none. */
  language: string;
  /** The block's text as a file holds it: ending with a line break. */
  code: string;
}

/** The pages that may hold recipes: README.md, CONTRIBUTING.md and docs/*.md, in that order. */
export function documentationPages(root = ROOT): string[] {
  const docs = existsSync(join(root, 'docs'))
    ? readdirSync(join(root, 'docs'))
        .filter((file) => file.endsWith('.md'))
        .sort()
        .map((file) => `docs/${file}`)
    : [];
  return ['README.md', 'CONTRIBUTING.md', ...docs].filter((page) => existsSync(join(root, page)));
}

// A marker is a line of its own; one quoted in a sentence (`<!-- recipe: name -->`) is not.
const MARKER = /^<!-- recipe: (\S+) -->$/gm;
const MARKED_BLOCK = /^<!-- recipe: (\S+) -->\n```(\w*)\n([\s\S]*?)\n```/gm;

/** Every recipe of every page, by name. Throws on a name marked twice or a marker without its block. */
export function readRecipes(root = ROOT): Map<string, Recipe> {
  const recipes = new Map<string, Recipe>();
  for (const page of documentationPages(root)) {
    const text = readFileSync(join(root, page), 'utf8');
    const blocks = [...text.matchAll(MARKED_BLOCK)];
    const markers = [...text.matchAll(MARKER)].map((match) => match[1]!);
    const withBlock = new Set(blocks.map((match) => match[1]!));
    const bare = markers.filter((name) => !withBlock.has(name));
    if (bare.length > 0) {
      throw new Error(`${page}: no code block right after <!-- recipe: ${bare.join(' -->, <!-- recipe: ')} -->.`);
    }
    for (const [, name, language, code] of blocks) {
      const earlier = recipes.get(name!);
      if (earlier !== undefined) {
        const where = earlier.page === page ? `twice in ${page}` : `in ${earlier.page} and in ${page}`;
        throw new Error(`The recipe ${name} is marked ${where}: each recipe is printed once.`);
      }
      recipes.set(name!, { name: name!, page, language: language!, code: `${code}\n` });
    }
  }
  return recipes;
}

/** One recipe by name; throws naming the pages it looked in when there is none. */
export function recipe(name: string): Recipe {
  const found = readRecipes().get(name);
  if (found === undefined) {
    throw new Error(`No code block is marked <!-- recipe: ${name} --> in ${documentationPages().join(', ')}.`);
  }
  return found;
}
