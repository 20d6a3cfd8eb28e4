/*
 * Written here rather than taken from an adapter library (@whatwg-node/server, @hono/node-server):
 * the handler answers GET only, so no request body needs streaming and a few lines do, and the
 * package keeps zero server dependencies. The request and response are typed structurally, not
 * with node:http's types, so the published types need no @types/node.
 */

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
}

/** Express/Connect's `next`: called with the error when the handler throws. */
export type NodeNextFunction = (error?: unknown) => void;

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

/**
 * Turns a Fetch-API handler (such as `createCasTokenHandler`'s) into a node:http listener or an
 * Express/Connect middleware. The request body is not read: the token handler answers GET and
 * HEAD only. TRACE, TRACK and CONNECT, which a Fetch-API `Request` cannot hold, answer 405 with
 * `Allow: GET, HEAD` without reaching the handler.
 *
 * @example
 * ```ts
 * app.use('/api/cas-token', toNodeHandler(casTokenHandlerFromEnv({ authorize })));
 * http.createServer(toNodeHandler(handler)).listen(3000);
 * ```
 */
export function toNodeHandler(handler: (request: Request) => Response | Promise<Response>): NodeHandler {
  return async function nodeHandler(req, res, next) {
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
    res.statusCode = response.status;
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie') res.setHeader(name, value);
    });
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) res.setHeader('Set-Cookie', cookies);
    res.end(await response.text());
  };
}
