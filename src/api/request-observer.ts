/**
 * An observation point for metrics: after each response, its method, route pattern, status and duration. The
 * route is the router's pattern (`/volumes/:name`), never the raw URL, so a label set stays bounded whatever
 * clients send; the plugin wildcard is refined by its action (`/plugins/:name/enable`).
 *
 * @module
 */
import { splitPath } from './routes/plugins.ts';
import type { ApiRequest } from './server/request.ts';
import type { ApiServer } from './server/server.ts';

/** Told about every answered request. Called on the hot path: it must be cheap and must not throw. */
export interface RequestObserver {
  requestDone(method: string, route: string, statusCode: number, seconds: number): void;
}

/** The label of requests that matched no route (404s, the 501 families). */
export const UNMATCHED_ROUTE = 'unmatched';

const PLUGIN_WILDCARD = '/plugins/*';

/** The route pattern of a request, the plugin wildcard split into its actions. */
export function routeOf(req: ApiRequest): string {
  const url = req.route?.url;
  if (url === undefined) return UNMATCHED_ROUTE;
  if (url !== PLUGIN_WILDCARD) return url;
  const { action } = splitPath((req.params as { '*'?: string })['*'] ?? '');
  return action ? `/plugins/:name/${action}` : '/plugins/:name';
}

const observers = new WeakMap<ApiServer, RequestObserver[]>();

/** The observers given to `app` (api/fast-path.ts tells them about the requests it answers before the pipeline). */
export function observersOf(app: ApiServer): RequestObserver[] {
  let list = observers.get(app);
  if (list === undefined) {
    list = [];
    observers.set(app, list);
  }
  return list;
}

/**
 * Adds one `onResponse` hook that tells `observer` about each request. Only berthd with `--metrics-addr` calls
 * this: without it the API has no per-request hook at all. Must be called before the server listens.
 */
export function observeRequests(app: ApiServer, observer: RequestObserver): void {
  observersOf(app).push(observer);
  app.addHook('onResponse', (req, reply) => {
    observer.requestDone(req.method, routeOf(req), reply.statusCode, reply.elapsedTime / 1000);
  });
}
