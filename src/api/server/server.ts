/**
 * The Engine API's HTTP server: node:http, find-my-way's router (fastify's), and one fixed request pipeline —
 * the URL rewrite, `onRequest` hooks, the body (through `preParsing` hooks, then the body parser), `preHandler`
 * hooks, the route, `onSend` hooks, `onResponse` hooks — with one error handler and one not-found handler.
 *
 * Why not fastify, which berth used before: fastify and what it loads (fast-json-stringify, avvio, semver, its ajv
 * compilers…) were ~3.4 MiB of the idle daemon's 57 MiB RSS (BENCHMARKS.md, "Memory"), and berth used none of
 * what it adds over this: no schemas, no plugins, no encapsulation, one catch-all body parser. Hooks return `void` or a
 * promise; a hook that answers at once costs no promise, so a request without authorization or a start-up gate
 * pays for none. `inject` (tests) is light-my-request's, as fastify's was.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import Router from 'find-my-way';
import type { InjectOptions, Response as InjectResponse } from 'light-my-request';
import { InvalidParameterError, PayloadTooLargeError } from '../../errdefs/index.ts';
import { ApiReply, type SendHook } from './reply.ts';
import { type ApiLog, type ApiRequest, type MatchedRoute, type RouteConfig, SILENT_LOG } from './request.ts';

export type Handler = (req: ApiRequest, reply: ApiReply) => unknown;
export type RequestHook = (req: ApiRequest, reply: ApiReply) => void | Promise<void>;
export type BodyHook = (req: ApiRequest, reply: ApiReply, body: Readable) => Readable;
export type ResponseHook = (req: ApiRequest, reply: ApiReply) => void;
export type ErrorHandler = (err: unknown, req: ApiRequest, reply: ApiReply) => void;

export interface ServerOptions {
  readonly log?: ApiLog | undefined;
  /** The URL routes match (`/v1.41/info` → `/info`); `originalUrl` keeps what the client sent. */
  readonly rewriteUrl?: (url: string) => string;
  readonly parseQuery: (query: string) => Record<string, string>;
  /** The body of a request that has one (methods other than GET and HEAD), as the route gets it. */
  readonly parseBody: (req: ApiRequest, body: Readable) => unknown;
}

interface Hooks {
  onRequest: RequestHook[];
  preParsing: BodyHook[];
  preHandler: RequestHook[];
  onSend: SendHook[];
  onResponse: ResponseHook[];
}

type HookName = keyof Hooks;

interface Store {
  readonly handler: Handler;
  readonly route: MatchedRoute;
}

const NO_BODY_METHODS = new Set(['GET', 'HEAD']);

/** Whether a request carries a body: a non-zero length or a chunked one. */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

export class ApiServer {
  readonly server: Server;
  readonly #router: Router.Instance<Router.HTTPVersion.V1>;
  readonly #hooks: Hooks = { onRequest: [], preParsing: [], preHandler: [], onSend: [], onResponse: [] };
  readonly #options: ServerOptions;
  readonly #log: ApiLog;
  #errorHandler: ErrorHandler = (err, _req, reply) => reply.code(500).send({ message: String(err) });
  #notFound: Handler = (_req, reply) => reply.code(404).send({ message: 'page not found' });
  #closing = false;

  constructor(options: ServerOptions) {
    this.#options = options;
    this.#log = options.log ?? SILENT_LOG;
    this.#router = Router({
      querystringParser: options.parseQuery,
      // find-my-way's default (100) answered a longer volume or runtime name 404; a name is bounded by the
      // request line anyway (node refuses headers over 16 KiB).
      maxParamLength: 4096,
      // Malformed percent-encoding: find-my-way returns this handler, which hands the path back (see #dispatch).
      onBadUrl: (path: string) => path,
    });
    this.server = createServer((req, res) => this.#dispatch(req, res));
    this.server.on('clientError', answerClientError);
    // Uploads of GiBs and `GET /events` last as long as they last: only idle keep-alive connections time out.
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 72_000;
    this.server.setTimeout(0);
  }

  get(url: string, handler: Handler, config: RouteConfig = {}): void {
    this.route(['GET'], url, handler, config);
  }

  post(url: string, handler: Handler, config: RouteConfig = {}): void {
    this.route(['POST'], url, handler, config);
  }

  delete(url: string, handler: Handler, config: RouteConfig = {}): void {
    this.route(['DELETE'], url, handler, config);
  }

  /** A route for these methods; every GET route answers HEAD too (Node drops the body), as dockerd's do. */
  route(methods: readonly string[], url: string, handler: Handler, config: RouteConfig = {}): void {
    const store: Store = { handler, route: { url, config } };
    for (const method of methods.includes('GET') ? [...methods, 'HEAD'] : methods)
      this.#router.on(method as Router.HTTPMethod, url, () => {}, store);
  }

  addHook<K extends HookName>(name: K, hook: Hooks[K][number]): void {
    (this.#hooks[name] as Hooks[K][number][]).push(hook);
  }

  /** Answers every error thrown by a hook, the body parser or a route (it must send). */
  setErrorHandler(handler: ErrorHandler): void {
    this.#errorHandler = handler;
  }

  /** Answers requests no route matched, after the `onRequest` and `preHandler` hooks. */
  setNotFoundHandler(handler: Handler): void {
    this.#notFound = handler;
  }

  listen(at: { path: string } | { host: string; port: number }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      const done = () => {
        this.server.off('error', reject);
        resolve();
      };
      if ('path' in at) this.server.listen(at.path, done);
      else this.server.listen(at.port, at.host, done);
    });
  }

  /** Stops listening and ends every connection, idle or not; requests still arriving get a 503. */
  close(): Promise<void> {
    this.#closing = true;
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** A request in process, without a socket (tests); light-my-request is loaded only here. */
  async inject(options: InjectOptions | string): Promise<InjectResponse> {
    const { inject } = await import('light-my-request');
    return inject((req, res) => this.#dispatch(req, res), options);
  }

  #dispatch(raw: IncomingMessage, res: ServerResponse): void {
    if (this.#closing) {
      res.writeHead(503, { 'content-type': 'application/json', connection: 'close' });
      res.end('{"message":"berthd is shutting down: retry once it is back"}');
      return;
    }
    const originalUrl = raw.url ?? '/';
    const url = this.#options.rewriteUrl ? this.#options.rewriteUrl(originalUrl) : originalUrl;
    const found = this.#router.find((raw.method ?? 'GET') as Router.HTTPMethod, url);
    const store = found?.store as Store | null | undefined;
    let handler = store?.handler ?? this.#notFound;
    if (found && !store) {
      const path = found.handler(raw, res, {}, undefined, {}) as unknown as string;
      handler = () => {
        throw new InvalidParameterError(
          `'${path}' is not a valid URL: a '%' must start a percent-encoded byte (write %25 for a '%' in a name)`,
        );
      };
    }
    const query = found?.searchParams ?? this.#options.parseQuery(queryOf(url));
    const req: ApiRequest = {
      raw,
      method: raw.method ?? 'GET',
      url,
      originalUrl,
      headers: raw.headers,
      query,
      params: (found?.params ?? {}) as Record<string, string>,
      route: store?.route,
      body: undefined,
      log: this.#log,
    };
    const reply = new ApiReply(res, req, this.#hooks.onSend, (err, r) => this.#answerError(err, r));
    if (this.#hooks.onResponse.length > 0) this.#observe(req, reply);
    this.#run(req, reply, handler).catch((err: unknown) => this.#answerError(err, reply));
  }

  async #run(req: ApiRequest, reply: ApiReply, handler: Handler): Promise<void> {
    if (!(await runHooks(this.#hooks.onRequest, req, reply))) return;
    if (!NO_BODY_METHODS.has(req.method) && hasBody(req.raw)) {
      let body: Readable = req.raw;
      for (const hook of this.#hooks.preParsing) body = hook(req, reply, body);
      const parsed = this.#options.parseBody(req, body);
      req.body = parsed instanceof Promise ? await parsed : parsed;
    }
    if (!(await runHooks(this.#hooks.preHandler, req, reply))) return;
    const result = handler(req, reply);
    const value = result instanceof Promise ? await result : result;
    if (!reply.sent) reply.send(value === reply ? undefined : value);
  }

  #answerError(err: unknown, reply: ApiReply): void {
    if (reply.sent || reply.raw.headersSent || reply.raw.destroyed) {
      // Too late for an answer (one is being written): the client sees the connection end, never a mixed answer.
      this.#log.warn({ err, url: reply.request.url }, 'request failed after its answer began');
      if (reply.raw.headersSent) reply.raw.destroy();
      return;
    }
    // A body over the limit would be read to its end before the next request on the connection: end it instead.
    // Other refusals leave the body to node, which reads and drops it, so an uploading client gets the answer.
    if (err instanceof PayloadTooLargeError) reply.header('connection', 'close');
    try {
      this.#errorHandler(err, reply.request, reply);
    } catch (again) {
      this.#log.error({ err: again }, 'the error handler failed');
      reply.raw.destroy();
    }
  }

  /** Tells the `onResponse` hooks about each answer written to its end (not about requests the client left). */
  #observe(req: ApiRequest, reply: ApiReply): void {
    reply.raw.once('finish', () => {
      for (const hook of this.#hooks.onResponse) {
        try {
          hook(req, reply);
        } catch (err) {
          this.#log.error({ err }, 'an onResponse hook failed');
        }
      }
    });
  }
}

/**
 * A request node could not parse (malformed, headers over 16 KiB): Docker's `{"message"}` shape, so the docker CLI
 * prints the reason instead of a bare status; then the connection ends.
 */
function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, message] = CLIENT_ERRORS[err.code ?? ''] ?? [
    '400 Bad Request',
    `malformed HTTP request: ${err.message}`,
  ];
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The client errors node names, as node's own handler answers them, with a message that says what to change. */
const CLIENT_ERRORS: Readonly<Record<string, readonly [string, string]>> = {
  HPE_HEADER_OVERFLOW: [
    '431 Request Header Fields Too Large',
    'request headers too large: at most 16 KiB of headers (a smaller X-Registry-Auth?)',
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [
    '408 Request Timeout',
    'request timed out: the headers did not arrive within 60 s',
  ],
};

/**
 * Runs hooks in order; false once one of them has answered. Synchronous until a hook returns a promise, so hooks
 * that answer at once make no promise of their own (the caller's `await` of the boolean is one microtask).
 */
function runHooks(
  hooks: readonly RequestHook[],
  req: ApiRequest,
  reply: ApiReply,
  from = 0,
): boolean | Promise<boolean> {
  for (let i = from; i < hooks.length; i++) {
    const pending = (hooks[i] as RequestHook)(req, reply);
    if (pending) return pending.then(() => !reply.sent && runHooks(hooks, req, reply, i + 1));
    if (reply.sent) return false;
  }
  return true;
}

function queryOf(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? '' : url.slice(at + 1);
}
