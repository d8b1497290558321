/**
 * The authorization chain (`--authorization-plugin`, plugins.md §5.4): every API request, then its response,
 * goes through `AuthZPlugin.AuthZReq` / `AuthZRes` of each configured plugin in order. A deny is a 403 with the
 * plugin's message; a plugin that fails (crashed, answers an error, times out) denies (fail closed). A disabled
 * plugin is skipped and a removed one leaves the chain, as dockerd intends (it forgets the second).
 *
 * @module
 */
import { ForbiddenError } from '../../errdefs/index.ts';
import type { PluginClient } from './plugin-client.ts';

/**
 * What the chain needs of the plugin manager: whether a plugin is enabled, a client for its authz calls, and its
 * remove events (a removed plugin leaves the chain).
 */
export interface AuthzPlugins {
  inspect(name: string): { readonly Enabled: boolean };
  client(name: string, capability: 'authz'): PluginClient;
  on(
    event: 'event',
    listener: (e: {
      readonly Action: string;
      readonly Actor: { readonly Attributes: Record<string, string> };
    }) => void,
  ): unknown;
}

/** What a plugin sees of a request (Docker's authorization.Request fields). */
export interface AuthzRequest {
  readonly User: string;
  readonly UserAuthNMethod: string;
  readonly RequestMethod: string;
  readonly RequestUri: string;
  /** base64; absent for streamed bodies (plugin uploads). */
  readonly RequestBody?: string;
  readonly RequestHeaders: Record<string, string>;
}

export interface AuthzResponse {
  readonly ResponseStatusCode: number;
  readonly ResponseHeaders: Record<string, string>;
  /** base64; absent for streamed answers (events, logs, runs). */
  readonly ResponseBody?: string;
}

interface Verdict {
  Allow?: boolean;
  Msg?: string;
  Err?: string;
}

/** Per-call deadline: an authorization plugin is on every request's path. */
const AUTHZ_TIMEOUT_MS = 10_000;

export class AuthzChain {
  readonly #plugins: AuthzPlugins;
  #names: string[];

  constructor(plugins: AuthzPlugins, names: readonly string[] = []) {
    this.#plugins = plugins;
    this.#names = [...names];
    plugins.on('event', (e) => {
      if (e.Action === 'remove')
        this.#names = this.#names.filter((n) => !sameName(n, e.Actor.Attributes.name ?? ''));
    });
  }

  /** The configured plugin names, in order. */
  names(): string[] {
    return [...this.#names];
  }

  /** Replaces the chain (configuration reload). */
  setNames(names: readonly string[]): void {
    this.#names = [...names];
  }

  /** Plugins the chain calls now: configured, installed and enabled. */
  active(): string[] {
    return this.#names.filter((n) => {
      try {
        return this.#plugins.inspect(n).Enabled;
      } catch {
        return false;
      }
    });
  }

  /** @throws {ForbiddenError} when a plugin denies or fails */
  async authorizeRequest(req: AuthzRequest): Promise<void> {
    for (const name of this.active()) await this.#ask(name, 'AuthZPlugin.AuthZReq', req);
  }

  /** @throws {ForbiddenError} when a plugin denies or fails */
  async authorizeResponse(req: AuthzRequest, res: AuthzResponse): Promise<void> {
    for (const name of this.active()) await this.#ask(name, 'AuthZPlugin.AuthZRes', { ...req, ...res });
  }

  async #ask(name: string, method: string, body: unknown): Promise<void> {
    let verdict: Verdict;
    try {
      verdict = await this.#plugins
        .client(name, 'authz')
        .call<Verdict>(method, body, { timeoutMs: AUTHZ_TIMEOUT_MS });
    } catch (err) {
      throw new ForbiddenError(
        `authorization plugin ${name} failed, request denied: ${(err as Error).message}`,
      );
    }
    if (verdict.Err)
      throw new ForbiddenError(`authorization plugin ${name} failed, request denied: ${verdict.Err}`);
    if (!verdict.Allow)
      throw new ForbiddenError(`authorization denied by plugin ${name}: ${verdict.Msg ?? ''}`);
  }
}

function sameName(configured: string, removed: string): boolean {
  const strip = (n: string) => n.replace(/:latest$/, '');
  return strip(configured) === strip(removed);
}
