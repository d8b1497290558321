/**
 * The Engine API server (api/server/): configured the way the docker CLI, dockerode and the Python SDK expect (exact
 * `application/json` answers, request bodies whatever their content type, `/vX.Y` prefixes, `{"message"}` errors,
 * `Api-Version` headers), with berth's routes.
 *
 * @module
 */
import { httpStatusOf, InvalidParameterError } from '../errdefs/index.ts';
import { registerAuthz } from './authz-hooks.ts';
import type { Backend } from './backend.ts';
import { readRequestBody } from './body.ts';
import { DEFAULT_BODY_IDLE_TIMEOUT_MS, registerBodyTimeout } from './body-timeout.ts';
import { installFastPath } from './fast-path.ts';
import { parseQueryString } from './query.ts';
import { registerEventRoutes } from './routes/events.ts';
import { pluginListing, registerPluginRoutes } from './routes/plugins.ts';
import { registerRunRoutes } from './routes/runs.ts';
import { registerRuntimeRoutes } from './routes/runtimes.ts';
import { registerSystemRoutes } from './routes/system.ts';
import { registerVolumeRoutes } from './routes/volumes.ts';
import type { ApiLog } from './server/request.ts';
import { ApiServer } from './server/server.ts';
import { registerStartupGate } from './startup-gate.ts';
import { API_VERSION, splitVersionPrefix, unsupportedVersion } from './versions.ts';

/** Docker endpoint families berth does not serve: answered 501 with a message, never a hang. */
const NOT_IMPLEMENTED = [
  'containers',
  'images',
  'networks',
  'build',
  'exec',
  'swarm',
  'services',
  'nodes',
  'tasks',
  'secrets',
  'configs',
  'session',
  'distribution',
  'commit',
  'system',
];

/** pino levels at which the one line per request is written. */
const LOGS_REQUESTS = new Set(['debug', 'trace']);

export interface ApiOptions {
  /** pino logger; none by default (in-process tests). */
  readonly loggerInstance?: ApiLog;
  /** A request body that sends nothing for this long is answered 408 (default 60 s). */
  readonly bodyIdleTimeoutMs?: number;
  /** false: `GET /plugins` goes through the whole pipeline too (fast-path.test.ts compares both answers). */
  readonly fastPath?: boolean;
}

export function createApi(backend: Backend, options: ApiOptions = {}): ApiServer {
  const app = new ApiServer({
    log: options.loggerInstance,
    // Strip /v1.41 once, so every route is declared unversioned; the version is checked in onRequest.
    rewriteUrl: (url) => splitVersionPrefix(url).path,
    parseQuery: parseQueryString,
    parseBody: readRequestBody,
  });

  // Hooks on every request are callback-style, not async: an async hook costs a promise and a microtask per
  // request even when it has nothing to do (most requests are small GETs).
  const commonHeaders = {
    'Api-Version': API_VERSION,
    Server: `berth/${backend.system.facts.version} (linux)`,
    Ostype: 'linux',
    'Docker-Experimental': 'false',
  };
  app.addHook('onRequest', (req, reply) => {
    reply.headers(commonHeaders);
    const { version } = splitVersionPrefix(req.originalUrl);
    const problem = version ? unsupportedVersion(version) : undefined;
    if (problem) throw new InvalidParameterError(problem);
  });

  if (LOGS_REQUESTS.has(options.loggerInstance?.level ?? 'silent')) {
    app.addHook('onResponse', (req, reply) => {
      req.log.debug(
        { method: req.method, url: req.url, status: reply.statusCode, ms: reply.elapsedTime },
        'request',
      );
    });
  }

  app.setErrorHandler((err, req, reply) => {
    const status = httpStatusOf(err);
    if (status >= 500) req.log.error({ err }, 'request failed');
    void reply
      .code(status)
      .type('application/json')
      .send({ message: (err as Error).message });
  });

  app.setNotFoundHandler((req, reply) => {
    const family = req.url.split(/[/?]/)[1] ?? '';
    if (NOT_IMPLEMENTED.includes(family)) {
      return reply
        .code(501)
        .type('application/json')
        .send({
          message: `berth does not implement /${family} yet: it serves plugins, volumes, events, runtimes, runs and system info`,
        });
    }
    return reply.code(404).type('application/json').send({ message: 'page not found' });
  });

  registerBodyTimeout(app, options.bodyIdleTimeoutMs ?? DEFAULT_BODY_IDLE_TIMEOUT_MS);
  const gate = backend.startup && registerStartupGate(app, backend.startup);
  if (backend.authz) registerAuthz(app, backend.authz, gate?.exempt);
  registerSystemRoutes(app, backend);
  registerPluginRoutes(app, backend);
  registerEventRoutes(app, backend);
  registerVolumeRoutes(app, backend);
  registerRuntimeRoutes(app, backend);
  registerRunRoutes(app, backend);
  if (options.fastPath !== false) {
    installFastPath(app, {
      headers: commonHeaders,
      listPlugins: (query) => pluginListing(backend.plugins, query),
      authz: backend.authz,
      startup: backend.startup,
      logsRequests: LOGS_REQUESTS.has(options.loggerInstance?.level ?? 'silent'),
    });
  }
  return app;
}
