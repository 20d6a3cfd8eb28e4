// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

const root = `${import.meta.dirname}/../..`;
const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as {
  exports: Record<string, string | { import: { types: string; default: string }; require: { types: string; default: string } }>;
};

/** A built file's code without its comments: the TSDoc examples import what an app would. */
const codeOf = (file: string) => readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');

/**
 * The files a built entry (code or declarations) reaches through its relative imports, shared
 * chunks included, and the packages they import. `./x.js` in a `.d.ts` is `./x.d.ts`, `./x.cjs`
 * in a `.d.cts` is `./x.d.cts`.
 */
function importGraph(entry: string, files = new Set<string>(), packages = new Set<string>()) {
  if (files.has(entry)) return { files, packages };
  if (!existsSync(entry)) throw new Error(`${entry} is imported but missing`);
  files.add(entry);
  const declarations = /\.d\.c?ts$/.test(entry);
  for (const [, specifier] of codeOf(entry).matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']([^"']+)["']/g)) {
    if (!specifier!.startsWith('.')) packages.add(specifier!);
    else {
      const target = join(dirname(entry), specifier!);
      importGraph(declarations ? target.replace(/\.js$/, '.d.ts').replace(/\.cjs$/, '.d.cts') : target, files, packages);
    }
  }
  return { files, packages };
}

describe('the built package', () => {
  it('has every file the exports map promises', () => {
    const promised = Object.values(pkg.exports).flatMap((entry) =>
      typeof entry === 'string' ? [entry] : [entry.import.types, entry.import.default, entry.require.types, entry.require.default],
    );
    expect(promised.filter((file) => !existsSync(`${root}/${file}`))).toEqual([]);
  });

  it.each(['dist/index.js', 'dist/index.cjs', 'dist/testing.js', 'dist/testing.cjs'])(
    "keeps 'use client' at the top of the client entry %s",
    (file) => {
      expect(readFileSync(`${root}/${file}`, 'utf8')).toMatch(/^["']use client["'];/);
    },
  );

  it('keeps the server entry free of the client directive and of React', () => {
    const server = readFileSync(`${root}/dist/server.js`, 'utf8');
    expect(server).not.toMatch(/use client/);
    expect(server).not.toMatch(/from "react"|require\("react"\)/);
  });

  // React and react-query are optional peers: a server-only install has neither, so nothing the
  // server entry loads or declares may import them (test/build/serverOnlyInstall.test.ts installs
  // it so).
  it.each(['dist/server.js', 'dist/server.cjs', 'dist/server/index.d.ts', 'dist/server/index.d.cts'])(
    'imports no React or react-query from %s, through every file it reaches',
    (entry) => {
      const { files, packages } = importGraph(join(root, entry));

      expect([...packages].filter((name) => /^(react|react-dom)($|\/)|^@tanstack\//.test(name))).toEqual([]);
      expect([...packages].filter((name) => !name.startsWith('node:')).sort()).toEqual(entry.includes('.d.') ? [] : ['jwt-decode']);
      // It did follow the imports: the shared chunks, or the declarations of the core.
      expect([...files].map((file) => relative(root, file)).filter((file) => !file.startsWith('dist/server')).length).toBeGreaterThan(0);
    },
  );

  it('never imports a Redis client, in the server entry or its types: the app passes its own', () => {
    const files = ['dist/server.js', 'dist/server.cjs', ...readdirSync(`${root}/dist/server`).map((file) => `dist/server/${file}`)];
    const clientName = `["'](?:redis|@redis/[^"']*|ioredis|@upstash/redis)["']`;
    const clientImport = new RegExp(`^\\s*(?:import|export)\\b[^;]*?from\\s*${clientName}|^\\s*import\\s*${clientName}|\\b(?:import|require)\\s*\\(\\s*${clientName}\\s*\\)`, 'm');
    // Comments are left out: the TSDoc examples import the clients, as an app would.
    const code = (file: string) => readFileSync(`${root}/${file}`, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
    expect(files.filter((file) => clientImport.test(code(file)))).toEqual([]);
    expect(files).toContain('dist/server/createRedisTokenStore.d.ts');
  });

  it('loads through require() as CommonJS users load it', () => {
    const require = createRequire(`${root}/package.json`);
    const client = require('react-cas-token') as Record<string, unknown>;
    const server = require('react-cas-token/server') as Record<string, unknown>;
    expect(typeof client.CasTokenProvider).toBe('function');
    expect(typeof client.useStreamToken).toBe('function');
    expect(typeof server.createCasTokenHandler).toBe('function');
  });
});
