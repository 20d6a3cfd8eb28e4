import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { expect } from 'vitest';
import { readRecipes } from '../../support/recipes';

/** The repository, whose docs, dist and node_modules a fixture app uses. */
export const ROOT = resolve(import.meta.dirname, '../../..');

/**
 * Writes the recipes whose names start with `prefix` (from the README or a docs page) into `app`,
 * each to the file its first line names (`// app/routes.ts`): the table must list exactly the
 * printed recipes.
 */
export async function copyRecipes(app: string, prefix: string, files: Record<string, string>): Promise<void> {
  const recipes = readRecipes();
  expect([...recipes.keys()].filter((name) => name.startsWith(prefix)).sort()).toEqual(Object.keys(files).sort());
  for (const [name, file] of Object.entries(files)) {
    const { code } = recipes.get(name)!;
    expect(code.split('\n', 1)[0]).toMatch(new RegExp(`^// ${file.replaceAll('.', '\\.')}\\b`));
    await mkdir(dirname(join(app, file)), { recursive: true });
    await writeFile(join(app, file), code);
  }
}

/**
 * Installs `react-cas-token` in `app` as an app installs it: a package whose package.json (and so
 * its exports map) and dist are this repository's, not an alias to the source.
 */
export async function linkBuiltPackage(app: string): Promise<void> {
  for (const file of ['dist/index.js', 'dist/server.js']) {
    if (!existsSync(join(ROOT, file))) throw new Error(`${file} is missing: run \`npm run build\` first (\`npm test\` does).`);
  }
  const installed = join(app, 'node_modules/react-cas-token');
  await rm(installed, { recursive: true, force: true });
  await mkdir(installed, { recursive: true });
  await symlink(relative(installed, join(ROOT, 'package.json')), join(installed, 'package.json'));
  await symlink(relative(installed, join(ROOT, 'dist')), join(installed, 'dist'), 'dir');
}

/** Resolves with the exit code, or rejects after `timeoutMs`. */
export function exited(child: ChildProcess, timeoutMs: number, what: string): Promise<number | null> {
  return new Promise((resolvePromise, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolvePromise(child.exitCode);
    const timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMs / 1000} s.`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise(code);
    });
  });
}

/** Runs a Node script to its end within `timeoutMs`; rejects with its output when it fails. */
export async function runNode(
  script: string,
  args: string[],
  { cwd, env, timeoutMs }: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<string> {
  const what = [relative(ROOT, script), ...args].join(' ');
  const child = spawn(process.execPath, [script, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  const code = await exited(child, timeoutMs, what).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  if (code !== 0) throw new Error(`${what} failed (exit ${code}):\n${output}`);
  return output;
}

/** Stops a server started by a test: SIGTERM, then SIGKILL when it does not exit in 10 s. */
export async function stop(child: ChildProcess | undefined, what: string): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await exited(child, 10_000, what).catch(() => child.kill('SIGKILL'));
}

/** A port of 127.0.0.1 that was free a moment ago, for a server that cannot be told port 0. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePromise(port));
    });
  });
}
