/**
 * The client berthd uses to call a plugin over its socket (plugins.md §5.3): `POST /<Iface>.<Method>` with
 * `Accept: application/vnd.docker.plugins.v1.2+json`, JSON args, `{"Err": m}` → `<Iface>.<Method>: m`.
 * Transport failures before a request reaches the plugin (not listening yet, restarting) are retried with
 * bounded backoff; a plugin that dies mid-call or does not answer in time gives a clear error, never a hang.
 *
 * @module
 */
import { Agent, type IncomingMessage, request } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { DeadlineError, NotFoundError, SystemError, UnavailableError } from '../../errdefs/index.ts';
import { type SocketAddress, socketAddress } from '../../host/index.ts';

/** Docker's per-call timeouts: volume Create and Mount get 2 minutes, everything else 1 minute. */
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;
export const LONG_CALL_TIMEOUT_MS = 120_000;
const LONG_CALLS = new Set(['VolumeDriver.Create', 'VolumeDriver.Mount']);

export const PLUGIN_MEDIA_TYPE = 'application/vnd.docker.plugins.v1.2+json';

/**
 * An idle kept-alive connection is closed after this long, as undici did (its default keep-alive timeout): before
 * the 5 s after which a node:http server closes it, so a call does not race the server's close of a reused socket.
 * Go's net/http servers (go-plugins-helpers) keep idle connections open; a server's `Keep-Alive: timeout=N` hint
 * shortens this (node's Agent reads it).
 */
const IDLE_CONNECTION_MS = 4_000;

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
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** A call's own deadline passed: told apart from the transport's errors. */
class CallTimeout extends Error {}

/** What one POST got: the status and the whole body, or for a successful stream its unread body. */
interface Answer {
  readonly status: number;
  readonly text: string;
  readonly body?: IncomingMessage;
}

export class PluginClient {
  readonly #address: SocketAddress;
  readonly #agent: Agent;
  readonly #retryWindowMs: number;
  readonly #retryBaseMs: number;
  readonly #observer: RpcObserver | undefined;
  /** Requests whose connection is still in use (a stream until its body closes), which close() waits for. */
  #inFlight = 0;
  #closed = false;
  #idle: (() => void) | undefined;
  readonly name: string;

  /** @param name the plugin's name, for messages */
  constructor(name: string, socketDir: string, socket: string, o: PluginClientOptions = {}) {
    this.name = name;
    this.#address = socketAddress(socketDir, socket);
    // One kept-alive connection per concurrent call, as undici's Agent kept: a plugin call costs a connect only
    // when the connections are all busy or idled out. Once closed, a connection a call frees is not kept.
    const agent = new Agent({ keepAlive: true, timeout: IDLE_CONNECTION_MS });
    const keep = agent.keepSocketAlive.bind(agent) as (s: unknown) => boolean;
    agent.keepSocketAlive = ((socket: Socket) => !this.#closed && keep(socket)) as Agent['keepSocketAlive'];
    this.#agent = agent;
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
    const body = args === undefined ? '' : `${JSON.stringify(args)}\n`;
    for (let attempt = 0; ; attempt++) {
      let answer: Answer;
      try {
        const remainingMs = Math.max(1, timeoutMs - (performance.now() - started));
        answer = await this.#post(method, body, remainingMs, false);
      } catch (err) {
        const code = transportCode(err);
        if (!code || !NOT_CONNECTED.has(code)) throw this.#transportError(method, err, timeoutMs);
        const delay = Math.min(this.#retryBaseMs * 2 ** attempt, 5_000);
        if (performance.now() - started + delay > window) {
          throw new UnavailableError(
            `${method}: plugin ${this.name} is not reachable (${code}) after ${Math.round(performance.now() - started)} ms of retries`,
          );
        }
        await new Promise((r) => setTimeout(r, delay));
        continue;
      }
      return decodeAnswer<T>(method, answer);
    }
  }

  /**
   * Calls a method that answers with a byte stream (`LogDriver.ReadLogs`): the body, once the plugin answered
   * 200. Connection failures are retried like {@link call}; `timeoutMs` (1 minute) bounds each attempt until the
   * answer's headers, and there is no body timeout (the stream may follow).
   * @throws as {@link call} for an error answer
   */
  stream(method: string, args: unknown, o: { timeoutMs?: number } = {}): Promise<Readable> {
    return this.#observed(method, () =>
      this.#openStream(method, args, o.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS),
    );
  }

  async #openStream(method: string, args: unknown, timeoutMs: number): Promise<Readable> {
    const started = performance.now();
    const body = `${JSON.stringify(args)}\n`;
    for (let attempt = 0; ; attempt++) {
      let answer: Answer;
      try {
        answer = await this.#post(method, body, timeoutMs, true);
      } catch (err) {
        const code = transportCode(err);
        const delay = Math.min(this.#retryBaseMs * 2 ** attempt, 5_000);
        if (!code || !NOT_CONNECTED.has(code) || performance.now() - started + delay > this.#retryWindowMs)
          throw this.#transportError(method, err, timeoutMs);
        await new Promise((r) => setTimeout(r, delay));
        continue;
      }
      if (answer.body) return answer.body;
      return decodeAnswer<never>(method, answer);
    }
  }

  /**
   * One `POST /<method>` as moby's client sends it (plugins.md §5.3: the Accept header, no Content-Type). The
   * deadline bounds the whole exchange, body included, except a stream's 200 body, handed over once its headers
   * are in. A connection that closes before the answer is complete rejects with its ECONNRESET.
   */
  #post(method: string, body: string, deadlineMs: number, stream: boolean): Promise<Answer> {
    if (this.#closed)
      return Promise.reject(new SystemError(`${method}: plugin ${this.name}'s client is closed`));
    this.#inFlight++;
    return new Promise<Answer>((resolve, reject) => {
      let done = false;
      let response: IncomingMessage | undefined;
      const finish = (err: unknown, answer?: Answer) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(answer as Answer);
      };
      const req = request({
        agent: this.#agent,
        socketPath: this.#address.path,
        method: 'POST',
        path: `/${method}`,
        headers: { Host: 'plugin', Accept: PLUGIN_MEDIA_TYPE, 'Content-Length': Buffer.byteLength(body) },
      });
      const timer = setTimeout(() => {
        finish(new CallTimeout());
        req.destroy();
      }, deadlineMs);
      req.on('error', (err) => finish(err));
      req.on('close', () => this.#requestDone(response));
      req.on('response', (res) => {
        response = res;
        if (stream && res.statusCode === 200) {
          // A connection lost before the reader starts leaves the error on the stream, for its reader to see,
          // instead of an uncaught 'error' event.
          res.on('error', () => undefined);
          return finish(undefined, { status: 200, text: '', body: res });
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          finish(undefined, { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
        );
        res.on('error', (err) => finish(err));
        res.on('close', () => finish(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
      });
      req.end(body);
    });
  }

  /** A request is over once both it and its answer closed (a stream's answer closes when its reader is done). */
  #requestDone(res: IncomingMessage | undefined): void {
    const over = () => {
      if (--this.#inFlight === 0) this.#idle?.();
    };
    if (res && !res.closed) res.once('close', over);
    else over();
  }

  #transportError(method: string, err: unknown, timeoutMs: number): Error {
    if (err instanceof SystemError) return err;
    if (err instanceof CallTimeout) {
      return new DeadlineError(
        `${method}: plugin ${this.name} did not answer within ${Math.round(timeoutMs)} ms`,
      );
    }
    const code = transportCode(err);
    if (code === 'ECONNRESET' || code === 'EPIPE') {
      return new SystemError(
        `${method}: plugin ${this.name} closed the connection before answering (did it crash?)`,
      );
    }
    return new SystemError(`${method}: ${(err as Error).message}`);
  }

  /**
   * Closes the idle connections and, once the calls and streams under way are over (as undici's Agent.close()
   * waited for them), the socket directory's descriptor their path may go through. Later calls are refused.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const sockets of Object.values(this.#agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
    if (this.#inFlight > 0) await new Promise<void>((r) => (this.#idle = r));
    this.#agent.destroy();
    this.#address.close();
  }
}

/** moby's decoding of an answer (plugins.md §5.3): `{"Err": m}` or the raw body of a non-200, 404 apart. */
function decodeAnswer<T>(method: string, { status, text }: Answer): T {
  const parsed = parseJson(text);
  const pluginErr = typeof parsed?.Err === 'string' && parsed.Err !== '' ? parsed.Err : undefined;
  if (status === 404)
    throw new NotFoundError(
      `${method}: ${pluginErr ?? (text.trim() || 'the plugin has no such method (404)')}`,
    );
  if (status !== 200) throw new SystemError(`${method}: ${pluginErr ?? text.trim()}`);
  if (pluginErr) throw new SystemError(`${method}: ${pluginErr}`);
  return (parsed ?? {}) as T;
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
