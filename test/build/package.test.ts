// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = `${import.meta.dirname}/../..`;
const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as {
  exports: Record<string, string | { import: { types: string; default: string }; require: { types: string; default: string } }>;
};

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
