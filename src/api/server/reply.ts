/**
 * One answer of the Engine API server: status, headers and a payload, written once. A payload is sent as Docker
 * clients read it: a string or Buffer with its `Content-Length`, a stream piped as it comes (headers flushed at
 * once, so `docker events` sees its response before the first event), anything else as JSON, `undefined` as no
 * body (`Content-Length: 0`, none for 204 and 304). JSON answers say exactly `application/json`: the docker CLI
 * decodes `{"message"}` only then (no charset).
 *
 * @module
 */
import type { ServerResponse } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import type { ApiLog, ApiRequest } from './request.ts';

const JSON_TYPE = 'application/json';
/** Statuses that carry no body (RFC 9110): neither one nor its headers are sent. */
const BODILESS = new Set([204, 304]);

type Payload = string | Buffer | Readable | undefined;

/** Turns a payload into what is written, after the hooks that may change it (authorization). */
export type SendHook = (req: ApiRequest, reply: ApiReply, payload: Payload) => Payload | Promise<Payload>;

export function isStream(payload: unknown): payload is Readable {
  return typeof (payload as { pipe?: unknown } | null)?.pipe === 'function';
}

export class ApiReply {
  statusCode = 200;
  /** Set once `send` was called: a second send is ignored, as a handler's return after its own send is. */
  sent = false;
  readonly raw: ServerResponse;
  readonly request: ApiRequest;
  readonly log: ApiLog;
  readonly #headers: Record<string, string> = {};
  readonly #start: number;
  readonly #onSend: readonly SendHook[];
  readonly #onError: (err: unknown, reply: ApiReply) => void;
  /** A send hook failed: the error's answer is written without hooks (a hook failing again must not loop). */
  #hooksFailed = false;

  constructor(
    raw: ServerResponse,
    request: ApiRequest,
    onSend: readonly SendHook[],
    onError: (err: unknown, reply: ApiReply) => void,
  ) {
    this.raw = raw;
    this.request = request;
    this.log = request.log;
    this.#start = performance.now();
    this.#onSend = onSend;
    this.#onError = onError;
  }

  /** Milliseconds since the request arrived. */
  get elapsedTime(): number {
    return performance.now() - this.#start;
  }

  code(status: number): this {
    this.statusCode = status;
    return this;
  }

  type(contentType: string): this {
    return this.header('content-type', contentType);
  }

  header(name: string, value: string | number): this {
    this.#headers[name.toLowerCase()] = String(value);
    return this;
  }

  headers(values: Readonly<Record<string, string>>): this {
    for (const [name, value] of Object.entries(values)) this.header(name, value);
    return this;
  }

  getHeader(name: string): string | undefined {
    return this.#headers[name.toLowerCase()];
  }

  getHeaders(): Readonly<Record<string, string>> {
    return this.#headers;
  }

  /** Sends `payload` (see the module's comment); returns the reply, so a handler may `return reply.send(…)`. */
  send(payload?: unknown): this {
    if (this.sent) return this;
    this.sent = true;
    let body: Payload;
    try {
      body = this.#serialise(payload);
    } catch (err) {
      this.#failed(err, undefined); // a payload JSON cannot write (a cycle, a BigInt)
      return this;
    }
    const type = this.#headers['content-type'];
    if (type !== undefined && type !== JSON_TYPE && type.startsWith(JSON_TYPE))
      this.#headers['content-type'] = JSON_TYPE;
    if (this.#onSend.length === 0 || this.#hooksFailed) this.#writeOrFail(body);
    else this.#runHooks(body, 0);
    return this;
  }

  #serialise(payload: unknown): Payload {
    if (payload === undefined || typeof payload === 'string' || Buffer.isBuffer(payload)) {
      if (typeof payload === 'string') this.#headers['content-type'] ??= 'text/plain; charset=utf-8';
      else if (payload !== undefined) this.#headers['content-type'] ??= 'application/octet-stream';
      return payload;
    }
    if (isStream(payload)) return payload;
    this.#headers['content-type'] ??= JSON_TYPE;
    return JSON.stringify(payload);
  }

  /** The hooks in order; a hook that answers at once costs no promise. Any throw is answered, never lost. */
  #runHooks(payload: Payload, from: number): void {
    let current = payload;
    try {
      for (let i = from; i < this.#onSend.length; i++) {
        const out = (this.#onSend[i] as SendHook)(this.request, this, current);
        if (out instanceof Promise) {
          const before = current;
          out.then(
            (next) => this.#runHooks(next, i + 1),
            (err: unknown) => this.#failed(err, before),
          );
          return;
        }
        current = out;
      }
    } catch (err) {
      this.#failed(err, current);
      return;
    }
    this.#writeOrFail(current);
  }

  #writeOrFail(payload: Payload): void {
    try {
      this.#write(payload);
    } catch (err) {
      this.#failed(err, payload); // e.g. a header value node refuses: answered without the route's headers
    }
  }

  /**
   * Sending failed (a send hook threw, the payload or a header could not be written): the error is answered
   * instead, without the route's headers and without the hooks (a hook failing again must not loop); an error
   * answer that fails too ends the connection (see ApiServer).
   */
  #failed(err: unknown, payload: unknown): void {
    if (isStream(payload)) payload.destroy();
    if (this.#hooksFailed || this.raw.headersSent) {
      this.raw.destroy();
      return;
    }
    this.#hooksFailed = true;
    for (const name of Object.keys(this.#headers)) delete this.#headers[name];
    this.sent = false;
    this.#onError(err, this);
  }

  #write(payload: Payload): void {
    const res = this.raw;
    if (res.headersSent || res.destroyed) {
      if (isStream(payload)) payload.destroy();
      return;
    }
    if (isStream(payload)) {
      this.#pipe(payload);
      return;
    }
    if (BODILESS.has(this.statusCode)) this.#dropBodyHeaders();
    else this.#headers['content-length'] = String(lengthOf(payload));
    res.writeHead(this.statusCode, this.#headers);
    res.end(BODILESS.has(this.statusCode) ? undefined : payload); // node drops a HEAD's body itself
  }

  /** A stream goes out as it comes, its headers at once; it is not even read when no body may go out. */
  #pipe(payload: Readable): void {
    const res = this.raw;
    if (BODILESS.has(this.statusCode) || this.request.method === 'HEAD') {
      payload.destroy(); // `HEAD /events` must end too
      if (BODILESS.has(this.statusCode)) this.#dropBodyHeaders();
      res.writeHead(this.statusCode, this.#headers);
      res.end();
      return;
    }
    res.writeHead(this.statusCode, this.#headers);
    res.flushHeaders();
    pipeline(payload, res, (err) => {
      if (err && !res.destroyed) res.destroy(err); // a stream that broke midway cannot be answered any more
    });
  }

  #dropBodyHeaders(): void {
    delete this.#headers['content-type'];
    delete this.#headers['content-length'];
  }
}

function lengthOf(payload: string | Buffer | undefined): number {
  if (payload === undefined) return 0;
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
}
