/**
 * `serve()`: the HTTP side of a managed plugin. Listens on the plugin's unix socket, answers `Plugin.Activate`
 * with the protocols it was given handlers for, routes `POST /<Iface>.<Method>` to them with checked, typed
 * requests, answers in Docker's plugin media type, turns thrown errors into `{"Err": message}` and closes
 * cleanly on SIGTERM (what `docker plugin disable` sends before SIGKILL 10 s later).
 *
 * @module
 */
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname, isAbsolute, join } from 'node:path';
import { Readable } from 'node:stream';
import { type AuthzPlugin, authzProtocol } from './authz.ts';
import { decodeRequest, RequestError } from './fields.ts';
import { type LogDriver, logProtocol } from './logdriver.ts';
import { type IpamDriver, ipamProtocol, type NetworkDriver, networkProtocol } from './network.ts';
import type { Protocol, Route } from './route.ts';
import { type VolumeDriver, volumeProtocol } from './volume.ts';

/** The media type plugins answer with (Docker's clients send `Accept: …v1.2+json` and do not check it). */
export const PLUGIN_CONTENT_TYPE = 'application/vnd.docker.plugins.v1+json';
/** Where Docker looks for a managed plugin's socket, inside the plugin. */
export const PLUGIN_SOCKET_DIR = '/run/docker/plugins';
/** Larger requests are refused (413); Docker caps authorization bodies at 1 MiB. */
const MAX_REQUEST_BYTES = 16 << 20;

/** The protocols this plugin speaks: one handler object each. */
export interface Handlers {
  readonly volume?: VolumeDriver;
  readonly authz?: AuthzPlugin;
  readonly log?: LogDriver;
  readonly ipam?: IpamDriver;
  readonly network?: NetworkDriver;
}

export interface ServeOptions {
  /** `Interface.Socket` of config.json (a name under /run/docker/plugins) or an absolute path. */
  readonly socket: string;
  /** Close and exit on SIGTERM and SIGINT (default true). */
  readonly handleSignals?: boolean;
  /** Where failed calls are reported (default: stderr, which Docker keeps as the plugin's log). */
  readonly log?: (line: string) => void;
}

export interface PluginServer {
  /** The socket's path. */
  readonly socket: string;
  /** What `Plugin.Activate` answers. */
  readonly implements: readonly string[];
  /** Stops listening, ends open log streams and removes the socket. */
  close(): Promise<void>;
}

type AnyRoute = { route: Route<unknown>; handler: unknown };

function routesFor(handlers: Handlers): {
  table: Map<string, AnyRoute>;
  implements: string[];
  closers: (() => void)[];
} {
  const table = new Map<string, AnyRoute>();
  const names: string[] = [];
  const closers: (() => void)[] = [];
  const add = <H>(handler: H | undefined, protocol: Protocol<H>) => {
    if (!handler) return;
    names.push(protocol.implements);
    for (const route of protocol.routes)
      table.set(`/${route.method}`, { route: route as Route<unknown>, handler });
  };
  add(handlers.volume, volumeProtocol);
  add(handlers.authz, authzProtocol);
  if (handlers.log) {
    const log = logProtocol();
    closers.push(log.closeAll);
    add(handlers.log, log);
  }
  add(handlers.ipam, ipamProtocol);
  add(handlers.network, networkProtocol);
  if (!names.length) throw new TypeError('serve() needs at least one of: volume, authz, log, ipam, network');
  return { table, implements: names, closers };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body ?? {})}\n`;
  res.writeHead(status, { 'Content-Type': PLUGIN_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage, method: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES)
      throw new RequestError(`${method}: request larger than ${MAX_REQUEST_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RequestError(`${method}: the request body is not JSON: ${(err as Error).message}`);
  }
}

/** Answers one call: 200 with the handler's answer, 400 for a bad request, 404 for an unknown method, else 500. */
async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  routes: ReturnType<typeof routesFor>,
  log: (line: string) => void,
): Promise<void> {
  const path = (req.url ?? '').replace(/\?.*$/, '');
  const method = path.slice(1);
  if (req.method !== 'POST') return send(res, 405, { Err: `${method}: use POST` });
  if (path === '/Plugin.Activate') return send(res, 200, { Implements: routes.implements });
  const found = routes.table.get(path);
  if (!found)
    return send(res, 404, { Err: `${method}: this plugin does not implement it (404 page not found)` });
  const aborted = new AbortController();
  res.on('close', () => aborted.abort());
  const signal = aborted.signal;
  try {
    const request = decodeRequest(method, await readBody(req, method), found.route.fields);
    const result = await found.route.run(found.handler, request, { signal });
    if (found.route.stream && result instanceof Readable) {
      res.writeHead(200, { 'Content-Type': 'application/x-json-stream' });
      result.on('error', (err) => {
        log(`${method}: ${err.message}`);
        res.destroy(err);
      });
      result.pipe(res);
      res.on('close', () => result.destroy());
      return;
    }
    send(res, 200, result ?? {});
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const status = err instanceof RequestError ? 400 : 500;
    log(`${method}: ${message}`);
    send(res, status, { Err: message });
  }
}

/**
 * Serves `handlers` on `o.socket` until SIGTERM (or `close()`).
 * @throws {TypeError} when no handler is given
 */
export async function serve(handlers: Handlers, o: ServeOptions): Promise<PluginServer> {
  const socket = isAbsolute(o.socket) ? o.socket : join(PLUGIN_SOCKET_DIR, o.socket);
  const routes = routesFor(handlers);
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const server = createServer((req, res) => {
    answer(req, res, routes, log).catch((err: Error) => res.destroy(err));
  });
  mkdirSync(dirname(socket), { recursive: true });
  rmSync(socket, { force: true }); // left by a killed predecessor: Docker waits for this path to accept
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      for (const c of routes.closers) c();
      server.close(() => {
        rmSync(socket, { force: true });
        resolve();
      });
      server.closeIdleConnections();
    });
    return closing;
  };
  if (o.handleSignals !== false) {
    const stop = () => {
      close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
      setTimeout(() => server.closeAllConnections(), 5_000).unref();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  }
  return { socket, implements: routes.implements, close };
}
