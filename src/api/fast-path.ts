/**
 * `GET /plugins`, the API's hottest request (every `docker plugin ls`, every poll of an orchestrator), answered in
 * front of the server's pipeline when nothing in it would change the answer. The pipeline (routing, the request
 * and reply objects, the hooks) cost about what the bare answer costs (measured with fastify: ~15 of ~30 µs per
 * 2-plugin listing). Only the plain case is taken here: GET of `/plugins` or `/vX.Y/plugins` (a served version),
 * no body, the startup gate open, no active authorization plugin, request logging off, the server not closing,
 * and filters the listing accepts. Anything else (another path or method, a body, a version out of range, bad
 * filters, the gate holding, an authorization plugin, debug logging) reaches the pipeline untouched, which
 * answers it as always. The answer is the bytes the pipeline writes for it (fast-path.test.ts compares both,
 * status, headers and body); the request observer is told as the pipeline's hook tells it.
 *
 * @module
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AuthzPort, StartupPort } from './ports.ts';
import { parseQueryString } from './query.ts';
import { observersOf, type RequestObserver } from './request-observer.ts';
import type { ApiServer } from './server/server.ts';
import { hasBody } from './server/server.ts';
import { unsupportedVersion } from './versions.ts';

export interface FastPathOptions {
  /** The headers every answer carries, as the `onRequest` hook sets them (the reply writes the names lowercase). */
  readonly headers: Readonly<Record<string, string>>;
  /** The listing's body for the query; throws for bad filters (then the pipeline answers the error). */
  readonly listPlugins: (query: Readonly<Record<string, string>>) => string | Buffer;
  readonly authz?: AuthzPort | undefined;
  readonly startup?: StartupPort | undefined;
  /** Whether the pipeline writes a line per request (it does at debug and trace; the level is set at start). */
  readonly logsRequests: boolean;
}

/** The query of a listing without one: shared, as nothing changes it. */
const NO_QUERY: Readonly<Record<string, string>> = Object.freeze({});

/** `/plugins` and `/v1.41/plugins`, with a query; find-my-way reads anything else (`%`, `;`, `#`) its own way. */
const PLUGINS_URL = /^(?:\/v(\d+\.\d+))?\/plugins(?:\?([^#]*))?$/;

/**
 * Puts the fast path in front of the pipeline's request handler on `app.server` (with all of its settings:
 * keep-alive and request timeouts, connection tracking), before it listens.
 */
export function installFastPath(app: ApiServer, o: FastPathOptions): void {
  const server: Server = app.server;
  const [pipeline] = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  if (!pipeline) return;
  const told = observersOf(app); // observeRequests may add to it later, before the server listens
  // The headers as one flat array, rebuilt only when the length changes (a cached listing keeps it): no object
  // spread per request. The names are the lowercase ones the reply writes.
  const head = Object.entries(o.headers).flatMap(([k, v]) => [k.toLowerCase(), v]);
  head.push('content-type', 'application/json', 'content-length');
  let headers = [...head, '0'];
  let headersLength = 0;

  const answered = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET' || !server.listening) return false;
    const m = PLUGINS_URL.exec(req.url ?? '');
    if (!m || hasBody(req) || (m[1] !== undefined && !served(m[1]))) return false;
    if ((o.startup && !o.startup.authzReady) || (o.authz && o.authz.active().length > 0)) return false;
    if (o.logsRequests) return false;
    let body: string | Buffer;
    try {
      body = o.listPlugins(m[2] ? parseQueryString(m[2]) : NO_QUERY);
    } catch {
      return false; // the pipeline lists again and answers the error in Docker's shape
    }
    const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    if (told.length > 0) observe(res, told);
    if (length !== headersLength) {
      headers = [...head, String(length)];
      headersLength = length;
    }
    res.writeHead(200, headers);
    res.end(body);
    return true;
  };

  server.removeListener('request', pipeline);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!answered(req, res)) pipeline(req, res);
  });
}

/** Versions seen served (a few: every client pins one), so the version is compared once, not per request. */
const servedVersions = new Set<string>();

function served(version: string): boolean {
  if (servedVersions.has(version)) return true;
  if (unsupportedVersion(version) !== undefined) return false;
  if (servedVersions.size < 64) servedVersions.add(version); // bounded: `01.41` and such are served too
  return true;
}

function observe(res: ServerResponse, told: readonly RequestObserver[]): void {
  const start = performance.now();
  res.once('finish', () => {
    const seconds = (performance.now() - start) / 1000;
    for (const observer of told) observer.requestDone('GET', '/plugins', res.statusCode, seconds);
  });
}
