/**
 * One request of the Engine API server, as its routes and hooks see it.
 *
 * @module
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** The part of a pino logger the API writes with (none in in-process tests: {@link SILENT_LOG}). */
export interface ApiLog {
  readonly level: string;
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const SILENT_LOG: ApiLog = { level: 'silent', debug() {}, warn() {}, error() {} };

/** What a route declares besides its handler. */
export interface RouteConfig {
  /** The route reads its body itself, as a stream (plugin context uploads): no JSON parsing. */
  readonly rawBody?: boolean;
}

/** The route a request matched: its pattern (`/volumes/:name`) and config; none for unmatched requests. */
export interface MatchedRoute {
  readonly url: string;
  readonly config: RouteConfig;
}

export interface ApiRequest {
  readonly raw: IncomingMessage;
  readonly method: string;
  /** The URL without its `/vX.Y` prefix (what routes match). */
  readonly url: string;
  /** The URL as the client sent it. */
  readonly originalUrl: string;
  readonly headers: IncomingHttpHeaders;
  /** The query, one value per name (Go's `url.Values.Get`). */
  readonly query: Readonly<Record<string, string>>;
  /** Route parameters, percent-decoded (`name` of `/volumes/:name`, `*` of a wildcard). */
  readonly params: Readonly<Record<string, string>>;
  readonly route: MatchedRoute | undefined;
  /** Parsed JSON, the body stream for {@link RouteConfig.rawBody} routes, `undefined` without a body. */
  body: unknown;
  readonly log: ApiLog;
}
