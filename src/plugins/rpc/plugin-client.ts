/**
 * The client berthd uses to call a plugin over its socket (plugins.md §5.3): `POST /<Iface>.<Method>` with
 * `Accept: application/vnd.docker.plugins.v1.2+json`, JSON args, `{"Err": m}` → `<Iface>.<Method>: m`.
 * Transport failures before a request reaches the plugin (not listening yet, restarting) are retried with
 * bounded backoff; a plugin that dies mid-call or does not answer in time gives a clear error, never a hang.
 *
 * @module
 */
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type * as Undici from 'undici';
import { DeadlineError, NotFoundError, SystemError, UnavailableError } from '../../errdefs/index.ts';
import { type SocketAddress, socketAddress } from '../../host/index.ts';

/** Docker's per-call timeouts: volume Create and Mount get 2 minutes, everything else 1 minute. */
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;
export const LONG_CALL_TIMEOUT_MS = 120_000;
const LONG_CALLS = new Set(['VolumeDriver.Create', 'VolumeDriver.Mount']);

export const PLUGIN_MEDIA_TYPE = 'application/vnd.docker.plugins.v1.2+json';

// undici (~15 MiB of berthd's memory) loads with the first plugin client: an idle berthd has none.
const requireOnUse = createRequire(import.meta.url);
const undici = (): typeof Undici => requireOnUse('undici') as typeof Undici;

/**
 * Told how each call went, for metrics: the whole call (retries included; for a stream, until the plugin
 * answered) and the error it ended with. It must be cheap and must not throw.
 */
export interface RpcObserver {
  callDone(plugin: string, method: string, seconds: number, error?: unknown): void;
}

export interface PluginClientOptions {
  /** How long connection failures are retried before giving up (moby: ~15 s of 1, 2, 4, 8 s waits). */
  readonly retryWindowMs?: number;
  /** First retry delay; doubles up to 5 s. */
  readonly retryBaseMs?: number;
  readonly observer?: RpcObserver | undefined;
}

/** Errors that mean the request never reached the plugin, so retrying cannot repeat a side effect. */
const NOT_CONNECTED = new Set(['ENOENT', 'ECONNREFUSED', 'EAGAIN']);

function transportCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: string }; code?: string }).cause ?? (err as { code?: string });
  return cause?.code;
}

export class PluginClient {
  readonly #address: SocketAddress;
  readonly #agent: Undici.Agent;
  readonly #retryWindowMs: number;
  readonly #retryBaseMs: number;
  readonly #observer: RpcObserver | undefined;
  readonly name: string;

  /** @param name the plugin's name, for messages */
  constructor(name: string, socketDir: string, socket: string, o: PluginClientOptions = {}) {
    this.name = name;
    this.#address = socketAddress(socketDir, socket);
    this.#agent = new (undici().Agent)({ connect: { socketPath: this.#address.path } });
    this.#retryWindowMs = o.retryWindowMs ?? 15_000;
    this.#retryBaseMs = o.retryBaseMs ?? 1_000;
    this.#observer = o.observer;
  }

  /** Runs one call or stream opening, telling the observer (if any) how long it took and how it ended. */
  async #observed<T>(method: string, work: () => Promise<T>): Promise<T> {
    const observer = this.#observer;
    if (!observer) return work();
    const started = performance.now();
    try {
      const result = await work();
      observer.callDone(this.name, method, (performance.now() - started) / 1000);
      return result;
    } catch (err) {
      observer.callDone(this.name, method, (performance.now() - started) / 1000, err);
      throw err;
    }
  }

  /**
   * Calls `method` (e.g. `VolumeDriver.Create`) with `args` and returns the decoded answer. `timeoutMs` bounds
   * the whole call, retries included.
   * @throws {SystemError} `<method>: <plugin's Err>` for an error answer, or a transport error
   * @throws {DeadlineError} when the plugin does not answer within the timeout (504, naming plugin and call)
   * @throws {NotFoundError} when the plugin answers 404 (it does not implement the method)
   * @throws {UnavailableError} when the plugin cannot be reached within the retry window
   */
  call<T = Record<string, unknown>>(
    method: string,
    args?: unknown,
    o: { timeoutMs?: number } = {},
  ): Promise<T> {
    return this.#observed(method, () => this.#callWithRetries<T>(method, args, o));
  }

  async #callWithRetries<T>(method: string, args: unknown, o: { timeoutMs?: number }): Promise<T> {
    const timeoutMs =
      o.timeoutMs ?? (LONG_CALLS.has(method) ? LONG_CALL_TIMEOUT_MS : DEFAULT_CALL_TIMEOUT_MS);
    const started = performance.now();
    const window = Math.min(this.#retryWindowMs, timeoutMs);
    for (let attempt = 0; ; attempt++) {
      try {
        const remainingMs = Math.max(1, timeoutMs - (performance.now() - started));
        return await this.#once<T>(method, args, remainingMs, timeoutMs);
      } catch (err) {
        const code = transportCode(err);
        if (!code || !NOT_CONNECTED.has(code)) throw err;
        const delay = Math.min(this.#retryBaseMs * 2 ** attempt, 5_000);
        if (performance.now() - started + delay > window) {
          throw new UnavailableError(
            `${method}: plugin ${this.name} is not reachable (${code}) after ${Math.round(performance.now() - started)} ms of retries`,
          );
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async #once<T>(method: string, args: unknown, remainingMs: number, timeoutMs: number): Promise<T> {
    let res: Undici.Dispatcher.ResponseData;
    try {
      res = await undici().request(`http://plugin/${method}`, {
        method: 'POST',
        dispatcher: this.#agent,
        headers: { Accept: PLUGIN_MEDIA_TYPE },
        body: args === undefined ? '' : `${JSON.stringify(args)}\n`,
        headersTimeout: remainingMs,
        bodyTimeout: remainingMs,
      });
    } catch (err) {
      if (NOT_CONNECTED.has(transportCode(err) ?? '')) throw err;
      throw this.#transportError(method, err, timeoutMs);
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw this.#transportError(method, err, timeoutMs);
    }
    const parsed = parseJson(text);
    const pluginErr = typeof parsed?.Err === 'string' && parsed.Err !== '' ? parsed.Err : undefined;
    if (res.statusCode === 404)
      throw new NotFoundError(
        `${method}: ${pluginErr ?? (text.trim() || 'the plugin has no such method (404)')}`,
      );
    if (res.statusCode !== 200) throw new SystemError(`${method}: ${pluginErr ?? text.trim()}`);
    if (pluginErr) throw new SystemError(`${method}: ${pluginErr}`);
    return (parsed ?? {}) as T;
  }

  /**
   * Calls a method that answers with a byte stream (`LogDriver.ReadLogs`): the body, once the plugin answered
   * 200. Connection failures are retried like {@link call}; there is no body timeout (the stream may follow).
   * @throws as {@link call} for an error answer
   */
  stream(method: string, args: unknown): Promise<Readable> {
    return this.#observed(method, () => this.#openStream(method, args));
  }

  async #openStream(method: string, args: unknown): Promise<Readable> {
    const started = performance.now();
    for (let attempt = 0; ; attempt++) {
      let res: Undici.Dispatcher.ResponseData;
      try {
        res = await undici().request(`http://plugin/${method}`, {
          method: 'POST',
          dispatcher: this.#agent,
          headers: { Accept: PLUGIN_MEDIA_TYPE },
          body: `${JSON.stringify(args)}\n`,
          headersTimeout: DEFAULT_CALL_TIMEOUT_MS,
          bodyTimeout: 0,
        });
      } catch (err) {
        const code = transportCode(err);
        const delay = Math.min(this.#retryBaseMs * 2 ** attempt, 5_000);
        if (!code || !NOT_CONNECTED.has(code) || performance.now() - started + delay > this.#retryWindowMs)
          throw this.#transportError(method, err, DEFAULT_CALL_TIMEOUT_MS);
        await new Promise((r) => setTimeout(r, delay));
        continue;
      }
      if (res.statusCode === 200) return res.body;
      const text = await res.body.text().catch(() => '');
      const parsed = parseJson(text);
      const msg = typeof parsed?.Err === 'string' && parsed.Err !== '' ? parsed.Err : text.trim();
      if (res.statusCode === 404)
        throw new NotFoundError(`${method}: ${msg || 'the plugin has no such method (404)'}`);
      throw new SystemError(`${method}: ${msg}`);
    }
  }

  #transportError(method: string, err: unknown, timeoutMs: number): SystemError | DeadlineError {
    const { errors } = undici();
    if (err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError) {
      return new DeadlineError(
        `${method}: plugin ${this.name} did not answer within ${Math.round(timeoutMs)} ms`,
      );
    }
    if (
      err instanceof errors.SocketError ||
      transportCode(err) === 'ECONNRESET' ||
      transportCode(err) === 'EPIPE'
    ) {
      return new SystemError(
        `${method}: plugin ${this.name} closed the connection before answering (did it crash?)`,
      );
    }
    return new SystemError(`${method}: ${(err as Error).message}`);
  }

  async close(): Promise<void> {
    await this.#agent.close();
    this.#address.close();
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
