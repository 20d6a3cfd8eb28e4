/*
 * A watch party through faults, on real time: real clients (each a <CasTokenProvider> with its
 * own QueryClient and a createProxyFetcher aimed at one proxy instance over HTTP on 127.0.0.1)
 * in jsdom; proxy instances (createCasTokenHandler on createRedisTokenStore) on one real
 * redis-server, in this process or each in a Node process of its own (which can be killed, or
 * have its clock moved); the mock CAS. Every `sampleEveryMs` the token each joined client holds
 * (as its `useStreamToken()` last committed it) is read, and the party's figures are counted
 * from those samples. Each fault kind is a function here, used by the tests
 * (storeLossWithRealClients, instanceProcesses, outageRecovery) and by `npm run bench`
 * (bench/server/faults.measure.ts), which runs them against the package before issue 17 and
 * after. Needs a DOM (jsdom).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useEffect } from 'react';
import { render } from '@testing-library/react';
import { QueryClient } from '@tanstack/react-query';
import { Redis as IoRedis } from 'ioredis';
import { createClient } from 'redis';
import type * as ClientEntry from 'react-cas-token';
import type * as ServerEntry from 'react-cas-token/server';
import type { MockCas } from '../../example/server/mockCas';
import { connectInspector } from '../support/redisClients';
import { startRedisServer, type RedisServer } from '../support/redisServer';
import { credentials, startCas } from './casTestKit';

const ROOT = join(import.meta.dirname, '..', '..');
const INSTANCE_SCRIPT = join(ROOT, 'test', 'support', 'instanceProcess.mjs');
const SHIFT_CLOCK = join(ROOT, 'test', 'support', 'shiftClock.mjs');
const BUILD_SCRIPT = join(ROOT, 'test', 'support', 'buildPackage.mjs');

/**
 * How long the clients of a room may hold different tokens at a rotation: the proxy hands out
 * the next token up to 1 s before the rotation it announced (ROTATION_GRACE_MS), and each client
 * switches when its answer arrives. A split lasting longer is a fault's.
 */
export const ROTATION_SWITCH_MS = 2_000;
/** How the handler's log says it put a room's token back from a participant's seal. */
export const PUT_BACK_LINE = "Put a room's token back from a participant's sealed copy";

// ---------------------------------------------------------------------------------------------
// The package under test

/** The package a run uses: its client and server entries, and the server entry as a file a child process imports. */
export interface PackageUnderTest {
  name: string;
  client: Pick<typeof ClientEntry, 'CasTokenProvider' | 'createProxyFetcher' | 'useStreamToken'>;
  server: Pick<typeof ServerEntry, 'createCasTokenHandler' | 'createRedisTokenStore' | 'toNodeHandler'>;
  serverModule: string;
}

function runNode(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`node ${args.join(' ')} failed (${String(code)}):\n${output}`));
    });
  });
}

/** The package as this test run sees it: the source in the unit project, dist in the dist project. */
export async function packageUnderTest(): Promise<PackageUnderTest> {
  const [client, server, serverModule] = await Promise.all([import('react-cas-token'), import('react-cas-token/server'), serverModuleUnderTest()]);
  return { name: 'under test', client, server, serverModule };
}

let builtServer: Promise<string> | undefined;
let buildDir: string | undefined;

/**
 * The server entry for child processes, the same code the test runs in process: the vitest
 * project says which (CAS_TOKEN_SERVER_MODULE: the dist project sets it to dist/server.js);
 * otherwise the source, built once per test file by vite into a temporary folder (under a second)
 * that `removeServerBuild` removes.
 */
export function serverModuleUnderTest(): Promise<string> {
  const given = process.env.CAS_TOKEN_SERVER_MODULE;
  if (given !== undefined && given !== '') return Promise.resolve(given);
  builtServer ??= (async () => {
    buildDir = mkdtempSync(join(tmpdir(), 'react-cas-token-server-'));
    const output = await runNode([BUILD_SCRIPT, join(ROOT, 'src'), buildDir, 'server'], 60_000);
    return (JSON.parse(output.trim().split('\n').at(-1)!) as { server: string }).server;
  })();
  return builtServer;
}

/** For `afterAll`: removes the source's build, if this file made one (a test worker may end without an 'exit' event). */
export function removeServerBuild(): void {
  if (buildDir !== undefined) rmSync(buildDir, { recursive: true, force: true });
  buildDir = undefined;
  builtServer = undefined;
}

// ---------------------------------------------------------------------------------------------
// Time

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Resolves true once `condition()` holds, looking every 50 ms; false after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; ; await sleep(50)) {
    if (condition()) return true;
    if (Date.now() >= deadline) return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Proxy instances

export interface Logged {
  level: 'warn' | 'error';
  message: string;
  at: number;
}

export interface Instance {
  readonly name: string;
  /** e.g. `http://127.0.0.1:41234/api/cas-token` */
  readonly url: string;
  /** What its handler logged. */
  readonly lines: readonly Logged[];
  /** HTTP requests that reached it. */
  readonly requests: number;
  /** Its answers other than 200. */
  readonly failures: readonly { at: number; status: number }[];
  close(): Promise<void>;
}

/** An instance in this process, which can stop answering (its connections are cut) and come back. */
export interface LocalInstance extends Instance {
  /** Cuts every connection from now on, as an instance the load balancer cannot reach. */
  down(): void;
  up(): void;
  /** When its Redis client last (re)connected. */
  readonly redisReadyAt: number;
}

/** An instance in a Node process of its own. */
export interface ChildInstance extends Instance {
  readonly pid: number;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export type RedisClientKind = 'node-redis 6' | 'ioredis 6';

export interface InstanceOptions {
  name: string;
  /** @defaultValue 'node-redis 6' */
  redisClient?: RedisClientKind;
  /** Another CAS than the stage's (one that hangs, say). */
  casUrl?: string;
}

export interface ChildInstanceOptions {
  name: string;
  casUrl?: string;
  /** How far this process's clock is off, in ms (positive: ahead). */
  clockOffsetMs?: number;
}

const children = new Set<ChildProcess>();
// The safety net when a run ends without close(): also runs when the test runner goes away.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

// ---------------------------------------------------------------------------------------------
// The stage: one redis-server, the mock CAS, the instances

export interface StageOptions {
  pkg: PackageUnderTest;
  /** How long CAS's tokens live. */
  tokenLifetimeMs: number;
  /** Handler options for every instance (beyond CAS's URL and credentials). */
  handler?: Record<string, unknown>;
}

export interface Stage {
  readonly pkg: PackageUnderTest;
  readonly redis: RedisServer;
  readonly cas: MockCas;
  readonly prefix: string;
  readonly instances: readonly Instance[];
  /** The key the handler keeps `room` at. */
  keyOf(room: string): string;
  inspect(): Promise<Awaited<ReturnType<typeof connectInspector>>>;
  addInstance(options: InstanceOptions): Promise<LocalInstance>;
  spawnInstance(options: ChildInstanceOptions): Promise<ChildInstance>;
  /** HTTP requests all instances received so far. */
  proxyRequests(): number;
  /** Every line the instances logged, oldest first. */
  lines(): (Logged & { instance: string })[];
  party(options: PartyOptions): Party;
  close(): Promise<void>;
}

export async function startStage({ pkg, tokenLifetimeMs, handler = {} }: StageOptions): Promise<Stage> {
  const redis = await startRedisServer();
  const cas = await startCas({ lifetimeMs: tokenLifetimeMs, latencyMs: 50 });
  const prefix = `faults-${randomUUID()}:`;
  const instances: Instance[] = [];
  const parties: Party[] = [];
  const closers: (() => Promise<unknown> | void)[] = [];
  const handlerOptions = (casUrl: string | undefined) => ({ ...credentials(cas), ...(casUrl !== undefined && { casUrl }), ...handler });

  async function addInstance({ name, redisClient = 'node-redis 6', casUrl }: InstanceOptions): Promise<LocalInstance> {
    let redisReadyAt = Date.now();
    let client: ServerEntry.RedisTokenStoreClient;
    if (redisClient === 'node-redis 6') {
      const nodeRedis = createClient({ url: redis.url, disableOfflineQueue: true });
      nodeRedis.on('error', () => {});
      nodeRedis.on('ready', () => (redisReadyAt = Date.now()));
      await nodeRedis.connect();
      closers.push(() => nodeRedis.destroy());
      client = nodeRedis;
    } else {
      const ioRedis = new IoRedis(redis.url, { lazyConnect: true, enableOfflineQueue: false });
      ioRedis.on('error', () => {});
      ioRedis.on('ready', () => (redisReadyAt = Date.now()));
      await ioRedis.connect();
      closers.push(() => ioRedis.disconnect());
      client = ioRedis;
    }
    const lines: Logged[] = [];
    const failures: { at: number; status: number }[] = [];
    const handle = pkg.server.createCasTokenHandler({
      authorize: () => true,
      ...handlerOptions(casUrl),
      store: pkg.server.createRedisTokenStore(client, { prefix }),
      logger: {
        warn: (message: string) => void lines.push({ level: 'warn', message, at: Date.now() }),
        error: (message: string) => void lines.push({ level: 'error', message, at: Date.now() }),
      },
    } as ServerEntry.CasTokenHandlerOptions);
    const node = pkg.server.toNodeHandler(handle);
    let requests = 0;
    let isDown = false;
    const server: Server = createServer((req, res) => {
      requests += 1;
      if (isDown) {
        req.socket.destroy();
        return;
      }
      res.on('finish', () => {
        if (res.statusCode !== 200) failures.push({ at: Date.now(), status: res.statusCode });
      });
      void node(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const stop = () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    closers.unshift(stop);
    const instance: LocalInstance = {
      name,
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/cas-token`,
      lines,
      failures,
      get requests() {
        return requests;
      },
      get redisReadyAt() {
        return redisReadyAt;
      },
      down() {
        isDown = true;
        server.closeAllConnections();
      },
      up() {
        isDown = false;
      },
      close: stop,
    };
    instances.push(instance);
    return instance;
  }

  async function spawnInstance({ name, casUrl, clockOffsetMs = 0 }: ChildInstanceOptions): Promise<ChildInstance> {
    const args = clockOffsetMs === 0 ? [INSTANCE_SCRIPT] : ['--import', SHIFT_CLOCK, INSTANCE_SCRIPT];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        SERVER_MODULE: pkg.serverModule,
        REDIS_URL: redis.url,
        KEY_PREFIX: prefix,
        HANDLER_OPTIONS: JSON.stringify(handlerOptions(casUrl)),
        CLOCK_OFFSET_MS: String(clockOffsetMs),
      },
    });
    children.add(child);
    const lines: Logged[] = [];
    const failures: { at: number; status: number }[] = [];
    let requests = 0;
    let stderr = '';
    let buffered = '';
    const port = new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const complete = buffered.split('\n');
        buffered = complete.pop() ?? '';
        for (const line of complete) {
          if (line.trim() === '') continue;
          const event = JSON.parse(line) as { type: string; port?: number; status?: number; level?: 'warn' | 'error'; message?: string };
          if (event.type === 'listening') resolve(event.port!);
          else if (event.type === 'request') requests += 1;
          else if (event.type === 'answered' && event.status !== 200) failures.push({ at: Date.now(), status: event.status! });
          else if (event.type === 'log') lines.push({ level: event.level!, message: event.message!, at: Date.now() });
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
      child.once('exit', (code, signal) => reject(new Error(`instance ${name} exited before it listened (${String(code ?? signal)}):\n${stderr}`)));
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const timeout = sleep(30_000).then(() => {
      throw new Error(`instance ${name} did not listen within 30 s:\n${stderr}`);
    });
    const kill = async (signal: NodeJS.Signals) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await Promise.race([exited, sleep(5_000)]);
      children.delete(child);
    };
    let listening: number;
    try {
      listening = await Promise.race([port, timeout]);
    } catch (error) {
      await kill('SIGKILL');
      throw error;
    }
    closers.unshift(() => kill('SIGKILL'));
    const instance: ChildInstance = {
      name,
      url: `http://127.0.0.1:${listening}/api/cas-token`,
      pid: child.pid!,
      lines,
      failures,
      get requests() {
        return requests;
      },
      kill,
      close: () => kill('SIGKILL'),
    };
    instances.push(instance);
    return instance;
  }

  const stage: Stage = {
    pkg,
    redis,
    cas,
    prefix,
    instances,
    keyOf: (room) => `${prefix}room:${room}`,
    async inspect() {
      const inspector = await connectInspector(redis.url);
      closers.push(() => inspector.destroy());
      return inspector;
    },
    addInstance,
    spawnInstance,
    proxyRequests: () => instances.reduce((sum, { requests }) => sum + requests, 0),
    lines: () =>
      instances
        .flatMap(({ name, lines }) => lines.map((line) => ({ ...line, instance: name })))
        .sort((a, b) => a.at - b.at),
    party(options) {
      const party = startParty(pkg, options);
      parties.push(party);
      return party;
    },
    async close() {
      for (const party of parties.splice(0)) party.stop();
      for (const close of closers.splice(0)) await close();
      await cas.close();
      await redis.close();
    },
  };
  return stage;
}

// ---------------------------------------------------------------------------------------------
// The party: real clients, sampled

export interface PartyOptions {
  room: string;
  /** @defaultValue 100 */
  sampleEveryMs?: number;
}

export interface Sample {
  at: number;
  /** What each joined client holds (undefined: no token shown). */
  held: (string | undefined)[];
}

export interface ClientFetch {
  client: number;
  sentAt: number;
  at: number;
  ok: boolean;
}

export interface Party {
  /** Mounts a client asking `instance`; resolves to its index. */
  join(instance: Pick<Instance, 'url'>): number;
  /** What every joined client holds now (as last committed), by index. */
  held(): (string | undefined)[];
  /** True when every joined client holds a token, the same one. */
  isOne(): boolean;
  readonly samples: readonly Sample[];
  readonly fetches: readonly ClientFetch[];
  /** Stops sampling and unmounts the clients (once). */
  stop(): void;
}

/** The `exp` claim in ms, read without the library under test. */
export function expiryOf(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp: number };
  return payload.exp * 1000;
}

function startParty(pkg: PackageUnderTest, { room, sampleEveryMs = 100 }: PartyOptions): Party {
  const { CasTokenProvider, createProxyFetcher, useStreamToken } = pkg.client;
  const held: (string | undefined)[] = [];
  const samples: Sample[] = [];
  const fetches: ClientFetch[] = [];
  const unmounts: (() => void)[] = [];

  function Holder({ client }: { client: number }) {
    const { token } = useStreamToken();
    useEffect(() => {
      held[client] = token;
    }, [client, token]);
    return null;
  }

  const timer = setInterval(() => samples.push({ at: Date.now(), held: [...held] }), sampleEveryMs);
  let stopped = false;
  return {
    join({ url }) {
      const client = held.length;
      held.push(undefined);
      const proxy = createProxyFetcher(url);
      const fetcher: ClientEntry.StreamTokenFetcher = async (context) => {
        const sentAt = Date.now();
        try {
          const answer = await proxy(context);
          fetches.push({ client, sentAt, at: Date.now(), ok: true });
          return answer;
        } catch (error) {
          fetches.push({ client, sentAt, at: Date.now(), ok: false });
          throw error;
        }
      };
      // Each client is a browser of its own: its own cache, and no sharing between tabs.
      const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
      const view = render(
        <CasTokenProvider fetcher={fetcher} room={room} queryClient={queryClient} crossTab={false}>
          <Holder client={client} />
        </CasTokenProvider>,
      );
      unmounts.push(() => view.unmount());
      return client;
    },
    held: () => [...held],
    isOne: () => held.length > 0 && held.every((token) => token !== undefined && token === held[0]),
    samples,
    fetches,
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      for (const unmount of unmounts) unmount();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The figures

export interface PartyFigures {
  /** Time during which joined clients held different tokens, split stretches of the normal rotation switch (up to 2 s) left out. */
  splitMs: number;
  /** The stretches counted in `splitMs`. */
  splits: { from: number; to: number; open: boolean }[];
  /** Client-time with no token shown, summed over the joined clients. */
  noTokenMs: number;
  /** Samples where a client held a token past its `exp`: must be none. */
  expiredSamples: number;
  /** Distinct tokens held, in the order first seen. */
  tokens: string[];
}

/** The figures of `samples` from `from` on (all of them by default). */
export function figuresOf(samples: readonly Sample[], from = Number.NEGATIVE_INFINITY): PartyFigures {
  const splits: PartyFigures['splits'] = [];
  const tokens: string[] = [];
  let noTokenMs = 0;
  let expiredSamples = 0;
  let splitFrom: number | undefined;
  let previousAt: number | undefined;
  const within = samples.filter(({ at }) => at >= from);
  for (const { at, held } of within) {
    const step = previousAt === undefined ? 0 : at - previousAt;
    previousAt = at;
    const distinct = new Set<string>();
    for (const token of held) {
      if (token === undefined) {
        noTokenMs += step;
        continue;
      }
      distinct.add(token);
      if (!tokens.includes(token)) tokens.push(token);
      if (expiryOf(token) <= at) expiredSamples += 1;
    }
    if (distinct.size > 1) splitFrom ??= at;
    else if (splitFrom !== undefined) {
      splits.push({ from: splitFrom, to: at, open: false });
      splitFrom = undefined;
    }
  }
  const last = within.at(-1);
  if (splitFrom !== undefined && last !== undefined) splits.push({ from: splitFrom, to: last.at, open: true });
  const counted = splits.filter(({ from: start, to }) => to - start > ROTATION_SWITCH_MS);
  return {
    splitMs: counted.reduce((sum, { from: start, to }) => sum + (to - start), 0),
    splits: counted,
    noTokenMs,
    expiredSamples,
    tokens,
  };
}

/**
 * When every joined client came to hold one token and kept it to the last sample, after `from`;
 * undefined when they did not.
 */
export function convergedAt(samples: readonly Sample[], from: number): number | undefined {
  let since: number | undefined;
  for (const { at, held } of samples) {
    if (at < from) continue;
    const one = held.length > 0 && held.every((token) => token !== undefined && token === held[0]);
    if (!one) since = undefined;
    else since ??= at;
  }
  return since;
}

/** What every fault run reports, for the bench's table. */
export interface FaultFigures extends PartyFigures {
  casCalls: number;
  proxyRequests: number;
  /** How long the run watched the party. */
  watchedMs: number;
}

/** Sums the figures of several rooms' parties. */
function sumFigures(all: PartyFigures[]): PartyFigures {
  return {
    splitMs: all.reduce((sum, { splitMs }) => sum + splitMs, 0),
    splits: all.flatMap(({ splits }) => splits),
    noTokenMs: all.reduce((sum, { noTokenMs }) => sum + noTokenMs, 0),
    expiredSamples: all.reduce((sum, { expiredSamples }) => sum + expiredSamples, 0),
    tokens: all.flatMap(({ tokens }) => tokens),
  };
}

async function finish(stage: Stage, parties: Party[], start: { at: number; casCalls: number; proxyRequests: number }): Promise<FaultFigures> {
  for (const party of parties) party.stop();
  // Let answers on their way land, so requests and CAS calls are counted alike.
  await sleep(200);
  return {
    ...sumFigures(parties.map((party) => figuresOf(party.samples, start.at))),
    casCalls: stage.cas.calls - start.casCalls,
    proxyRequests: stage.proxyRequests() - start.proxyRequests,
    watchedMs: Date.now() - start.at,
  };
}

const mark = (stage: Stage) => ({ at: Date.now(), casCalls: stage.cas.calls, proxyRequests: stage.proxyRequests() });

/** Joins `count` clients, round-robin over `instances`; resolves once they all hold one token (bounded). */
async function gather(party: Party, instances: readonly Pick<Instance, 'url'>[], count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) party.join(instances[index % instances.length]!);
  if (!(await until(() => party.isOne(), 15_000))) throw new Error(`the party never held one token: ${JSON.stringify(party.held())}`);
}

/** One GET for `room`, its status and token (undefined unless 200). */
export async function ask(instance: Pick<Instance, 'url'>, room: string): Promise<{ status: number; token: string | undefined; retryAfter: string | null }> {
  const response = await fetch(`${instance.url}?room=${encodeURIComponent(room)}`);
  const body = (await response.json()) as { token?: string };
  return { status: response.status, token: body.token, retryAfter: response.headers.get('retry-after') };
}

// ---------------------------------------------------------------------------------------------
// The faults

/** When the newcomer joins after the store lost the room. */
export type NewcomerTiming =
  /** At once, before any participant's check reached the store: it asks first. */
  | 'first'
  /** As soon as an instance has put the room's token back (at most 10 s). */
  | 'after-put-back';

export interface StoreLossOptions {
  pkg: PackageUnderTest;
  newcomer: NewcomerTiming;
  /** How long to watch after the newcomer joined. @defaultValue 10_000 */
  watchMs?: number;
  /** Handler options (e.g. `checkIntervalMs: 0`). */
  handler?: Record<string, unknown>;
  /** @defaultValue 4 */
  partySize?: number;
  /** How many join after the loss, one after the other. @defaultValue 1 */
  newcomers?: number;
}

export interface StoreLossResult extends FaultFigures {
  /** The token the party held before the fault. */
  partyToken: string;
  /** When the store had lost the room and answered again. */
  lostAt: number;
  /** When the newcomers joined. */
  newcomerJoinedAt: number;
  /** When every client held one token again, for good (undefined: never). */
  convergedAt: number | undefined;
  /** The token they all held at the end, if one. */
  finalToken: string | undefined;
  /** CAS calls from the loss on. */
  casCallsAfterLoss: number;
  lines: (Logged & { instance: string })[];
}

/**
 * Redis restarts empty (stopped and started again on its port, no persistence) while a party of
 * clients on two instances holds 1-hour tokens; then a newcomer joins.
 */
export async function storeRestart(options: StoreLossOptions): Promise<StoreLossResult> {
  return storeLoss(options, async (stage) => {
    await stage.redis.stop();
    await stage.redis.start();
  });
}

/**
 * Redis with a small `maxmemory` and `allkeys-lru`: a flood of new room names (one request each,
 * over the instances) until Redis has evicted the party's room.
 */
export async function eviction(options: StoreLossOptions): Promise<StoreLossResult & { floodRooms: number; floodCasCalls: number }> {
  let floodRooms = 0;
  let floodCasCalls = 0;
  const result = await storeLoss(
    options,
    async (stage, room) => {
      const inspector = await stage.inspect();
      const floodStart = stage.cas.calls;
      for (let round = 0; (await inspector.exists(stage.keyOf(room))) === 1; round += 1) {
        if (round === 40) throw new Error(`Redis kept the room through ${floodRooms} new rooms`);
        // 250 new rooms, 25 at a time, round-robin over the instances.
        for (let batch = 0; batch < 10; batch += 1) {
          await Promise.all(
            Array.from({ length: 25 }, (_, index) => {
              floodRooms += 1;
              return ask(stage.instances[index % stage.instances.length]!, `flood-${round}-${batch}-${index}`).catch(() => undefined);
            }),
          );
        }
      }
      floodCasCalls = stage.cas.calls - floodStart;
    },
    async (stage) => {
      const inspector = await stage.inspect();
      const used = Number(/used_memory:(\d+)/.exec(await inspector.info('memory'))?.[1]);
      await inspector.configSet('maxmemory-policy', 'allkeys-lru');
      await inspector.configSet('maxmemory', String(used + 400_000));
    },
  );
  // The flood's own CAS calls (one per new room) are not the party's.
  return { ...result, casCalls: result.casCalls - floodCasCalls, floodRooms, floodCasCalls };
}

async function storeLoss(
  { pkg, newcomer, watchMs = 10_000, handler, partySize = 4, newcomers = 1 }: StoreLossOptions,
  lose: (stage: Stage, room: string) => Promise<void>,
  prepare?: (stage: Stage) => Promise<void>,
): Promise<StoreLossResult> {
  const stage = await startStage({ pkg, tokenLifetimeMs: 3_600_000, ...(handler && { handler }) });
  try {
    await prepare?.(stage);
    const instances = [await stage.addInstance({ name: 'node-redis' }), await stage.addInstance({ name: 'ioredis', redisClient: 'ioredis 6' })];
    const room = 'movie-night';
    const party = stage.party({ room });
    const start = mark(stage);
    await gather(party, instances, partySize);
    const partyToken = party.held()[0]!;
    // The party has settled in: each client's next check is somewhere in the next 6-8 s.
    await sleep(1_000);
    await lose(stage, room);
    const lostAt = Date.now();
    const casAtLoss = stage.cas.calls;
    if (newcomer === 'after-put-back') await until(() => stage.lines().some(({ message }) => message.includes(PUT_BACK_LINE)), 10_000);
    const newcomerJoinedAt = Date.now();
    for (let index = partySize; index < partySize + newcomers; index += 1) party.join(instances[index % instances.length]!);
    await sleep(newcomerJoinedAt + watchMs - Date.now());
    const figures = await finish(stage, [party], start);
    const at = convergedAt(party.samples, newcomerJoinedAt);
    return {
      ...figures,
      partyToken,
      lostAt,
      newcomerJoinedAt,
      convergedAt: at,
      finalToken: party.isOne() ? party.held()[0] : undefined,
      casCallsAfterLoss: stage.cas.calls - casAtLoss,
      lines: stage.lines(),
    };
  } finally {
    await stage.close();
  }
}

export interface LockHolderKilledResult extends FaultFigures {
  /** From the kill to the other instance's first 200 for the room (asked again at its Retry-After). */
  servedAfterMs: number | undefined;
  /** From the kill to the moment every client held a token. */
  partyServedAfterMs: number | undefined;
  /** What the holder's lock looked like in Redis when it was killed. */
  lockSeen: string | null;
}

/**
 * An instance in a process of its own takes a room's lock and calls a CAS that never answers; it
 * is killed (SIGKILL) mid-call. Then a request to another instance for that room, and clients
 * joining on it: how soon are they served?
 */
export async function lockHolderKilled({ pkg, watchMs = 17_000 }: { pkg: PackageUnderTest; watchMs?: number }): Promise<LockHolderKilledResult> {
  const stage = await startStage({ pkg, tokenLifetimeMs: 3_600_000 });
  const hanging = await startCas({ mode: 'hang' });
  try {
    const room = 'movie-night';
    const holder = await stage.spawnInstance({ name: 'holder', casUrl: hanging.url });
    const survivor = await stage.addInstance({ name: 'survivor' });
    const inspector = await stage.inspect();
    const start = mark(stage);
    void ask(holder, room).catch(() => undefined);
    if (!(await until(() => hanging.calls >= 1, 10_000))) throw new Error('the holder never called CAS');
    const lockSeen = await inspector.get(stage.keyOf(room));
    await holder.kill('SIGKILL');
    const killedAt = Date.now();
    const party = stage.party({ room });
    for (let index = 0; index < 3; index += 1) party.join(survivor);
    let servedAfterMs: number | undefined;
    let partyServedAfterMs: number | undefined;
    const direct = (async () => {
      while (Date.now() < killedAt + watchMs) {
        const answer = await ask(survivor, room).catch(() => undefined);
        if (answer?.status === 200) {
          servedAfterMs = Date.now() - killedAt;
          return;
        }
        await sleep(1_000 * Number(answer?.retryAfter ?? 1));
      }
    })();
    const watched = (async () => {
      if (await until(() => party.isOne(), watchMs)) partyServedAfterMs = Date.now() - killedAt;
    })();
    await Promise.all([direct, watched]);
    await sleep(killedAt + watchMs - Date.now());
    return { ...(await finish(stage, [party], start)), servedAfterMs, partyServedAfterMs, lockSeen };
  } finally {
    await stage.close();
    await hanging.close();
  }
}

export interface ClockSkewResult extends FaultFigures {
  /** Each instance's offset and what it logged. */
  instances: { name: string; offsetMs: number; lines: Logged[]; failures: number }[];
}

/**
 * Instances in processes of their own, each with its clock moved by its offset, on one Redis;
 * clients spread over them through several rotations.
 */
export async function clockSkew({
  pkg,
  offsetsMs = [300_000, -300_000, 0],
  tokenLifetimeMs = 30_000,
  clients = 6,
  watchMs = 34_000,
}: {
  pkg: PackageUnderTest;
  offsetsMs?: number[];
  tokenLifetimeMs?: number;
  clients?: number;
  watchMs?: number;
}): Promise<ClockSkewResult> {
  const stage = await startStage({ pkg, tokenLifetimeMs });
  try {
    const instances = await Promise.all(
      offsetsMs.map((offsetMs) => stage.spawnInstance({ name: `clock ${offsetMs >= 0 ? '+' : ''}${offsetMs / 1000} s`, clockOffsetMs: offsetMs })),
    );
    const party = stage.party({ room: 'movie-night' });
    const start = mark(stage);
    // Joining one by one over the first two seconds, round-robin over the instances.
    for (let index = 0; index < clients; index += 1) {
      party.join(instances[index % instances.length]!);
      await sleep(2_000 / clients);
    }
    await sleep(start.at + watchMs - Date.now());
    const figures = await finish(stage, [party], start);
    return {
      ...figures,
      instances: instances.map((instance, index) => ({
        name: instance.name,
        offsetMs: offsetsMs[index]!,
        lines: [...instance.lines],
        failures: instance.failures.length,
      })),
    };
  } finally {
    await stage.close();
  }
}

export type OutageKind = 'cas-500' | 'cas-hang' | 'redis-down' | 'instance-down';

export interface OutageResult extends FaultFigures {
  kind: OutageKind;
  outageFrom: number;
  /** When the fault ended (CAS answers again, Redis is up again, the instance answers again). */
  backAt: number;
  /** When the proxy could serve again: `backAt`, or for Redis once every instance's client had reconnected. */
  servingAt: number;
  /** For each newcomer (joined during the outage, with no token): when it first held one, or undefined. */
  newcomerTokenAt: (number | undefined)[];
  /** Requests the newcomers sent during the outage. */
  newcomerRequestsDuringOutage: number;
  /** Requests all clients sent during the outage. */
  requestsDuringOutage: number;
  /** Samples after the outage began where a party member (holding a token before it) held none. */
  partyLapses: number;
}

/**
 * A party of 2 holding 1-hour tokens through an outage, and 3 newcomers joining another room
 * soon after it began (nobody holds that room's token: it takes a CAS call, and the page shows no token
 * until the outage ends): CAS answering 500, CAS hanging, Redis down (saved, stopped and started
 * again with its data, as a Redis with persistence restarts), or the instance the newcomers ask
 * cutting every connection.
 */
export async function outage({
  pkg,
  kind,
  outageMs,
  joinAfterMs = 500,
  watchAfterMs = 8_000,
}: {
  pkg: PackageUnderTest;
  kind: OutageKind;
  outageMs: number;
  /** When the newcomers join, from the outage's start. @defaultValue 500 */
  joinAfterMs?: number;
  watchAfterMs?: number;
}): Promise<OutageResult> {
  const stage = await startStage({ pkg, tokenLifetimeMs: 3_600_000 });
  try {
    const instances = [await stage.addInstance({ name: 'a' }), await stage.addInstance({ name: 'b' })];
    const party = stage.party({ room: 'movie-night' });
    const late = stage.party({ room: 'late-show' });
    const start = mark(stage);
    await gather(party, instances, 2);
    const inspector = kind === 'redis-down' ? await stage.inspect() : undefined;
    const outageFrom = Date.now();
    switch (kind) {
      case 'cas-500':
        stage.cas.setMode('error');
        break;
      case 'cas-hang':
        stage.cas.setMode('hang');
        break;
      case 'redis-down':
        // The rooms stay in Redis's snapshot, as with a Redis that persists.
        await inspector!.sendCommand(['SAVE']);
        await stage.redis.stop();
        break;
      case 'instance-down':
        instances[1]!.down();
        break;
    }
    await sleep(joinAfterMs);
    // The newcomers ask the instance that is down, in that case; either instance otherwise.
    const newcomers = [0, 1, 2].map((index) => late.join(kind === 'instance-down' ? instances[1]! : instances[index % 2]!));
    await sleep(outageFrom + outageMs - Date.now());
    switch (kind) {
      case 'cas-500':
      case 'cas-hang':
        stage.cas.setMode('ok');
        break;
      case 'redis-down':
        await stage.redis.start();
        break;
      case 'instance-down':
        instances[1]!.up();
        break;
    }
    const backAt = Date.now();
    const newcomerTokenAt: (number | undefined)[] = newcomers.map(() => undefined);
    await until(() => {
      const held = late.held();
      newcomers.forEach((client, index) => {
        if (held[client] !== undefined) newcomerTokenAt[index] ??= Date.now();
      });
      return newcomerTokenAt.every((at) => at !== undefined);
    }, watchAfterMs);
    const servingAt = kind === 'redis-down' ? Math.max(backAt, ...instances.map((instance) => instance.redisReadyAt)) : backAt;
    await sleep(backAt + watchAfterMs - Date.now());
    const figures = await finish(stage, [party, late], start);
    const during = [...party.fetches, ...late.fetches].filter(({ sentAt }) => sentAt >= outageFrom && sentAt < backAt);
    return {
      ...figures,
      kind,
      outageFrom,
      backAt,
      servingAt,
      newcomerTokenAt,
      newcomerRequestsDuringOutage: late.fetches.filter(({ sentAt }) => sentAt >= outageFrom && sentAt < backAt).length,
      requestsDuringOutage: during.length,
      partyLapses: party.samples.filter(({ at, held }) => at >= outageFrom && held.some((token) => token === undefined)).length,
    };
  } finally {
    await stage.close();
  }
}
