/*
 * A real redis-server for the tests, one per test file, on 127.0.0.1 at a free port, with its own
 * data directory and no persistence. The binary is REDIS_SERVER, else redis-server on PATH; where
 * there is none it installs Debian's package when it can (root and apt-get), else it fails and
 * says how to install it. It never skips: `npm install && npm test` stays the whole set-up.
 *
 * Every wait here is bounded: the install (10 min), the start (10 s until PING answers) and the
 * stop (5 s, then SIGKILL). A server still running when the process exits is killed by its pid,
 * and its data directory removed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const REDIS_INSTALL_COMMAND = 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server';
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const INSTALL_LOCK = join(tmpdir(), 'react-cas-token-redis-install.lock');

export interface RedisServerOptions {
  /** Starts the server with `--requirepass`, so clients must authenticate. */
  password?: string;
}

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`, with the password when there is one. */
  readonly url: string;
  /** The running server's process id; undefined while stopped. */
  readonly pid: number | undefined;
  /** Stops the server (an outage); its port and data directory are kept for `start`. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it for good and removes its data directory. */
  close(): Promise<void>;
}

const running = new Set<ChildProcess>();
const dataDirs = new Set<string>();
// The safety net when a test file ends without close(): also runs when the test runner goes away.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function findBinary(): string | undefined {
  const given = process.env.REDIS_SERVER;
  if (given !== undefined && given !== '') {
    if (!isExecutable(given)) throw new Error(`REDIS_SERVER is ${given}, which is not an executable file.`);
    return given;
  }
  return onPath('redis-server');
}

function run(command: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}


/**
 * One install at a time across test workers and processes: a lock directory holding the
 * installer's pid. A waiter takes over a lock whose process has died.
 */
async function withInstallLock<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + INSTALL_TIMEOUT_MS;
  for (;;) {
    try {
      mkdirSync(INSTALL_LOCK);
      writeFileSync(join(INSTALL_LOCK, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder = Number.NaN;
      try {
        holder = Number(readFileSync(join(INSTALL_LOCK, 'pid'), 'utf8'));
      } catch {
        // Taken a moment ago: its pid file is not written yet.
      }
      if (Number.isInteger(holder) && !isAlive(holder)) rmSync(INSTALL_LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`Waited ${INSTALL_TIMEOUT_MS / 60_000} min for another redis-server install (${INSTALL_LOCK}).`);
      await sleep(250);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(INSTALL_LOCK, { recursive: true, force: true });
  }
}

async function install(): Promise<string> {
  return withInstallLock(async () => {
    // Another worker may have installed it while this one waited for the lock.
    const found = findBinary();
    if (found !== undefined) return found;
    console.warn(`redis-server is not installed: running \`${REDIS_INSTALL_COMMAND}\` (once: seconds to a minute)`);
    const started = Date.now();
    const { code, output } = await run(REDIS_INSTALL_COMMAND, INSTALL_TIMEOUT_MS);
    const installed = findBinary();
    if (code !== 0 || installed === undefined) {
      throw new Error(`\`${REDIS_INSTALL_COMMAND}\` failed (exit ${String(code)}); the tests need redis-server. Its output ends:\n${output}`);
    }
    console.warn(`redis-server installed in ${((Date.now() - started) / 1000).toFixed(1)} s: ${installed}`);
    return installed;
  });
}

let binary: Promise<string> | undefined;

/** The redis-server binary, installed with apt-get first when it is missing and that is possible. */
export function redisServerBinary(): Promise<string> {
  binary ??= (async () => {
    const found = findBinary();
    if (found !== undefined) return found;
    const isRoot = process.getuid?.() === 0;
    if (!isRoot || onPath('apt-get') === undefined) {
      throw new Error(
        'The Redis tests need redis-server: it is not on PATH and REDIS_SERVER is not set. ' +
          `Install it (Debian/Ubuntu: \`sudo sh -c '${REDIS_INSTALL_COMMAND}'\`; macOS: \`brew install redis\`) ` +
          'or point REDIS_SERVER at the binary. The tests install it themselves only when run as root with apt-get.',
      );
    }
    return install();
  })();
  // A failed lookup is not cached: the next test file tries again and reports its own error.
  binary.catch(() => (binary = undefined));
  return binary;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** True once something on the port answers PING like Redis does (PONG, or NOAUTH with a password). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
  });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
    child.kill('SIGKILL');
    await waitForExit(child, STOP_TIMEOUT_MS);
  }
  running.delete(child);
}

/**
 * Starts a redis-server for this test file. Stop it in `afterAll` with `close()`; a server left
 * running is killed when the process exits.
 *
 * @example
 * ```ts
 * let redis: RedisServer;
 * beforeAll(async () => (redis = await startRedisServer()), REDIS_SETUP_TIMEOUT_MS);
 * afterAll(() => redis?.close());
 * ```
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const path = await redisServerBinary();
  const dir = mkdtempSync(join(tmpdir(), 'react-cas-token-redis-'));
  dataDirs.add(dir);
  let child: ChildProcess | undefined;
  let port = 0;

  async function launch(): Promise<boolean> {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
    if (options.password !== undefined) args.push('--requirepass', options.password);
    const spawned = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = spawned;
    running.add(spawned);
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000));
    spawned.stdout?.on('data', keep);
    spawned.stderr?.on('data', keep);
    spawned.once('exit', () => running.delete(spawned));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (spawned.exitCode !== null || spawned.signalCode !== null) {
        if (/address already in use/i.test(output)) return false;
        throw new Error(`redis-server exited at start (${String(spawned.exitCode ?? spawned.signalCode)}):\n${output}`);
      }
      if (await answersPing(port)) return true;
      await sleep(20);
    }
    await stopChild(spawned);
    throw new Error(`redis-server did not answer PING on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms:\n${output}`);
  }

  // Another process can take the free port between the check and the bind: pick another.
  for (let attempt = 1; ; attempt += 1) {
    port = await freePort();
    if (await launch()) break;
    if (attempt === 5) throw new Error('redis-server found no free port in 5 attempts.');
  }

  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    get pid() {
      return child !== undefined && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    async stop() {
      if (child !== undefined) await stopChild(child);
    },
    async start() {
      if (child !== undefined && child.exitCode === null && child.signalCode === null) return;
      if (!(await launch())) throw new Error(`redis-server could not restart: port ${port} was taken meanwhile.`);
    },
    async close() {
      if (child !== undefined) await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
      dataDirs.delete(dir);
    },
  };
}

/** For `beforeAll`: the first run may install redis-server (6 s here, longer on a slow mirror). */
export const REDIS_SETUP_TIMEOUT_MS = INSTALL_TIMEOUT_MS + START_TIMEOUT_MS;
