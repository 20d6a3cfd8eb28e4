// @vitest-environment node
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ENTRY = resolve(import.meta.dirname, '../../src/testing/index.ts');

/** Every package the module graph from `file` imports, following relative imports through src. */
function packagesImportedFrom(file: string, seen = new Set<string>(), packages = new Set<string>()): Set<string> {
  if (seen.has(file)) return packages;
  seen.add(file);
  // Without comments: TSDoc examples show `import { http } from 'msw'` on purpose.
  const source = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  // `import x from 'a'`, `export { x } from 'a'`, `import 'a'`, `import('a')`.
  for (const [, specifier] of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)) {
    if (specifier!.startsWith('.')) {
      const target = resolve(dirname(file), specifier!).replace(/\.js$/, '');
      const candidates = [`${target}.ts`, `${target}.tsx`];
      const found = candidates.find((candidate) => {
        try {
          readFileSync(candidate);
          return true;
        } catch {
          return false;
        }
      });
      if (found === undefined) throw new Error(`${file} imports ${specifier}, which is not in src`);
      packagesImportedFrom(found, seen, packages);
    } else {
      packages.add(specifier!);
    }
  }
  return packages;
}

describe('the react-cas-token/testing entry', () => {
  it('imports only React, react-query and jwt-decode: no node built-in, no MSW, no Storybook', () => {
    const packages = [...packagesImportedFrom(ENTRY)].sort();

    expect(packages).toEqual(['@tanstack/react-query', 'jwt-decode', 'react']);
  });

  it("keeps 'use client' at the top", () => {
    expect(readFileSync(ENTRY, 'utf8')).toMatch(/^'use client';\n/);
  });
});
