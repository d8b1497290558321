/**
 * The gate in front of every route while berthd starts. berthd listens at once, so `/_ping` answers at once
 * (the docker CLI pings before every command, and health checks see a live daemon), but until the authorization
 * plugins are restored any other request is held: served, through the chain, as soon as it is ready, or answered
 * 503 `starting: authorization plugin X not ready` when the hold is over. Nothing is served without
 * authorization. The held requests and the ping are exempt from the chain's hooks (the chain cannot answer
 * yet); once the chain is ready nothing is exempt and the gate costs one boolean read per request.
 *
 * @module
 */
import type { StartupPort } from './ports.ts';
import type { ApiRequest } from './server/request.ts';
import type { ApiServer } from './server/server.ts';

/** Answered while the authorization chain is not ready: it says only that the daemon is up. */
const UNGATED_ROUTES = new Set(['/_ping']);

export interface StartupGate {
  /** Whether the authorization hooks must leave this request alone (answered before the chain was ready). */
  exempt(req: ApiRequest): boolean;
}

export function registerStartupGate(app: ApiServer, startup: StartupPort): StartupGate {
  const exempt = new WeakSet<ApiRequest>();
  // Returns at once (no promise) once the chain is ready.
  app.addHook('onRequest', (req) => {
    if (startup.authzReady) return;
    exempt.add(req);
    if (UNGATED_ROUTES.has(req.route?.url ?? '')) return;
    return startup.untilAuthzReady().then(() => {
      exempt.delete(req); // held until the chain was ready: authorized like any other request
    });
  });
  return { exempt: (req) => !startup.authzReady && exempt.has(req) };
}
