/*
 * Written here rather than taken from an adapter library (@whatwg-node/server, @hono/node-server):
 * the handler answers GET only, so no request body needs streaming and a few lines do, and the
 * package keeps zero server dependencies. The request and response are typed structurally, not
 * with node:http's types, so the published types need no @types/node.
 */
import { CasTokenError } from '../core/CasTokenError.js';
import { checkDuration } from './casConfig.js';

/** The parts of a node:http `IncomingMessage` (or an Express/Connect request) that are read. */
export interface NodeRequestLike {
  method?: string;
  url?: string;
  /** Express sets it to the full URL when a middleware is mounted on a path. */
  originalUrl?: string;
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** A TLS socket has `encrypted: true`; typed loosely so any socket type fits. */
  socket?: object;
}

/** The parts of a node:http `ServerResponse` (or an Express/Connect response) that are used. */
export interface NodeResponseLike {
  statusCode: number;
  setHeader(name: string, value: string | readonly string[]): unknown;
  end(body?: string): unknown;
  /** Closes the connection without an answer: what a network error (`Response.error()`) becomes. */
  destroy?(): unknown;
  /** Sends one piece of a streamed body; false asks to wait for `drain`. Without it the body is read whole first. */
  write?(chunk: Uint8Array): boolean;
  /** For `drain` (the client took what was written) and `close` (the connection is gone). */
  once?(event: 'drain' | 'close', listener: () => void): unknown;
  removeListener?(event: 'drain' | 'close', listener: () => void): unknown;
  /** True once the connection is closed (the client went away). */
  readonly destroyed?: boolean;
}

/** Express/Connect's `next`: called with the error when the handler throws. */
export type NodeNextFunction = (error?: unknown) => void;

export interface ToNodeHandlerOptions {
  /**
   * How long sending an answer's body may take: reading it from the Response (an `authorize`
   * Response streamed from another service) and the client taking it. Past it, or when the body
   * fails, the connection is closed; if nothing was sent yet, the answer is 502 (or, under
   * Express, the error goes to `next`).
   * @defaultValue 10_000
   */
  sendTimeoutMs?: number;
}

/** How long sending an answer's body may take unless told otherwise. */
export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

/** Methods a Fetch-API `Request` cannot hold: `new Request()` throws for them. */
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** A middleware for node:http, Express and Connect (the Vite dev server). */
export type NodeHandler = (req: NodeRequestLike, res: NodeResponseLike, next?: NodeNextFunction) => Promise<void>;

function toRequest(req: NodeRequestLike): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    // HTTP/2 pseudo-headers (`:path`) are not headers a Request can hold.
    if (value === undefined || name.startsWith(':')) continue;
    if (typeof value === 'string') headers.set(name, value);
    else for (const item of value) headers.append(name, item);
  }
  const host = typeof req.headers.host === 'string' && req.headers.host !== '' ? req.headers.host : 'localhost';
  const encrypted = (req.socket as { encrypted?: unknown } | undefined)?.encrypted === true;
  const origin = `${encrypted ? 'https' : 'http'}://${host}`;
  const url = new URL(req.originalUrl ?? req.url ?? '/', URL.canParse(origin) ? origin : 'http://localhost');
  return new Request(url, { method: req.method ?? 'GET', headers });
}

function sendJson(res: NodeResponseLike, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(JSON.stringify(body));
}

function writeHead(res: NodeResponseLike, response: Response): void {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('Set-Cookie', cookies);
}

/** Resolves once the client took what was written, or the connection closed. */
function drained(res: NodeResponseLike): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.removeListener?.('drain', done);
      res.removeListener?.('close', done);
      resolve();
    };
    res.once?.('drain', done);
    res.once?.('close', done);
  });
}

/**
 * Sends `response`'s status, headers and body within `timeoutMs`, streaming the body (it may be
 * large). The status and headers go out with the body's first piece, so a body that fails before
 * it (or sends nothing in time) can still be answered otherwise: `progress.sent` says whether the
 * answer began when this rejects.
 */
async function sendResponse(res: NodeResponseLike, response: Response, timeoutMs: number, progress: { sent: boolean }): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CasTokenError('timeout', `The answer was not sent within sendTimeoutMs (${timeoutMs} ms).`)), timeoutMs);
  });
  const within = <T>(promise: Promise<T>) => Promise.race([promise, expired]);
  const begin = () => {
    writeHead(res, response);
    progress.sent = true;
  };
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    if (response.body === null) {
      begin();
      res.end();
    } else if (typeof res.write !== 'function') {
      // A response object that cannot stream: the body is read whole first.
      const text = await within(response.text());
      begin();
      res.end(text);
    } else {
      reader = response.body.getReader();
      for (;;) {
        const { done, value } = await within(reader.read());
        if (!progress.sent) begin();
        if (done) break;
        if (!res.write(value)) await within(drained(res));
        if (res.destroyed === true) throw new Error('The client closed the connection.');
      }
      res.end();
    }
  } catch (error) {
    // Stops reading a body nobody will receive; a stream that cannot be cancelled is left as is.
    reader?.cancel().catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Turns a Fetch-API handler (such as `createCasTokenHandler`'s) into a node:http listener or an
 * Express/Connect middleware. The request body is not read: the token handler answers GET and
 * HEAD only. TRACE, TRACK and CONNECT, which a Fetch-API `Request` cannot hold, answer 405 with
 * `Allow: GET, HEAD` without reaching the handler.
 *
 * The answer's body is streamed to the client, bounded by `sendTimeoutMs`. A body that fails or
 * does not finish in time (an `authorize` Response from a service that dropped its connection)
 * closes the connection once the answer began; before its first byte, it answers 502, or hands
 * the error to Express's `next`. The returned promise never rejects: nothing escapes the listener
 * to end the process.
 *
 * @example
 * ```ts
 * app.use('/api/cas-token', toNodeHandler(casTokenHandlerFromEnv({ authorize })));
 * http.createServer(toNodeHandler(handler)).listen(3000);
 * ```
 */
export function toNodeHandler(handler: (request: Request) => Response | Promise<Response>, options: ToNodeHandlerOptions = {}): NodeHandler {
  const sendTimeoutMs = checkDuration('sendTimeoutMs', options.sendTimeoutMs, DEFAULT_SEND_TIMEOUT_MS, true);

  async function serve(req: NodeRequestLike, res: NodeResponseLike, next: NodeNextFunction | undefined): Promise<void> {
    if (FORBIDDEN_METHODS.has((req.method ?? 'GET').toUpperCase())) {
      return sendJson(res, 405, { error: 'method-not-allowed', message: 'Ask for a token with GET.' }, { Allow: 'GET, HEAD' });
    }
    let response: Response;
    try {
      response = await handler(toRequest(req));
    } catch (error) {
      if (next !== undefined) return next(error);
      return sendJson(res, 500, { error: 'internal', message: 'The token proxy failed.' });
    }
    // `Response.error()` (status 0, e.g. a mock proxy's network failure) has no HTTP answer:
    // the client sees the connection drop, as it would on a real network error.
    if (response.type === 'error' || response.status === 0) {
      if (res.destroy) return void res.destroy();
      return sendJson(res, 502, { error: 'internal', message: 'The token proxy gave no answer.' });
    }
    const progress = { sent: false };
    try {
      await sendResponse(res, response, sendTimeoutMs, progress);
    } catch (error) {
      // Half an answer cannot be taken back: the client must see the connection drop, not a
      // short body it would take for the whole. An error handler could not answer either.
      if (progress.sent) return void res.destroy?.();
      if (next !== undefined) return next(error);
      return sendJson(res, 502, { error: 'internal', message: 'The token proxy could not send its answer.' });
    }
  }

  return async function nodeHandler(req, res, next) {
    try {
      await serve(req, res, next);
    } catch {
      // Whatever is left (a header Node refuses, a `next` that throws): the connection is closed,
      // never a rejection that would end the process.
      try {
        res.destroy?.();
      } catch {
        // Nothing more can be done for this request.
      }
    }
  };
}
