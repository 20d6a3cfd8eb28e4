// @vitest-environment node
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// typescript-eslint turns no-undef off and the tsconfig includes the DOM lib, so neither lint nor
// tsc would notice a browser global here: the proxy must run on Node, Workers and edge runtimes.
const serverDir = join(import.meta.dirname, '../../src/server');
const sources = readdirSync(serverDir, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts'))
  .map((file) => ({ file, code: readFileSync(join(serverDir, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '') }));

function importsOf(code: string): string[] {
  return [...code.matchAll(/from\s+'([^']+)'/g)].map((match) => match[1] as string);
}

describe('src/server', () => {
  it('has source files to check', () => {
    expect(sources.map(({ file }) => file)).toContain('index.ts');
  });

  it.each(sources)('$file imports only the core and its own files: no React, no node built-ins, no client', ({ code }) => {
    for (const source of importsOf(code)) expect(source).toMatch(/^\.\/|^\.\.\/core\//);
  });

  it.each(sources)('$file uses no browser globals', ({ code }) => {
    expect(code).not.toMatch(/\b(window|document|localStorage|sessionStorage|navigator)\b/);
  });
});
